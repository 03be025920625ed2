// Distance kernels for the vector store: Highway SIMD with run-time dispatch
// (AVX-512, AVX2, SSE4, or portable scalar code, chosen once per CPU).
//
// Every search ranks by a distance where smaller is closer:
//   kL2:           squared Euclidean distance  sum (a_i - b_i)^2
//   kInnerProduct: negated inner product       -sum a_i b_i
//   kCosine:       1 - cos(a, b), computed as 1 - a.b on vectors the store
//                  normalized to unit length when they were added.
// Pointers need no alignment; any dimension works (up to kMaxDim for the
// int8 kernel). Stateless; thread-safe.
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

// Scales v to unit length (leaves an all-zero vector alone), also when its
// squares overflow a float. Returns the original norm (infinite when it
// exceeds the largest float).
float Normalize(float* v, size_t dim);

// int8 rows with one scale each, for the compact copy large scans read.
// codes[i] = round(v[i] / scale), scale = max |v[i]| / 127; a row whose
// largest element is below kInt8MinMax (an all-zero row too) gets scale 0
// and zero codes. norm is |v| (to nearest). error bounds the whole
// approximation: for any query q and d = the float dot product of q with
// the codes (DotManyInt8), |q.v - scale * d| <= NormUpperBound(q) * error.
inline constexpr float kInt8MinMax = 1e-25f;
struct Int8Row {
  float scale = 0;
  float norm = 0;
  float error = 0;
};
Int8Row ToInt8Row(const float* v, size_t dim, int8_t* codes);
// out = in scaled to unit length, the norm taken in double (for finite
// elements whose squares overflow a float); returns the norm. in may be out.
double NormalizeInDouble(const float* in, float* out, size_t dim);
// |q| rounded up to a float.
float NormUpperBound(const float* q, size_t dim);
// The relative rounding error of a float dot product or sum of squares over
// dim elements, generously (4 dim 2^-23).
inline float Int8RoundingUnit(size_t dim) { return 4.0f * static_cast<float>(dim) * 0x1p-23f; }
// out[r] = query . rows[r] for int8 rows (stride in elements). REQUIRES:
// dim <= kMaxDim, and stride >= dim rounded up to a multiple of 16; the
// elements past dim are read but do not count.
void DotManyInt8(const float* query, const int8_t* rows, size_t stride, size_t count, size_t dim,
                 float* out);

// Bounds of the distances from a query q (qn = NormUpperBound(q), qq the
// float Dot(q, q)) to n int8 rows, given dots[i] (DotManyInt8) and each
// row's scale, error and norm (ToInt8Row): lower[i] <= Distance(q, row) <=
// upper[i], for the distance the float kernels compute as well as the exact
// one. A bound that overflows is -inf / +inf.
void Int8Bounds(Metric metric, float qn, float qq, size_t dim, const float* dots,
                const float* scales, const float* errors, const float* norms, size_t n,
                float* lower, float* upper);

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
