// Distance kernels for the vector store: Highway SIMD with run-time dispatch
// (AVX-512, AVX2, SSE4, or portable scalar code, chosen once per CPU).
//
// Every search ranks by a distance where smaller is closer:
//   kL2:           squared Euclidean distance  sum (a_i - b_i)^2
//   kInnerProduct: negated inner product       -sum a_i b_i
//   kCosine:       1 - cos(a, b), computed as 1 - a.b on vectors the store
//                  normalized to unit length when they were added.
// Pointers need no alignment; any dimension works. Stateless; thread-safe.
#ifndef HANSHIRO_VECTOR_DISTANCE_H_
#define HANSHIRO_VECTOR_DISTANCE_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace hanshiro::vector {

enum class Metric : uint8_t { kCosine = 1, kInnerProduct = 2, kL2 = 3 };

std::string_view MetricName(Metric metric);

float Dot(const float* a, const float* b, size_t dim);
float L2Squared(const float* a, const float* b, size_t dim);

// out[r] = Distance(metric, query, rows + r * stride) for r < count: one
// query against consecutive rows (stride in floats), several rows per pass
// so the query is loaded once for all of them.
void DistanceMany(Metric metric, const float* query, const float* rows, size_t stride,
                  size_t count, size_t dim, float* out);

// The same for rows anywhere in memory: out[r] = Distance(metric, query, rows[r]).
void DistanceGather(Metric metric, const float* query, const float* const* rows, size_t count,
                    size_t dim, float* out);

// Distance between two vectors, as DistanceMany computes it.
float Distance(Metric metric, const float* a, const float* b, size_t dim);

// Scales v to unit length (leaves an all-zero vector alone). Returns the
// original norm.
float Normalize(float* v, size_t dim);

// bfloat16: the upper 16 bits of a float, rounded to nearest even. Its
// relative error is at most 2^-8 (7 stored mantissa bits, rounded), so
// |a.b - a.bf16(b)| <= 2^-8 |a| |b| (plus float rounding of the sum).
inline uint16_t ToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits += 0x7fff + ((bits >> 16) & 1);  // round to nearest, ties to even (finite inputs)
  return static_cast<uint16_t>(bits >> 16);
}
// out[i] = ToBf16(in[i]) for i < n.
void ToBf16Many(const float* in, uint16_t* out, size_t n);
// out[r] = query . rows[r] for bfloat16 rows (stride in elements).
void DotManyBf16(const float* query, const uint16_t* rows, size_t stride, size_t count,
                 size_t dim, float* out);

// The index of the first element of v[0, n) that is infinite or NaN; n when
// there is none.
size_t FirstNonFinite(const float* v, size_t n);

// One pass that stores a new row: out = in, scaled to unit length when
// `normalize` (an all-zero vector stays zero). Returns the norm of `in`. out
// holds the same values as a copy followed by Normalize (normalize) or the
// copy alone.
float StoreRow(const float* in, float* out, size_t dim, bool normalize);

// The name of the instruction set the kernels run with on this CPU.
std::string_view KernelTarget();

}  // namespace hanshiro::vector

#endif  // HANSHIRO_VECTOR_DISTANCE_H_
