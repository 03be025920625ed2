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
  if (!l2) {
    const float base = metric == 1 ? 1.0f : 0.0f;  // cosine: 1 - dot; inner product: -dot
    for (size_t k = 0; k < count; ++k) out[k] = base - out[k];
  }
  // Sums that overflow both ways (inner product) give NaN, which does not
  // order: such a row is as far as can be.
  for (size_t k = 0; k < count; ++k) {
    if (std::isnan(out[k])) out[k] = INFINITY;
  }
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

// The codes and scale of one int8 row, and an upper bound of its
// quantization error |v - scale * codes| (-1 with scale 0 for a row too small
// to scale); ToInt8Row adds the rest.
float ScaleToInt8Impl(const float* HWY_RESTRICT v, size_t dim, int8_t* HWY_RESTRICT codes,
                      float* resid) {
  const hn::ScalableTag<float> d;
  const hn::RebindToSigned<decltype(d)> di;
  const hn::Rebind<int8_t, decltype(d)> d8;
  const size_t n = hn::Lanes(d);
  auto vmax = hn::Zero(d);
  size_t i = 0;
  for (; i + n <= dim; i += n) vmax = hn::Max(vmax, hn::Abs(hn::LoadU(d, v + i)));
  float max = hn::GetLane(hn::MaxOfLanes(d, vmax));
  for (; i < dim; ++i) max = std::max(max, std::abs(v[i]));
  if (!(max >= kInt8MinMax)) {  // zero, or too small to scale without underflow
    for (i = 0; i < dim; ++i) codes[i] = 0;
    *resid = -1;
    return 0;
  }
  const float inv = 127.0f / max;
  const float scale = max / 127.0f;
  const auto vinv = hn::Set(d, inv);
  auto e2 = hn::Zero(d);
  float tail = 0;
  for (i = 0; i + n <= dim; i += n) {
    const auto x = hn::Mul(hn::LoadU(d, v + i), vinv);
    const auto r = hn::Round(x);
    hn::StoreU(hn::DemoteTo(d8, hn::ConvertTo(di, r)), d8, codes + i);
    const auto e = hn::Sub(x, r);
    e2 = hn::MulAdd(e, e, e2);
  }
  for (; i < dim; ++i) {
    const float x = v[i] * inv;
    const float r = std::nearbyint(x);
    codes[i] = static_cast<int8_t>(r);
    tail += (x - r) * (x - r);
  }
  const float squares = hn::GetLane(hn::SumOfLanes(d, e2)) + tail;
  // x differs from v / scale by at most 3 roundings of a value below 128
  // (2^-15 per element, generously); the sum carries one relative error
  // of at most dim * 2^-24.
  const float fdim = static_cast<float>(dim);
  *resid = scale * (std::sqrt(squares) * (1 + fdim * 0x1p-23f) + std::sqrt(fdim) * 0x1p-15f) *
           (1 + 0x1p-20f);
  return scale;
}

// lower/upper = approx -/+ slack for n int8 rows (see distance.h).
void Int8BoundsImpl(uint8_t metric, float qn, float qq, size_t dim, const float* HWY_RESTRICT dots,
                    const float* HWY_RESTRICT scales, const float* HWY_RESTRICT errors,
                    const float* HWY_RESTRICT norms, size_t n, float* HWY_RESTRICT lower,
                    float* HWY_RESTRICT upper) {
  const hn::ScalableTag<float> d;
  const size_t lanes = hn::Lanes(d);
  const bool l2 = metric == 3;
  const float unit = Int8RoundingUnit(dim);
  // Relative terms cannot cover what rounds away below the smallest normal
  // float, in these sums or in the exact kernel's: at most half the
  // smallest subnormal per operation, so a few per element.
  const auto tiny = hn::Set(d, (4.0f * static_cast<float>(dim) + 16.0f) * 0x1p-149f);
  const auto vqn = hn::Set(d, qn), vqq = hn::Set(d, qq), vunit = hn::Set(d, unit);
  const auto vbase = hn::Set(d, metric == 1 ? 1.0f : 0.0f);
  const auto inf = hn::Set(d, INFINITY), neg_inf = hn::Set(d, -INFINITY);
  auto one = [&](auto dot, auto error, auto vn, float* lo, float* hi, size_t count) {
    hn::Vec<decltype(d)> approx, slack;
    const auto sum = hn::Add(vqn, vn);
    if (l2) {
      approx = hn::MulAdd(vn, vn, hn::NegMulAdd(hn::Set(d, 2.0f), dot, vqq));
      slack = hn::MulAdd(vunit, hn::Mul(sum, sum), hn::Mul(hn::Set(d, 2.0f), hn::Mul(vqn, error)));
    } else {
      approx = hn::Sub(vbase, dot);
      slack = hn::Mul(vqn, error);
    }
    slack = hn::Add(slack, tiny);
    auto l = hn::Sub(approx, slack), h = hn::Add(approx, slack);
    // Overflow, here or possibly in the exact kernel's sums (each at most
    // (|q| + |v|)^2 in magnitude): no bound, so the row is always re-ranked.
    const auto ok = hn::And(hn::And(hn::IsFinite(l), hn::IsFinite(h)),
                            hn::Lt(hn::Mul(sum, sum), hn::Set(d, 0x1p126f)));
    l = hn::IfThenElse(ok, l, neg_inf);
    h = hn::IfThenElse(ok, h, inf);
    HWY_ALIGN float lbuf[hn::MaxLanes(d)], hbuf[hn::MaxLanes(d)];
    hn::Store(l, d, lbuf);
    hn::Store(h, d, hbuf);
    for (size_t j = 0; j < count; ++j) {
      lo[j] = lbuf[j];
      hi[j] = hbuf[j];
    }
  };
  size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const auto dot = hn::Mul(hn::LoadU(d, scales + i), hn::LoadU(d, dots + i));
    one(dot, hn::LoadU(d, errors + i), hn::LoadU(d, norms + i), lower + i, upper + i, lanes);
  }
  if (i < n) {
    const size_t rest = n - i;
    const auto dot = hn::Mul(LoadTail(d, scales + i, rest), LoadTail(d, dots + i, rest));
    one(dot, LoadTail(d, errors + i, rest), LoadTail(d, norms + i, rest), lower + i, upper + i,
        rest);
  }
}

#if HWY_TARGET == HWY_SCALAR
void DotManyInt8Impl(const float* q, const int8_t* rows, size_t stride, size_t count, size_t dim,
                     float* out) {
  for (size_t r = 0; r < count; ++r) {
    float sum = 0;
    for (size_t i = 0; i < dim; ++i) sum += q[i] * rows[r * stride + i];
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

// Sums of four rows' accumulators, stored to out[0, 4): one transpose of
// the four vectors, not four horizontal sums.
template <class D>
HWY_INLINE void StoreFourSums(D d, hn::Vec<D> s0, hn::Vec<D> s1, hn::Vec<D> s2, hn::Vec<D> s3,
                              float* HWY_RESTRICT out) {
  const hn::Repartition<uint64_t, D> d64;
  // Per block: [s0 s1 s0 s1] halves, then [s0 s1 s2 s3].
  const auto t01 = hn::Add(hn::InterleaveLower(s0, s1), hn::InterleaveUpper(d, s0, s1));
  const auto t23 = hn::Add(hn::InterleaveLower(s2, s3), hn::InterleaveUpper(d, s2, s3));
  const auto u01 = hn::BitCast(d64, t01), u23 = hn::BitCast(d64, t23);
  StoreBlockSum(d, hn::Add(hn::BitCast(d, hn::InterleaveLower(u01, u23)),
                           hn::BitCast(d, hn::InterleaveUpper(d64, u01, u23))), out);
}

// Dot products of a float query with int8 rows, four rows per pass, each
// group of lanes widened to int32 and converted; two accumulators per row.
// The query is zero-padded to whole vectors, so the rows' padding (which
// stride must hold) is multiplied by zero.
void DotManyInt8Impl(const float* q, const int8_t* rows, size_t stride, size_t count, size_t dim,
                     float* out) {
  const hn::ScalableTag<float> d;
  const hn::RebindToSigned<decltype(d)> di;
  const hn::Rebind<int8_t, decltype(d)> d8;
  const size_t n = hn::Lanes(d);
  const size_t padded = (dim + n - 1) / n * n;
  HWY_ALIGN float qp[kMaxDim + hn::MaxLanes(d)];
  for (size_t i = 0; i < padded; ++i) qp[i] = i < dim ? q[i] : 0.0f;
  auto widen = [&](const int8_t* p) { return hn::ConvertTo(d, hn::PromoteTo(di, hn::LoadU(d8, p))); };
  for (size_t r = 0; r < count; r += 4) {
    const int8_t* p[4];
    for (size_t k = 0; k < 4; ++k) p[k] = rows + std::min(r + k, count - 1) * stride;
    auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
    auto b0 = hn::Zero(d), b1 = hn::Zero(d), b2 = hn::Zero(d), b3 = hn::Zero(d);
    size_t i = 0;
    for (; i + 2 * n <= padded; i += 2 * n) {
      const auto q0 = hn::Load(d, qp + i), q1 = hn::Load(d, qp + i + n);
      a0 = hn::MulAdd(q0, widen(p[0] + i), a0);
      b0 = hn::MulAdd(q1, widen(p[0] + i + n), b0);
      a1 = hn::MulAdd(q0, widen(p[1] + i), a1);
      b1 = hn::MulAdd(q1, widen(p[1] + i + n), b1);
      a2 = hn::MulAdd(q0, widen(p[2] + i), a2);
      b2 = hn::MulAdd(q1, widen(p[2] + i + n), b2);
      a3 = hn::MulAdd(q0, widen(p[3] + i), a3);
      b3 = hn::MulAdd(q1, widen(p[3] + i + n), b3);
    }
    if (i < padded) {
      const auto q0 = hn::Load(d, qp + i);
      a0 = hn::MulAdd(q0, widen(p[0] + i), a0);
      a1 = hn::MulAdd(q0, widen(p[1] + i), a1);
      a2 = hn::MulAdd(q0, widen(p[2] + i), a2);
      a3 = hn::MulAdd(q0, widen(p[3] + i), a3);
    }
    float sums[4];
    StoreFourSums(d, hn::Add(a0, b0), hn::Add(a1, b1), hn::Add(a2, b2), hn::Add(a3, b3), sums);
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
HWY_EXPORT(DotManyInt8Impl);
HWY_EXPORT(ScaleToInt8Impl);
HWY_EXPORT(Int8BoundsImpl);
HWY_EXPORT(FirstNonFiniteImpl);
HWY_EXPORT(StoreRowImpl);

void Int8Bounds(Metric metric, float qn, float qq, size_t dim, const float* dots,
                const float* scales, const float* errors, const float* norms, size_t n,
                float* lower, float* upper) {
  HWY_DYNAMIC_DISPATCH(Int8BoundsImpl)
  (static_cast<uint8_t>(metric), qn, qq, dim, dots, scales, errors, norms, n, lower, upper);
}

namespace {

// The sum of squares in double: for vectors whose float sum overflows or
// underflows.
double SquaresInDouble(const float* v, size_t dim) {
  double squares = 0;
  for (size_t i = 0; i < dim; ++i) squares += double{v[i]} * v[i];
  return squares;
}

// The float at or above x.
float RoundUp(double x) {
  const auto f = static_cast<float>(x);
  return static_cast<double>(f) >= x ? f : std::nextafter(f, INFINITY);
}

}  // namespace

double NormalizeInDouble(const float* in, float* out, size_t dim) {
  const double norm = std::sqrt(SquaresInDouble(in, dim));
  const double scale = 1 / norm;
  for (size_t i = 0; i < dim; ++i) out[i] = static_cast<float>(in[i] * scale);
  return norm;
}

Int8Row ToInt8Row(const float* v, size_t dim, int8_t* codes) {
  Int8Row row;
  float resid;
  row.scale = HWY_DYNAMIC_DISPATCH(ScaleToInt8Impl)(v, dim, codes, &resid);
  row.norm = std::sqrt(Dot(v, v, dim));
  // In double when the float sum overflows or underflows (always so for a
  // row too small to scale, which is bounded by its norm).
  if (!(std::isfinite(row.norm) && row.norm >= 1e-18f)) {
    const double norm = std::sqrt(SquaresInDouble(v, dim));
    row.norm = static_cast<float>(norm);
    if (resid < 0) resid = RoundUp(norm);
  }
  // Plus the dot product's rounding, rounded up.
  const float unit = Int8RoundingUnit(dim);
  row.error = std::nextafter(resid + unit * (row.norm + resid) * (1 + 0x1p-20f), INFINITY);
  return row;
}

float NormUpperBound(const float* q, size_t dim) { return RoundUp(std::sqrt(SquaresInDouble(q, dim))); }

void DotManyInt8(const float* query, const int8_t* rows, size_t stride, size_t count, size_t dim,
                 float* out) {
  HWY_DYNAMIC_DISPATCH(DotManyInt8Impl)(query, rows, stride, count, dim, out);
}
size_t FirstNonFinite(const float* v, size_t n) {
  return HWY_DYNAMIC_DISPATCH(FirstNonFiniteImpl)(v, n);
}

float StoreRow(const float* in, float* out, size_t dim, bool normalize) {
  return HWY_DYNAMIC_DISPATCH(StoreRowImpl)(in, out, dim, normalize);
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
  if (std::isinf(norm)) return static_cast<float>(NormalizeInDouble(v, v, dim));
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
