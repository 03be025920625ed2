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

// The quantization error of a row, exactly (in double).
double RefInt8Error(const float* v, size_t dim, float scale, const int8_t* codes) {
  double squares = 0;
  for (size_t i = 0; i < dim; ++i) {
    const double e = double{v[i]} - double{scale} * codes[i];
    squares += e * e;
  }
  return std::sqrt(squares);
}

TEST(DistanceTest, Int8RowsBoundTheirError) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0, 1);
  ForEachSimdTarget([&] {
    for (size_t dim : kDims) {
      // Unit-scale rows, one element dominating, rows scaled far down and
      // up, and one whose largest element is just above kInt8MinMax (the
      // rest below the smallest normal float).
      for (double magnitude : {1.0, 1e-20, 1e20, 1e36, 0.0}) {
        for (bool dominated : {false, true}) {
          std::vector<float> v(dim);
          for (float& x : v) x = static_cast<float>(normal(rng) * magnitude);
          if (magnitude == 0.0) {
            for (float& x : v) x = normal(rng) * 1e-39f;  // subnormal
          }
          if (dominated || magnitude == 0.0) {
            v[dim / 2] = magnitude == 0.0 ? 2 * kInt8MinMax : static_cast<float>(50 * magnitude);
          }
          std::vector<int8_t> codes(dim + 1, 99);
          const Int8Row row = ToInt8Row(v.data(), dim, codes.data());
          ASSERT_GT(row.scale, 0) << dim << " " << magnitude;
          EXPECT_EQ(codes[dim], 99) << "wrote past the row, dim " << dim;
          for (size_t i = 0; i < dim; ++i) {
            ASSERT_LE(std::abs(int{codes[i]}), 127);
            // Round to nearest: within half a step (and a rounding).
            EXPECT_LE(std::abs(double{v[i]} - double{row.scale} * codes[i]),
                      double{row.scale} * 0.5001) << "dim " << dim << " element " << i;
          }
          const double exact = RefInt8Error(v.data(), dim, row.scale, codes.data());
          const double norm = std::sqrt(RefDot(v.data(), v.data(), dim));
          EXPECT_NEAR(row.norm, norm, norm * 1e-5) << "dim " << dim;
          // error covers the quantization and the dot product's rounding,
          // and is not much more.
          EXPECT_GE(row.error, exact) << "dim " << dim << " magnitude " << magnitude;
          EXPECT_LE(row.error, exact * 1.01 + row.scale * std::sqrt(double(dim)) * 1e-3 +
                                   Int8RoundingUnit(dim) * 2 * norm)
              << "dim " << dim << " magnitude " << magnitude;
        }
      }
      // Too small to scale (and all zero): no codes; bounded by the norm.
      for (float tiny : {0.0f, kInt8MinMax / 2, 1e-40f}) {
        std::vector<float> v(dim, tiny);
        std::vector<int8_t> codes(dim, 5);
        const Int8Row row = ToInt8Row(v.data(), dim, codes.data());
        EXPECT_EQ(row.scale, 0.0f);
        EXPECT_EQ(codes, std::vector<int8_t>(dim, 0));
        EXPECT_GE(row.error, std::sqrt(RefDot(v.data(), v.data(), dim))) << tiny;
        if (tiny > 0) {
          EXPECT_GT(row.norm, 0.0f);
        } else {
          EXPECT_EQ(row.norm, 0.0f);
        }
      }
    }
  });
}

TEST(DistanceTest, Int8DotIsWithinItsRounding) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0, 1);
  std::uniform_int_distribution<int> code(-127, 127);
  ForEachSimdTarget([&] {
    // Every tail of a vector and of a four-row pass; the rows' padding holds
    // codes that must not count.
    for (size_t dim : {1, 5, 16, 17, 31, 32, 33, 63, 64, 127, 128, 385, 4096}) {
      for (size_t count : {1, 2, 3, 4, 5, 9}) {
        // Exactly as the store pads rows: a read past the padding of the
        // last row is out of bounds (and seen by the sanitizers).
        const size_t stride = (dim + 15) / 16 * 16;
        std::vector<float> q(dim);
        for (auto& x : q) x = normal(rng);
        std::vector<int8_t> rows(count * stride, 127);
        for (size_t r = 0; r < count; ++r) {
          for (size_t i = 0; i < dim; ++i) rows[r * stride + i] = static_cast<int8_t>(code(rng));
        }
        std::vector<float> out(count + 1, -1.0f);
        DotManyInt8(q.data(), rows.data(), stride, count, dim, out.data());
        for (size_t r = 0; r < count; ++r) {
          double want = 0, magnitude = 0;
          for (size_t i = 0; i < dim; ++i) {
            want += double{q[i]} * rows[r * stride + i];
            magnitude += std::abs(double{q[i]} * rows[r * stride + i]);
          }
          EXPECT_LE(std::abs(out[r] - want), magnitude * dim * 0x1p-24 + 1e-6)
              << "dim " << dim << " count " << count << " row " << r;
        }
        EXPECT_EQ(out[count], -1.0f) << "wrote past count " << count;
      }
    }
  });
}

// The bounds hold for every metric, as the compact scan uses them: the
// distance the exact kernel computes (which re-ranking compares) and the
// exact one in double both lie between lower and upper, for rows and
// queries of every magnitude, down to where squares round to zero.
TEST(DistanceTest, Int8BoundsHoldTheDistance) {
  std::mt19937 rng(13);
  std::normal_distribution<float> normal(0, 1);
  const double kMagnitudes[] = {1, 1e-2, 1e2, 1e-30, 0x1p-75, 1e30, 0};
  ForEachSimdTarget([&] {
    for (size_t dim : {1, 3, 16, 17, 64, 128, 385}) {
      const size_t n = 37, stride = (dim + 15) / 16 * 16;
      for (Metric metric : {Metric::kCosine, Metric::kInnerProduct, Metric::kL2}) {
        for (double q_magnitude : {1.0, 1e-30, 0x1p-75, 1e20, 0.0}) {
          if (metric == Metric::kCosine && q_magnitude != 1.0) continue;  // queries are unit
          std::vector<float> rows(n * dim), q(dim);
          for (auto& x : q) x = static_cast<float>(normal(rng) * q_magnitude);
          for (size_t r = 0; r < n; ++r) {
            const double magnitude = kMagnitudes[r % std::size(kMagnitudes)];
            for (size_t i = 0; i < dim; ++i) {
              rows[r * dim + i] = static_cast<float>(normal(rng) * magnitude);
            }
            if (r % 11 == 4) {  // all elements equal: squares tie when tiny
              std::fill_n(rows.begin() + r * dim, dim, static_cast<float>(magnitude));
            }
            if (metric == Metric::kCosine) Normalize(rows.data() + r * dim, dim);
          }
          if (metric == Metric::kCosine) Normalize(q.data(), dim);
          std::vector<int8_t> codes(n * stride, 0);
          std::vector<float> scales(n), errors(n), norms(n);
          for (size_t r = 0; r < n; ++r) {  // as Chunk::BuildCompact fills them
            const Int8Row row = ToInt8Row(rows.data() + r * dim, dim, codes.data() + r * stride);
            scales[r] = row.scale;
            errors[r] = row.error;
            norms[r] = row.norm;
          }
          std::vector<float> dots(n), lower(n), upper(n);
          DotManyInt8(q.data(), codes.data(), stride, n, dim, dots.data());
          Int8Bounds(metric, NormUpperBound(q.data(), dim), Dot(q.data(), q.data(), dim), dim,
                     dots.data(), scales.data(), errors.data(), norms.data(), n, lower.data(),
                     upper.data());
          for (size_t r = 0; r < n; ++r) {
            const float* row = rows.data() + r * dim;
            const double exact = RefDistance(metric, q.data(), row, dim);
            const float kernel = Distance(metric, q.data(), row, dim);
            ASSERT_FALSE(std::isnan(kernel)) << MetricName(metric) << " dim " << dim << " row " << r;
            EXPECT_LE(lower[r], std::min<double>(exact, kernel))
                << MetricName(metric) << " dim " << dim << " row " << r << " q " << q_magnitude;
            EXPECT_GE(upper[r], std::max<double>(exact, kernel))
                << MetricName(metric) << " dim " << dim << " row " << r << " q " << q_magnitude;
          }
        }
      }
    }
    // Inner-product sums that overflow both ways: the kernel gives +inf (as
    // far as can be), never NaN, and the bounds give no bound.
    {
      // The row's norm (2e38) is finite; partial sums of its products with
      // the query (+-2e38 each) overflow.
      std::vector<float> v(16), q2(16, 4.0f);
      for (size_t i = 0; i < 16; ++i) v[i] = i % 2 == 0 ? 5e37f : -5e37f;
      std::vector<int8_t> c(16);
      const Int8Row row = ToInt8Row(v.data(), 16, c.data());
      float dot, lo, hi;
      DotManyInt8(q2.data(), c.data(), 16, 1, 16, &dot);
      Int8Bounds(Metric::kInnerProduct, NormUpperBound(q2.data(), 16), Dot(q2.data(), q2.data(), 16),
                 16, &dot, &row.scale, &row.error, &row.norm, 1, &lo, &hi);
      EXPECT_EQ(lo, -INFINITY);
      EXPECT_EQ(hi, INFINITY);
      EXPECT_FALSE(std::isnan(Distance(Metric::kInnerProduct, q2.data(), v.data(), 16)));
    }
    // A bound that overflows gives no bound.
    const float huge[2] = {3e38f, 3e38f}, q[2] = {1, 1};
    int8_t codes[16] = {};
    const Int8Row row = ToInt8Row(huge, 2, codes);
    float dot, lower, upper;
    DotManyInt8(q, codes, 16, 1, 2, &dot);
    Int8Bounds(Metric::kL2, NormUpperBound(q, 2), 2, 2, &dot, &row.scale, &row.error, &row.norm,
               1, &lower, &upper);
    EXPECT_EQ(lower, -INFINITY);
    EXPECT_EQ(upper, INFINITY);
  });
}

TEST(DistanceTest, NormalizeMakesUnitVectors) {
  std::vector<float> v = {3, 4};
  EXPECT_FLOAT_EQ(Normalize(v.data(), 2), 5.0f);
  EXPECT_FLOAT_EQ(v[0], 0.6f);
  EXPECT_FLOAT_EQ(v[1], 0.8f);
  std::vector<float> huge = {3e20f, 4e20f};  // squares overflow a float
  EXPECT_FLOAT_EQ(Normalize(huge.data(), 2), 5e20f);
  EXPECT_FLOAT_EQ(huge[0], 0.6f);
  EXPECT_FLOAT_EQ(huge[1], 0.8f);
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
