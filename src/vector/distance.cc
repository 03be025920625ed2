// Compiled once per SIMD target by Highway (foreach_target.h re-includes
// this file); the dispatch table picks the best one at run time.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "vector/distance.cc"
#define HWY_COMPILE_ALL_ATTAINABLE  // keep the scalar target, so tests can force it
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "vector/distance.h"

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

// Sum over i < dim of f(a_i, b_i) for f = a*b (kDot) or (a-b)^2.
template <bool kSquaredDiff>
HWY_INLINE float Reduce(const float* HWY_RESTRICT a, const float* HWY_RESTRICT b, size_t dim) {
  const hn::ScalableTag<float> d;
  const size_t n = hn::Lanes(d);
  auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
  auto step = [&](auto& s, size_t i) {
    const auto va = hn::LoadU(d, a + i);
    const auto vb = hn::LoadU(d, b + i);
    if constexpr (kSquaredDiff) {
      const auto diff = hn::Sub(va, vb);
      s = hn::MulAdd(diff, diff, s);
    } else {
      s = hn::MulAdd(va, vb, s);
    }
  };
  size_t i = 0;
  for (; i + 4 * n <= dim; i += 4 * n) {
    step(s0, i);
    step(s1, i + n);
    step(s2, i + 2 * n);
    step(s3, i + 3 * n);
  }
  for (; i + n <= dim; i += n) step(s0, i);
  if (i < dim) {  // the tail, in one masked step
    const auto va = LoadTail(d, a + i, dim - i);
    const auto vb = LoadTail(d, b + i, dim - i);
    if constexpr (kSquaredDiff) {
      const auto diff = hn::Sub(va, vb);
      s1 = hn::MulAdd(diff, diff, s1);
    } else {
      s1 = hn::MulAdd(va, vb, s1);
    }
  }
  const auto sum = hn::Add(hn::Add(s0, s1), hn::Add(s2, s3));
  return hn::GetLane(hn::SumOfLanes(d, sum));
}

float DotImpl(const float* a, const float* b, size_t dim) { return Reduce<false>(a, b, dim); }
float L2SquaredImpl(const float* a, const float* b, size_t dim) {
  return Reduce<true>(a, b, dim);
}

// Four rows per pass share each load of the query.
template <bool kSquaredDiff>
HWY_INLINE void ReduceFour(const float* HWY_RESTRICT q, const float* HWY_RESTRICT r,
                           size_t stride, size_t dim, float* out) {
  const hn::ScalableTag<float> d;
  const size_t n = hn::Lanes(d);
  auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
  auto add = [&](auto& s, const auto& vq, const auto& vr) {
    if constexpr (kSquaredDiff) {
      const auto diff = hn::Sub(vq, vr);
      s = hn::MulAdd(diff, diff, s);
    } else {
      s = hn::MulAdd(vq, vr, s);
    }
  };
  size_t i = 0;
  for (; i + n <= dim; i += n) {
    const auto vq = hn::LoadU(d, q + i);
    add(s0, vq, hn::LoadU(d, r + i));
    add(s1, vq, hn::LoadU(d, r + stride + i));
    add(s2, vq, hn::LoadU(d, r + 2 * stride + i));
    add(s3, vq, hn::LoadU(d, r + 3 * stride + i));
  }
  if (i < dim) {
    const size_t rest = dim - i;
    const auto vq = LoadTail(d, q + i, rest);
    add(s0, vq, LoadTail(d, r + i, rest));
    add(s1, vq, LoadTail(d, r + stride + i, rest));
    add(s2, vq, LoadTail(d, r + 2 * stride + i, rest));
    add(s3, vq, LoadTail(d, r + 3 * stride + i, rest));
  }
  out[0] = hn::GetLane(hn::SumOfLanes(d, s0));
  out[1] = hn::GetLane(hn::SumOfLanes(d, s1));
  out[2] = hn::GetLane(hn::SumOfLanes(d, s2));
  out[3] = hn::GetLane(hn::SumOfLanes(d, s3));
}

// Metric codes as in distance.h: 1 cosine, 2 inner product, 3 L2.
void DistanceManyImpl(uint8_t metric, const float* q, const float* rows, size_t stride,
                      size_t count, size_t dim, float* out) {
  const bool l2 = metric == 3;
  size_t r = 0;
  for (; r + 4 <= count; r += 4) {
    if (l2) {
      ReduceFour<true>(q, rows + r * stride, stride, dim, out + r);
    } else {
      ReduceFour<false>(q, rows + r * stride, stride, dim, out + r);
    }
  }
  for (; r < count; ++r) {
    out[r] = l2 ? Reduce<true>(q, rows + r * stride, dim) : Reduce<false>(q, rows + r * stride, dim);
  }
  if (l2) return;
  const float base = metric == 1 ? 1.0f : 0.0f;  // cosine: 1 - dot; inner product: -dot
  for (size_t k = 0; k < count; ++k) out[k] = base - out[k];
}

}  // namespace hanshiro::vector::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <cmath>

namespace hanshiro::vector {

HWY_EXPORT(DotImpl);
HWY_EXPORT(L2SquaredImpl);
HWY_EXPORT(DistanceManyImpl);

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
