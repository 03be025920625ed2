#include "vector/distance.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "base/simd_test_util.h"

namespace hanshiro::vector {
namespace {

double RefDot(const float* a, const float* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += double{a[i]} * b[i];
  return s;
}
double RefL2(const float* a, const float* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; ++i) s += (double{a[i]} - b[i]) * (double{a[i]} - b[i]);
  return s;
}
double RefDistance(Metric m, const float* a, const float* b, size_t n) {
  switch (m) {
    case Metric::kL2:
      return RefL2(a, b, n);
    case Metric::kInnerProduct:
      return -RefDot(a, b, n);
    case Metric::kCosine:
      return 1.0 - RefDot(a, b, n);
  }
  return 0;
}

const size_t kDims[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
                        31, 64, 127, 128, 384, 768, 1536};

using ::hanshiro::testing::ForEachSimdTarget;

TEST(DistanceTest, KernelsMatchTheScalarReferenceOnEveryTarget) {
  EXPECT_GE(hwy::SupportedAndGeneratedTargets().size(), 2u);  // a SIMD target and a portable one
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  ForEachSimdTarget([&] {
    for (size_t dim : kDims) {
      for (size_t offset : {0, 1, 3}) {  // unaligned starts
        std::vector<float> a(dim + offset), b(dim + offset);
        for (auto& x : a) x = u(rng);
        for (auto& x : b) x = u(rng);
        const float* pa = a.data() + offset;
        const float* pb = b.data() + offset;
        const double tol = 1e-5 * std::sqrt(static_cast<double>(dim)) * 4;
        EXPECT_NEAR(Dot(pa, pb, dim), RefDot(pa, pb, dim), tol) << dim;
        EXPECT_NEAR(L2Squared(pa, pb, dim), RefL2(pa, pb, dim), tol * 4) << dim;
      }
    }
  });
}

TEST(DistanceTest, DistanceManyEqualsOneByOne) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(-1, 1);
  ForEachSimdTarget([&] {
    for (size_t dim : {1, 7, 16, 17, 128, 385}) {
      const size_t stride = dim + 5;  // rows need not be packed
      const size_t count = 11;
      std::vector<float> rows(count * stride), q(dim);
      for (auto& x : rows) x = u(rng);
      for (auto& x : q) x = u(rng);
      for (Metric m : {Metric::kCosine, Metric::kInnerProduct, Metric::kL2}) {
        for (size_t n = 0; n <= count; ++n) {
          std::vector<float> out(n + 1, 42.0f);
          DistanceMany(m, q.data(), rows.data(), stride, n, dim, out.data());
          for (size_t r = 0; r < n; ++r) {
            EXPECT_NEAR(out[r], RefDistance(m, q.data(), rows.data() + r * stride, dim),
                        1e-4 * dim)
                << MetricName(m) << " dim " << dim << " row " << r;
          }
          EXPECT_EQ(out[n], 42.0f);  // nothing written past count
          std::vector<const float*> ptrs;
          for (size_t r = 0; r < n; ++r) ptrs.push_back(rows.data() + ((r * 7) % count) * stride);
          std::vector<float> gathered(n + 1, 42.0f);
          DistanceGather(m, q.data(), ptrs.data(), n, dim, gathered.data());
          for (size_t r = 0; r < n; ++r) {
            // Bit-identical to the single-row computation, however rows are grouped.
            EXPECT_EQ(gathered[r], Distance(m, q.data(), ptrs[r], dim)) << r;
          }
        }
      }
    }
  });
}

TEST(DistanceTest, Bf16DotIsWithinItsErrorBound) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0, 1);
  ForEachSimdTarget([&] {
    // Every tail length of a 32-lane group and of a four-row pass; rows
    // padded past dim (stride > dim) with values that must not be read.
    for (size_t dim : {1, 5, 16, 17, 31, 32, 33, 63, 64, 127, 128, 385, 4096}) {
      for (size_t count : {1, 2, 3, 4, 5, 9}) {
        const size_t stride = dim + 3;
        std::vector<float> rows(count * dim), q(dim);
        for (auto& x : rows) x = normal(rng);
        for (auto& x : q) x = normal(rng);
        std::vector<uint16_t> b(count * stride, ToBf16(1e30f));
        for (size_t r = 0; r < count; ++r) {
          for (size_t i = 0; i < dim; ++i) b[r * stride + i] = ToBf16(rows[r * dim + i]);
        }
        std::vector<float> out(count + 1, -1.0f);
        DotManyBf16(q.data(), b.data(), stride, count, dim, out.data());
        for (size_t r = 0; r < count; ++r) {
          const float* row = rows.data() + r * dim;
          const double bound = std::ldexp(1.0, -8) * std::sqrt(RefDot(q.data(), q.data(), dim) *
                                                               RefDot(row, row, dim));
          EXPECT_LE(std::abs(out[r] - RefDot(q.data(), row, dim)), bound * 1.01 + 1e-5)
              << "dim " << dim << " count " << count << " row " << r;
        }
        EXPECT_EQ(out[count], -1.0f) << "wrote past count " << count;
      }
    }
  });
  ForEachSimdTarget([&] {
    std::vector<float> in(37);
    for (auto& x : in) x = normal(rng);
    in[3] = 1.00390625f;
    in[20] = 1.01171875f;
    std::vector<uint16_t> out(37);
    ToBf16Many(in.data(), out.data(), in.size());
    for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(out[i], ToBf16(in[i])) << i;
  });
  EXPECT_EQ(ToBf16(1.0f), 0x3f80);
  EXPECT_EQ(ToBf16(-2.0f), 0xc000);
  EXPECT_EQ(ToBf16(1.00390625f), 0x3f80);  // halfway: ties to even
  EXPECT_EQ(ToBf16(1.01171875f), 0x3f82);  // halfway: ties to even (up)
}

TEST(DistanceTest, NormalizeMakesUnitVectors) {
  std::vector<float> v = {3, 4};
  EXPECT_FLOAT_EQ(Normalize(v.data(), 2), 5.0f);
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  std::vector<float> zero(9, 0.0f);
  EXPECT_EQ(Normalize(zero.data(), 9), 0.0f);
  EXPECT_EQ(zero, std::vector<float>(9, 0.0f));
  EXPECT_FALSE(KernelTarget().empty());
}

// StoreRow must leave exactly what a copy and Normalize leave.
TEST(DistanceTest, StoreRowEqualsCopyAndNormalizeOnEveryTarget) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0, 3);
  ForEachSimdTarget([&] {
    for (size_t dim : kDims) {
      for (bool normalize : {false, true}) {
        std::vector<float> in(dim + 1);  // from offset 1: unaligned
        for (float& x : in) x = normal(rng);
        std::vector<float> want(in.begin() + 1, in.end());
        const float want_norm = normalize ? Normalize(want.data(), dim)
                                          : std::sqrt(Dot(want.data(), want.data(), dim));
        std::vector<float> out(dim + 1, -1.0f);
        const float norm = StoreRow(in.data() + 1, out.data(), dim, normalize);
        ASSERT_EQ(norm, want_norm) << "dim " << dim;
        ASSERT_EQ(std::vector<float>(out.begin(), out.begin() + dim), want) << "dim " << dim;
        EXPECT_EQ(out[dim], -1.0f) << "wrote past the row, dim " << dim;
      }
    }
    std::vector<float> zero(9, 0.0f);
    std::vector<float> out(9, 1.0f);
    EXPECT_EQ(StoreRow(zero.data(), out.data(), 9, true), 0.0f);
    EXPECT_EQ(out, zero);
  });
}

TEST(DistanceTest, FirstNonFiniteFindsEachKindAtEveryPosition) {
  ForEachSimdTarget([&] {
    for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{16}, size_t{37}, size_t{128}}) {
      std::vector<float> v(n, 1.5f);
      EXPECT_EQ(FirstNonFinite(v.data(), n), n);
      for (size_t at = 0; at < n; ++at) {
        for (float bad : {std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN()}) {
          v[at] = bad;
          if (at + 1 < n) v[n - 1] = bad;  // a later one must not be reported first
          ASSERT_EQ(FirstNonFinite(v.data(), n), at) << "n " << n << " at " << at;
          std::fill(v.begin(), v.end(), 1.5f);
        }
      }
      // The largest finite values and denormals are finite.
      if (n >= 3) {
        v[0] = std::numeric_limits<float>::max();
        v[1] = -std::numeric_limits<float>::max();
        v[2] = std::numeric_limits<float>::denorm_min();
        EXPECT_EQ(FirstNonFinite(v.data(), n), n);
      }
    }
  });
}

}  // namespace
}  // namespace hanshiro::vector
