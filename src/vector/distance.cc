// Compiled once per SIMD target by Highway (foreach_target.h re-includes
// this file); the dispatch table picks the best one at run time.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "vector/distance.cc"
#define HWY_COMPILE_ALL_ATTAINABLE  // keep the scalar target, so tests can force it
#include <algorithm>
#include <cmath>

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "vector/distance.h"
#include "vector/vector_format.h"

HWY_BEFORE_NAMESPACE();
namespace hanshiro::vector::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Loads the `count` (< lanes) floats at p, zero-filling the rest, without
// touching memory past p + count (MaskedLoad may read the whole vector on
// some targets).
template <class D>
HWY_INLINE hn::Vec<D> LoadTail(D d, const float* HWY_RESTRICT p, size_t count) {
  HWY_ALIGN float buf[hn::MaxLanes(d)] = {};
  for (size_t i = 0; i < count; ++i) buf[i] = p[i];
  return hn::Load(d, buf);
}

// Every row's sum is computed the same way -- one accumulator, lanes in
// order, the tail zero-padded, then one horizontal sum -- whether it runs
// alone or four at a time, so a distance never depends on how rows were
// grouped (the compact search re-ranks with it and must agree exactly).
template <bool kSquaredDiff, class D, class V>
HWY_INLINE V Accumulate(D /*d*/, V s, V vq, V vr) {
  if constexpr (kSquaredDiff) {
    const auto diff = hn::Sub(vq, vr);
    return hn::MulAdd(diff, diff, s);
  } else {
    return hn::MulAdd(vq, vr, s);
  }
}

template <bool kSquaredDiff>
HWY_INLINE float Reduce(const float* HWY_RESTRICT a, const float* HWY_RESTRICT b, size_t dim) {
  const hn::ScalableTag<float> d;
  const size_t n = hn::Lanes(d);
  auto s = hn::Zero(d);
  size_t i = 0;
  for (; i + n <= dim; i += n) {
    s = Accumulate<kSquaredDiff>(d, s, hn::LoadU(d, a + i), hn::LoadU(d, b + i));
  }
  if (i < dim) {
    s = Accumulate<kSquaredDiff>(d, s, LoadTail(d, a + i, dim - i), LoadTail(d, b + i, dim - i));
  }
  return hn::GetLane(hn::SumOfLanes(d, s));
}

float DotImpl(const float* a, const float* b, size_t dim) { return Reduce<false>(a, b, dim); }
float L2SquaredImpl(const float* a, const float* b, size_t dim) {
  return Reduce<true>(a, b, dim);
}

// Four rows per pass share each load of the query.
template <bool kSquaredDiff>
HWY_INLINE void ReduceFour(const float* HWY_RESTRICT q, const float* HWY_RESTRICT r0,
                           const float* HWY_RESTRICT r1, const float* HWY_RESTRICT r2,
                           const float* HWY_RESTRICT r3, size_t dim, float* out) {
  const hn::ScalableTag<float> d;
  const size_t n = hn::Lanes(d);
  auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
  size_t i = 0;
  for (; i + n <= dim; i += n) {
    const auto vq = hn::LoadU(d, q + i);
    s0 = Accumulate<kSquaredDiff>(d, s0, vq, hn::LoadU(d, r0 + i));
    s1 = Accumulate<kSquaredDiff>(d, s1, vq, hn::LoadU(d, r1 + i));
    s2 = Accumulate<kSquaredDiff>(d, s2, vq, hn::LoadU(d, r2 + i));
    s3 = Accumulate<kSquaredDiff>(d, s3, vq, hn::LoadU(d, r3 + i));
  }
  if (i < dim) {
    const size_t rest = dim - i;
    const auto vq = LoadTail(d, q + i, rest);
    s0 = Accumulate<kSquaredDiff>(d, s0, vq, LoadTail(d, r0 + i, rest));
    s1 = Accumulate<kSquaredDiff>(d, s1, vq, LoadTail(d, r1 + i, rest));
    s2 = Accumulate<kSquaredDiff>(d, s2, vq, LoadTail(d, r2 + i, rest));
    s3 = Accumulate<kSquaredDiff>(d, s3, vq, LoadTail(d, r3 + i, rest));
  }
  out[0] = hn::GetLane(hn::SumOfLanes(d, s0));
  out[1] = hn::GetLane(hn::SumOfLanes(d, s1));
  out[2] = hn::GetLane(hn::SumOfLanes(d, s2));
  out[3] = hn::GetLane(hn::SumOfLanes(d, s3));
}

// Distances from q to rows[0..count), four rows per pass.
template <class RowAt>
HWY_INLINE void DistanceRows(uint8_t metric, const float* q, RowAt row, size_t count, size_t dim,
                             float* out) {
  const bool l2 = metric == 3;
  size_t r = 0;
  for (; r + 4 <= count; r += 4) {
    if (l2) {
      ReduceFour<true>(q, row(r), row(r + 1), row(r + 2), row(r + 3), dim, out + r);
    } else {
      ReduceFour<false>(q, row(r), row(r + 1), row(r + 2), row(r + 3), dim, out + r);
    }
  }
  for (; r < count; ++r) out[r] = l2 ? Reduce<true>(q, row(r), dim) : Reduce<false>(q, row(r), dim);
  if (l2) return;
  const float base = metric == 1 ? 1.0f : 0.0f;  // cosine: 1 - dot; inner product: -dot
  for (size_t k = 0; k < count; ++k) out[k] = base - out[k];
}

// Stores the lanes of v as bfloat16 (ToBf16: round to nearest even).
template <class D>
HWY_INLINE void StoreBf16(D /*d*/, hn::Vec<D> v, uint16_t* HWY_RESTRICT out) {
  const hn::RebindToUnsigned<D> du;
  const hn::RebindToSigned<D> di;
  const hn::Rebind<uint16_t, D> d16;
  const auto bits = hn::BitCast(du, v);
  const auto odd = hn::And(hn::ShiftRight<16>(bits), hn::Set(du, 1));
  const auto rounded = hn::ShiftRight<16>(hn::Add(bits, hn::Add(hn::Set(du, 0x7fff), odd)));
  // The rounded halves fit in 16 bits: demote as (positive) int32.
  hn::StoreU(hn::DemoteTo(d16, hn::BitCast(di, rounded)), d16, out);
}

void ToBf16ManyImpl(const float* in, uint16_t* out, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t lanes = hn::Lanes(d);
  size_t i = 0;
  for (; i + lanes <= n; i += lanes) StoreBf16(d, hn::LoadU(d, in + i), out + i);
  for (; i < n; ++i) out[i] = ToBf16(in[i]);
}

size_t FirstNonFiniteImpl(const float* v, size_t n) {
  const hn::ScalableTag<float> d;
  const size_t lanes = hn::Lanes(d);
  size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    if (!hn::AllTrue(d, hn::IsFinite(hn::LoadU(d, v + i)))) break;
  }
  for (; i < n; ++i) {  // the tail, or the vector that held a non-finite element
    uint32_t bits;
    std::memcpy(&bits, v + i, 4);
    if ((bits & 0x7f800000u) == 0x7f800000u) return i;
  }
  return n;
}

float StoreRowImpl(const float* in, float* out, size_t dim, bool normalize) {
  const hn::ScalableTag<float> d;
  const size_t lanes = hn::Lanes(d);
  const float norm = std::sqrt(DotImpl(in, in, dim));
  const float scale = normalize && norm > 0 ? 1.0f / norm : 1.0f;
  const auto vscale = hn::Set(d, scale);
  size_t i = 0;
  for (; i + lanes <= dim; i += lanes) {
    hn::StoreU(hn::Mul(hn::LoadU(d, in + i), vscale), d, out + i);
  }
  for (; i < dim; ++i) out[i] = in[i] * scale;
  return norm;
}

#if HWY_TARGET == HWY_SCALAR
// One lane: each element widened on its own.
void DotManyBf16Impl(const float* q, const uint16_t* rows, size_t stride, size_t count,
                     size_t dim, float* out) {
  for (size_t r = 0; r < count; ++r) {
    const uint16_t* row = rows + r * stride;
    float sum = 0;
    for (size_t i = 0; i < dim; ++i) {
      hwy::bfloat16_t b;
      b.bits = row[i];
      sum += q[i] * hwy::F32FromBF16(b);
    }
    out[r] = sum;
  }
}
#else
// The float vector whose lane i is the sum of lanes i, i + 4, i + 8, ... of
// v, stored to out[0, 4): the sums of 128-bit blocks.
template <class D>
HWY_INLINE void StoreBlockSum(D d, hn::Vec<D> v, float* HWY_RESTRICT out) {
  if constexpr (hn::MaxLanes(d) > 4) {
    const hn::Half<D> dh;
    StoreBlockSum(dh, hn::Add(hn::LowerHalf(dh, v), hn::UpperHalf(dh, v)), out);
  } else {
    hn::StoreU(v, d, out);
  }
}

// Dot products of a float query with bfloat16 rows, four rows per pass.
// One load of 2N bfloat16 lanes widens to two float vectors: zipped with
// zeros, each element becomes the upper half of a float lane (ZipLower and
// ZipUpper). Those ops take lanes in their own order (per 128-bit block), so
// the query is laid out in the same order once per call, and nothing is
// shuffled per row. Four rows' sums are reduced together: one transpose of
// their accumulators, not four horizontal sums.
void DotManyBf16Impl(const float* q, const uint16_t* rows, size_t stride, size_t count,
                     size_t dim, float* out) {
  const hn::ScalableTag<float> d;
  const hn::RebindToUnsigned<decltype(d)> du;
  const hn::Repartition<uint16_t, decltype(d)> d16;
  const hn::Repartition<uint64_t, decltype(d)> d64;
  const size_t n = hn::Lanes(d), n16 = hn::Lanes(d16);
  const size_t groups = (dim + n16 - 1) / n16;
  const size_t full = dim / n16;  // groups without a tail
  // Where each float lane's element comes from within a group.
  HWY_ALIGN uint32_t from_lo[hn::MaxLanes(du)], from_hi[hn::MaxLanes(du)];
  const auto z16 = hn::Zero(d16);
  const auto iota = hn::Iota(d16, 0);
  hn::Store(hn::ShiftRight<16>(hn::ZipLower(du, z16, iota)), du, from_lo);
  hn::Store(hn::ShiftRight<16>(hn::ZipUpper(du, z16, iota)), du, from_hi);
  // The query in that order, zero past dim (dim <= kMaxDim).
  HWY_ALIGN float qp[kMaxDim + 2 * hn::MaxLanes(d)];
  for (size_t g = 0; g < groups; ++g) {
    for (size_t j = 0; j < n; ++j) {
      const size_t lo = g * n16 + from_lo[j], hi = g * n16 + from_hi[j];
      qp[2 * g * n + j] = lo < dim ? q[lo] : 0.0f;
      qp[2 * g * n + n + j] = hi < dim ? q[hi] : 0.0f;
    }
  }
  // The last, partial group of a row, zero-filled (never read past dim).
  auto tail = [&](const uint16_t* row, uint16_t* buf) {
    for (size_t i = 0; i < n16; ++i) buf[i] = full * n16 + i < dim ? row[full * n16 + i] : 0;
    return hn::Load(d16, buf);
  };
  auto widen = [&](auto v, auto* lo, auto* hi) {
    *lo = hn::BitCast(d, hn::ZipLower(du, z16, v));
    *hi = hn::BitCast(d, hn::ZipUpper(du, z16, v));
  };
  HWY_ALIGN uint16_t tail_buf[4][hn::MaxLanes(d16)];
  size_t r = 0;
  for (; r < count; r += 4) {
    // A pass of fewer than four rows repeats its last row.
    const uint16_t* p[4];
    for (size_t k = 0; k < 4; ++k) p[k] = rows + std::min(r + k, count - 1) * stride;
    auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
    auto b0 = hn::Zero(d), b1 = hn::Zero(d), b2 = hn::Zero(d), b3 = hn::Zero(d);
    for (size_t g = 0; g < groups; ++g) {
      const auto qlo = hn::Load(d, qp + 2 * g * n);
      const auto qhi = hn::Load(d, qp + 2 * g * n + n);
      const bool part = g == full;
      hn::Vec<decltype(d)> lo, hi;
      widen(part ? tail(p[0], tail_buf[0]) : hn::LoadU(d16, p[0] + g * n16), &lo, &hi);
      a0 = hn::MulAdd(qlo, lo, a0);
      b0 = hn::MulAdd(qhi, hi, b0);
      widen(part ? tail(p[1], tail_buf[1]) : hn::LoadU(d16, p[1] + g * n16), &lo, &hi);
      a1 = hn::MulAdd(qlo, lo, a1);
      b1 = hn::MulAdd(qhi, hi, b1);
      widen(part ? tail(p[2], tail_buf[2]) : hn::LoadU(d16, p[2] + g * n16), &lo, &hi);
      a2 = hn::MulAdd(qlo, lo, a2);
      b2 = hn::MulAdd(qhi, hi, b2);
      widen(part ? tail(p[3], tail_buf[3]) : hn::LoadU(d16, p[3] + g * n16), &lo, &hi);
      a3 = hn::MulAdd(qlo, lo, a3);
      b3 = hn::MulAdd(qhi, hi, b3);
    }
    const auto s0 = hn::Add(a0, b0), s1 = hn::Add(a1, b1);
    const auto s2 = hn::Add(a2, b2), s3 = hn::Add(a3, b3);
    // Per block: [s0 s1 s0 s1] halves, then [s0 s1 s2 s3].
    const auto t01 = hn::Add(hn::InterleaveLower(s0, s1), hn::InterleaveUpper(d, s0, s1));
    const auto t23 = hn::Add(hn::InterleaveLower(s2, s3), hn::InterleaveUpper(d, s2, s3));
    const auto u01 = hn::BitCast(d64, t01), u23 = hn::BitCast(d64, t23);
    const auto x = hn::Add(hn::BitCast(d, hn::InterleaveLower(u01, u23)),
                           hn::BitCast(d, hn::InterleaveUpper(d64, u01, u23)));
    float sums[4];
    StoreBlockSum(d, x, sums);
    for (size_t k = 0; k < 4 && r + k < count; ++k) out[r + k] = sums[k];
  }
}
#endif

// Metric codes as in distance.h: 1 cosine, 2 inner product, 3 L2.
void DistanceManyImpl(uint8_t metric, const float* q, const float* rows, size_t stride,
                      size_t count, size_t dim, float* out) {
  DistanceRows(metric, q, [&](size_t r) { return rows + r * stride; }, count, dim, out);
}

void DistanceGatherImpl(uint8_t metric, const float* q, const float* const* rows, size_t count,
                        size_t dim, float* out) {
  DistanceRows(metric, q, [&](size_t r) { return rows[r]; }, count, dim, out);
}

}  // namespace hanshiro::vector::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cmath>
#include <cstring>

namespace hanshiro::vector {

HWY_EXPORT(DotImpl);
HWY_EXPORT(L2SquaredImpl);
HWY_EXPORT(DistanceManyImpl);
HWY_EXPORT(DistanceGatherImpl);

void DistanceGather(Metric metric, const float* query, const float* const* rows, size_t count,
                    size_t dim, float* out) {
  HWY_DYNAMIC_DISPATCH(DistanceGatherImpl)
  (static_cast<uint8_t>(metric), query, rows, count, dim, out);
}
HWY_EXPORT(DotManyBf16Impl);
HWY_EXPORT(ToBf16ManyImpl);
HWY_EXPORT(FirstNonFiniteImpl);
HWY_EXPORT(StoreRowImpl);

size_t FirstNonFinite(const float* v, size_t n) {
  return HWY_DYNAMIC_DISPATCH(FirstNonFiniteImpl)(v, n);
}

float StoreRow(const float* in, float* out, size_t dim, bool normalize) {
  return HWY_DYNAMIC_DISPATCH(StoreRowImpl)(in, out, dim, normalize);
}

void ToBf16Many(const float* in, uint16_t* out, size_t n) {
  HWY_DYNAMIC_DISPATCH(ToBf16ManyImpl)(in, out, n);
}

void DotManyBf16(const float* query, const uint16_t* rows, size_t stride, size_t count,
                 size_t dim, float* out) {
  HWY_DYNAMIC_DISPATCH(DotManyBf16Impl)(query, rows, stride, count, dim, out);
}


std::string_view MetricName(Metric metric) {
  switch (metric) {
    case Metric::kCosine:
      return "cosine";
    case Metric::kInnerProduct:
      return "inner_product";
    case Metric::kL2:
      return "l2";
  }
  return "unknown";
}

float Dot(const float* a, const float* b, size_t dim) {
  return HWY_DYNAMIC_DISPATCH(DotImpl)(a, b, dim);
}

float L2Squared(const float* a, const float* b, size_t dim) {
  return HWY_DYNAMIC_DISPATCH(L2SquaredImpl)(a, b, dim);
}

void DistanceMany(Metric metric, const float* query, const float* rows, size_t stride,
                  size_t count, size_t dim, float* out) {
  HWY_DYNAMIC_DISPATCH(DistanceManyImpl)
  (static_cast<uint8_t>(metric), query, rows, stride, count, dim, out);
}

float Distance(Metric metric, const float* a, const float* b, size_t dim) {
  float out;
  DistanceMany(metric, a, b, 0, 1, dim, &out);
  return out;
}

float Normalize(float* v, size_t dim) {
  const float norm = std::sqrt(Dot(v, v, dim));
  if (norm > 0) {
    const float inv = 1.0f / norm;
    for (size_t i = 0; i < dim; ++i) v[i] *= inv;
  }
  return norm;
}

std::string_view KernelTarget() {
  // The first entry of the dispatch table that this CPU supports.
  return hwy::TargetName(hwy::SupportedTargets() & HWY_TARGETS & -(hwy::SupportedTargets() & HWY_TARGETS));
}

}  // namespace hanshiro::vector
#endif  // HWY_ONCE
