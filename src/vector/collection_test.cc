#include "vector/collection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "base/crc32c.h"
#include "env/test_dir.h"

namespace hanshiro::vector {
namespace {

constexpr Metric kMetrics[] = {Metric::kCosine, Metric::kInnerProduct, Metric::kL2};

std::vector<float> RandomVector(std::mt19937* rng, uint32_t dim) {
  std::normal_distribution<float> n(0, 1);
  std::vector<float> v(dim);
  for (auto& x : v) x = n(*rng);
  return v;
}

RowMeta Meta(uint64_t i) {
  RowMeta m;
  m.id = EventId(0x1000 + i, i * 7 + 1);
  m.seq = i * 2;  // gaps are fine: other records sit between
  m.time_ns = static_cast<int64_t>(i) * 1000;
  m.host_hash = i % 5;
  m.event_type = static_cast<uint16_t>(i % 3);
  m.kind = static_cast<uint8_t>(1 + i % 2);
  return m;
}

double TrueDistance(Metric m, const std::vector<float>& q, const std::vector<float>& v) {
  double dot = 0, qq = 0, vv = 0, l2 = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    dot += double{q[i]} * v[i];
    qq += double{q[i]} * q[i];
    vv += double{v[i]} * v[i];
    l2 += (double{q[i]} - v[i]) * (double{q[i]} - v[i]);
  }
  if (m == Metric::kL2) return l2;
  if (m == Metric::kInnerProduct) return -dot;
  return 1.0 - dot / std::sqrt(qq * vv);
}

// Checks `hits` against brute force in double precision over the rows that
// pass `keep`: same count, and the i-th hit is as close as the i-th true
// neighbour (so only ties within float rounding may swap).
void ExpectExact(Metric metric, const std::vector<std::vector<float>>& data,
                 const std::vector<float>& q, size_t k, const std::vector<Hit>& hits,
                 const std::function<bool(uint64_t)>& keep) {
  std::vector<std::pair<double, uint64_t>> truth;
  for (uint64_t i = 0; i < data.size(); ++i) {
    if (keep(i)) truth.emplace_back(TrueDistance(metric, q, data[i]), i);
  }
  std::sort(truth.begin(), truth.end());
  ASSERT_EQ(hits.size(), std::min(k, truth.size()));
  const double scale = metric == Metric::kCosine ? 1 : std::abs(truth.empty() ? 1 : truth[0].first) + 1;
  for (size_t i = 0; i < hits.size(); ++i) {
    const uint64_t row = hits[i].row;
    ASSERT_TRUE(keep(row)) << "hit " << i << " does not match the filter";
    EXPECT_NEAR(TrueDistance(metric, q, data[row]), truth[i].first, 1e-4 * scale)
        << MetricName(metric) << " rank " << i;
    EXPECT_EQ(hits[i].id, Meta(row).id);
  }
}

std::unique_ptr<Collection> MustOpen(const std::string& dir, uint32_t dim, Metric metric,
                                     uint64_t acknowledged, uint32_t capacity = 0) {
  auto c = Collection::Open(dir, dim, metric, acknowledged, capacity);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

class CollectionTest : public ::testing::Test {
 protected:
  testing::TestDir dir_;
};

TEST_F(CollectionTest, ExactSearchEqualsBruteForceForEveryMetric) {
  std::mt19937 rng(1);
  for (Metric metric : kMetrics) {
    const std::string path = dir_.File(std::string(MetricName(metric)));
    auto c = MustOpen(path, 37, metric, UINT64_MAX, 512);
    std::vector<std::vector<float>> data;
    for (uint64_t i = 0; i < 3000; ++i) {
      data.push_back(RandomVector(&rng, 37));
      ASSERT_TRUE(c->Add(Meta(i), data.back()).ok());
    }
    for (int t = 0; t < 5; ++t) {
      const auto q = RandomVector(&rng, 37);
      for (size_t k : {1, 10, 100}) {
        auto hits = c->Search(q, k);
        ASSERT_TRUE(hits.ok());
        ExpectExact(metric, data, q, k, *hits, [](uint64_t) { return true; });
      }
    }
  }
}

TEST_F(CollectionTest, TiesAreOrderedByRow) {
  auto c = MustOpen(dir_.path(), 4, Metric::kL2, UINT64_MAX);
  const std::vector<float> v = {1, 2, 3, 4};
  for (uint64_t i = 0; i < 20; ++i) ASSERT_TRUE(c->Add(Meta(i), v).ok());
  auto hits = *c->Search(v, 5);
  ASSERT_EQ(hits.size(), 5u);
  for (uint64_t i = 0; i < 5; ++i) {
    EXPECT_EQ(hits[i].row, i);
    EXPECT_EQ(hits[i].distance, 0.0f);
  }
}

TEST_F(CollectionTest, FiltersApplyInsideTheScan) {
  std::mt19937 rng(2);
  auto c = MustOpen(dir_.path(), 16, Metric::kCosine, UINT64_MAX, 256);
  std::vector<std::vector<float>> data;
  for (uint64_t i = 0; i < 2000; ++i) {
    data.push_back(RandomVector(&rng, 16));
    ASSERT_TRUE(c->Add(Meta(i), data.back()).ok());
  }
  const auto q = RandomVector(&rng, 16);
  Filter f;
  f.kind = 2;
  f.host_hash = 3;
  f.time_from_ns = 200'000;
  f.time_to_ns = 1'500'000;
  auto hits = *c->Search(q, 10, f);
  ExpectExact(Metric::kCosine, data, q, 10, hits, [&](uint64_t i) { return f.Matches(Meta(i)); });
  Filter type;
  type.event_type = 1;
  ExpectExact(Metric::kCosine, data, q, 25, *c->Search(q, 25, type),
              [&](uint64_t i) { return Meta(i).event_type == 1; });
  Filter none;
  none.host_hash = 99;
  EXPECT_TRUE(c->Search(q, 10, none)->empty());
}

TEST_F(CollectionTest, ThreadsGiveTheSameAnswer) {
  std::mt19937 rng(3);
  auto c = MustOpen(dir_.path(), 8, Metric::kL2, UINT64_MAX);
  for (uint64_t i = 0; i < 70000; ++i) ASSERT_TRUE(c->Add(Meta(i), RandomVector(&rng, 8)).ok());
  for (int t = 0; t < 3; ++t) {
    const auto q = RandomVector(&rng, 8);
    auto one = *c->Search(q, 10, {}, 1);
    auto two = *c->Search(q, 10, {}, 2);
    ASSERT_EQ(one.size(), two.size());
    for (size_t i = 0; i < one.size(); ++i) EXPECT_EQ(one[i].row, two[i].row);
  }
}

// Large stores scan an int8 copy and re-rank: the answer must be exactly
// that of the full-precision kernel over every row (same rows, same floats),
// also for rows dominated by one element and, where the metric keeps them,
// rows of very different lengths; and again after reopening, when the copy
// is rebuilt from the files.
TEST_F(CollectionTest, CompactScanGivesTheFullPrecisionAnswer) {
  std::mt19937 rng(8);
  const uint32_t dim = 24;
  const uint64_t n = 70000;  // above the size where the compact scan starts
  const uint64_t first = 40000;  // added before the first query, the rest after two
  for (Metric metric : kMetrics) {
    const std::string dir = dir_.File(std::string(MetricName(metric)));
    auto c = MustOpen(dir, dim, metric, UINT64_MAX);
    std::vector<std::vector<float>> stored;
    std::vector<std::vector<float>> later;
    for (uint64_t i = 0; i < n; ++i) {
      auto v = RandomVector(&rng, dim);
      if (i % 7 == 3) v[i % dim] *= 50;  // one element dominates the row
      if (i % 11 == 5) {
        for (float& x : v) x *= static_cast<float>(std::pow(10.0, static_cast<int>(i % 5) - 2));
      }
      if (i % 1000 == 0) v = stored.empty() ? v : stored.back();  // exact ties
      if (i < first) {
        ASSERT_TRUE(c->Add(Meta(i), v).ok());
      } else {
        later.push_back(v);
      }
      if (metric == Metric::kCosine) Normalize(v.data(), dim);
      stored.push_back(v);
    }
    auto removed = [](uint64_t i) { return i >= 5 && (i - 5) % 97 == 0; };
    for (uint64_t i = 5; i < first; i += 97) ASSERT_TRUE(c->Remove(Meta(i).id, 0).ok());
    Filter f;
    f.event_type = 2;
    for (int t = 0; t < 8; ++t) {
      if (t == 2) {  // rows added after the copy was built must be found
        for (uint64_t i = first; i < n; ++i) ASSERT_TRUE(c->Add(Meta(i), later[i - first]).ok());
        for (uint64_t i = first; i < n; ++i) {
          if (removed(i)) {
            ASSERT_TRUE(c->Remove(Meta(i).id, 0).ok());
          }
        }
      }
      if (t == 4) {  // the second half after reopening
        c.reset();
        c = MustOpen(dir, dim, metric, UINT64_MAX);
      }
      const uint64_t rows = t < 2 ? first : n;
      auto q = RandomVector(&rng, dim);
      const Filter& filter = t % 2 == 0 ? Filter{} : f;
      std::vector<float> nq = q;
      if (metric == Metric::kCosine) Normalize(nq.data(), dim);
      std::vector<std::pair<float, uint64_t>> truth;
      for (uint64_t i = 0; i < rows; ++i) {
        if (removed(i) || !filter.Matches(Meta(i))) continue;
        truth.emplace_back(Distance(metric, nq.data(), stored[i].data(), dim), i);
      }
      std::sort(truth.begin(), truth.end());
      for (size_t k : {1, 10, 50}) {
        // Two threads first: after the reopen they build the copy together.
        for (int threads : {2, 1}) {
          auto hits = *c->Search(q, k, filter, threads);
          ASSERT_EQ(hits.size(), k);
          for (size_t i = 0; i < k; ++i) {
            EXPECT_EQ(hits[i].row, truth[i].second) << MetricName(metric) << " k " << k << " #" << i;
            EXPECT_EQ(hits[i].distance, truth[i].first);
          }
        }
      }
    }
  }
}

// Where squares round to zero: the compact scan's bounds must still hold the
// distance the exact kernel computes. Row 100's squares (2^-150 each) round
// to zero, so its distance from a zero query is 0; row 200's is 2^-146.
TEST_F(CollectionTest, CompactScanAgreesWhereSquaresRoundToZero) {
  std::mt19937 rng(12);
  const uint32_t dim = 64;
  auto c = MustOpen(dir_.path(), dim, Metric::kL2, UINT64_MAX);
  std::vector<std::vector<float>> rows;
  for (uint64_t i = 0; i < 5000; ++i) {
    auto v = RandomVector(&rng, dim);
    if (i == 100) v.assign(dim, std::ldexp(1.0f, -75));
    if (i == 200) {
      v.assign(dim, 0.0f);
      v[0] = std::ldexp(1.0f, -73);
    }
    ASSERT_TRUE(c->Add(Meta(i), v).ok());
    rows.push_back(v);
  }
  const std::vector<float> q(dim, 0.0f);
  std::vector<std::pair<float, uint64_t>> truth;
  for (uint64_t i = 0; i < rows.size(); ++i) {
    truth.emplace_back(Distance(Metric::kL2, q.data(), rows[i].data(), dim), i);
  }
  std::sort(truth.begin(), truth.end());
  ASSERT_EQ(truth[0].second, 100u);
  for (size_t k : {1, 2, 5}) {
    auto hits = *c->Search(q, k);
    ASSERT_EQ(hits.size(), k);
    for (size_t i = 0; i < k; ++i) {
      EXPECT_EQ(hits[i].row, truth[i].second) << "k " << k << " #" << i;
      EXPECT_EQ(hits[i].distance, truth[i].first);
    }
  }
  EXPECT_TRUE(c->Search(std::vector<float>(dim, NAN), 1).status().IsInvalidArgument());
  auto inf = c->Search(std::vector<float>(dim, INFINITY), 1).status();
  EXPECT_TRUE(inf.IsInvalidArgument());
  EXPECT_NE(inf.message().find("element 0"), std::string::npos) << inf.ToString();
}

// A cosine query whose squares overflow a float is still scaled to unit
// length, not to zero: the same neighbours as the query at unit scale.
TEST_F(CollectionTest, AHugeQueryFindsWhatItsDirectionFinds) {
  std::mt19937 rng(14);
  auto c = MustOpen(dir_.path(), 16, Metric::kCosine, UINT64_MAX);
  for (uint64_t i = 0; i < 5000; ++i) ASSERT_TRUE(c->Add(Meta(i), RandomVector(&rng, 16)).ok());
  auto q = RandomVector(&rng, 16);
  std::vector<float> huge = q;
  for (float& x : huge) x *= 1e30f;
  const auto want = *c->Search(q, 10);
  const auto got = *c->Search(huge, 10);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i].row, want[i].row) << i;
}

// [VEC-8] A tombstone whose removing record the log does not have (a power
// cut kept the tombstone, not the record) is undone at open, once and for
// good; one the log acknowledges stays.
TEST_F(CollectionTest, RemovalsTheLogDidNotAcknowledgeAreUndone) {
  std::mt19937 rng(8);
  {
    auto c = MustOpen(dir_.path(), 8, Metric::kL2, UINT64_MAX);
    for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(c->Add(Meta(i), RandomVector(&rng, 8)).ok());
    ASSERT_TRUE(c->Remove(Meta(2).id, 30).ok());  // rows have seqs 0, 2, .., 18
    ASSERT_TRUE(c->Remove(Meta(3).id, 40).ok());
  }
  {
    auto c = MustOpen(dir_.path(), 8, Metric::kL2, 35);  // the log holds seqs 0..34
    EXPECT_EQ(c->open_report().revived, 1u);
    EXPECT_EQ(c->open_report().rows, 10u);
    EXPECT_EQ(c->live(), 9u);
    EXPECT_FALSE(c->Contains(Meta(2).id));  // removed by seq 30, acknowledged
    EXPECT_TRUE(c->Contains(Meta(3).id));   // removed by seq 40, which the log lost
    EXPECT_EQ(c->LiveSeq(Meta(3).id), Meta(3).seq);
    auto hits = c->Search(*c->Get(Meta(3).id), 1);
    ASSERT_EQ(hits->size(), 1u);
    EXPECT_EQ((*hits)[0].id, Meta(3).id);
  }
  auto c = MustOpen(dir_.path(), 8, Metric::kL2, 100);  // undone on disk, not only in memory
  EXPECT_EQ(c->open_report().revived, 0u);
  EXPECT_TRUE(c->Contains(Meta(3).id));
  EXPECT_FALSE(c->Contains(Meta(2).id));
}

TEST_F(CollectionTest, RemovedRowsAreNeverReturned) {
  std::mt19937 rng(4);
  auto c = MustOpen(dir_.path(), 8, Metric::kL2, UINT64_MAX);
  std::vector<std::vector<float>> data;
  for (uint64_t i = 0; i < 100; ++i) {
    data.push_back(RandomVector(&rng, 8));
    ASSERT_TRUE(c->Add(Meta(i), data.back()).ok());
  }
  for (uint64_t i = 0; i < 100; i += 2) ASSERT_TRUE(c->Remove(Meta(i).id, 0).ok());
  EXPECT_TRUE(c->Remove(Meta(0).id, 0).IsNotFound());
  EXPECT_TRUE(c->Get(Meta(0).id).status().IsNotFound());
  EXPECT_EQ(c->live(), 50u);
  auto hits = *c->Search(data[0], 100);
  EXPECT_EQ(hits.size(), 50u);
  for (const Hit& h : hits) EXPECT_EQ(h.row % 2, 1u);
  // The id can come back, as a new row.
  RowMeta again = Meta(0);
  again.seq = 1000;
  ASSERT_TRUE(c->Add(again, data[0]).ok());
  EXPECT_EQ((*c->Search(data[0], 1))[0].row, 100u);
}

TEST_F(CollectionTest, BadInputIsRejected) {
  auto c = MustOpen(dir_.path(), 3, Metric::kCosine, UINT64_MAX);
  EXPECT_TRUE(c->Add(Meta(0), std::vector<float>{1, 2}).IsInvalidArgument());
  EXPECT_TRUE(c->Add(Meta(0), std::vector<float>{1, NAN, 2}).IsInvalidArgument());
  EXPECT_TRUE(c->Add(Meta(0), std::vector<float>{1, INFINITY, 2}).IsInvalidArgument());
  ASSERT_TRUE(c->Add(Meta(5), std::vector<float>{1, 2, 3}).ok());
  EXPECT_TRUE(c->Add(Meta(4), std::vector<float>{1, 2, 3}).IsInvalidArgument());  // seq order
  RowMeta dup = Meta(5);
  dup.seq = 100;
  EXPECT_TRUE(c->Add(dup, std::vector<float>{1, 2, 3}).IsInvalidArgument());  // live id
  EXPECT_TRUE(c->Search(std::vector<float>{1, 2}, 1).status().IsInvalidArgument());
  EXPECT_TRUE(Collection::Open(dir_.File("x"), 0, Metric::kL2, 0).status().IsInvalidArgument());
  EXPECT_TRUE(Collection::Open(dir_.File("x"), 4097, Metric::kL2, 0).status().IsInvalidArgument());
  EXPECT_TRUE(Collection::Open(dir_.path(), 4, Metric::kCosine, 0).status().IsInvalidArgument());
}

TEST_F(CollectionTest, ANonFiniteVectorDropsItsWholeBatch) {
  // Chunks of 4 rows, so the batch spans three of them.
  auto c = MustOpen(dir_.path(), 3, Metric::kCosine, UINT64_MAX, 4);
  ASSERT_TRUE(c->Add(Meta(0), std::vector<float>{1, 2, 3}).ok());
  std::vector<RowMeta> metas;
  std::vector<float> vectors;
  for (uint64_t i = 1; i <= 9; ++i) {
    metas.push_back(Meta(i));
    vectors.insert(vectors.end(), {1.0f * i, 2, 3});
  }
  vectors[7 * 3 + 2] = NAN;  // vector 7 of the batch, element 2
  const Status s = c->AddBatch(metas, vectors);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("vector 7: element 2 is not finite"), std::string::npos)
      << s.message();
  EXPECT_EQ(c->live(), 1u);
  EXPECT_EQ(c->rows(), 1u);
  for (const RowMeta& m : metas) EXPECT_FALSE(c->Contains(m.id));
  c.reset();
  // The rows written before the bad one are not on disk either: every row
  // of the second chunk (rows 4..7; vector 7 is row 8) is empty again.
  {
    auto second = Chunk::Open(dir_.path() + "/chunk-000002.vec", {}, 2);
    ASSERT_TRUE(second.ok()) << second.status().ToString();
    for (uint32_t r = 0; r < 4; ++r) EXPECT_EQ((*second)->state(r), kStateEmpty) << r;
  }
  c = MustOpen(dir_.path(), 3, Metric::kCosine, UINT64_MAX, 4);
  EXPECT_EQ(c->rows(), 1u);
  EXPECT_EQ(c->open_report().dropped, 0u);
  // And the batch goes in once it is mended.
  vectors[7 * 3 + 2] = 3;
  ASSERT_TRUE(c->AddBatch(metas, vectors).ok());
  EXPECT_EQ(c->live(), 10u);
  EXPECT_EQ((*c->Search(std::vector<float>{7, 2, 3}, 1))[0].id, Meta(7).id);
}

TEST_F(CollectionTest, ARepeatedIdRefusesItsWholeBatch) {
  auto c = MustOpen(dir_.path(), 3, Metric::kL2, UINT64_MAX);
  ASSERT_TRUE(c->Add(Meta(0), std::vector<float>{1, 2, 3}).ok());
  std::vector<RowMeta> metas = {Meta(1), Meta(2), Meta(3)};
  const std::vector<float> vectors(9, 1.0f);
  // Twice in the batch.
  metas[2].id = metas[0].id;
  Status s = c->AddBatch(metas, vectors);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("appears twice in the batch"), std::string::npos) << s.message();
  // Already live.
  metas[2] = Meta(3);
  metas[1].id = Meta(0).id;
  s = c->AddBatch(metas, vectors);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("vector 1: id " + Meta(0).id.ToString() + " is already present"),
            std::string::npos)
      << s.message();
  // Neither left anything behind, and the mended batch goes in.
  EXPECT_EQ(c->live(), 1u);
  EXPECT_EQ(c->rows(), 1u);
  EXPECT_FALSE(c->Contains(Meta(1).id));
  EXPECT_FALSE(c->Contains(Meta(3).id));
  metas[1] = Meta(2);
  ASSERT_TRUE(c->AddBatch(metas, vectors).ok());
  EXPECT_EQ(c->live(), 4u);
  EXPECT_TRUE(c->Contains(Meta(3).id));
  EXPECT_EQ((*c->Get(Meta(0).id))[0], 1.0f);
}

TEST_F(CollectionTest, AChunkThatCannotBeCreatedDropsItsWholeBatch) {
  // Chunks of 4 rows; the second chunk's name is taken by a directory.
  const std::string blocker = dir_.path() + "/chunk-000002.vec";
  std::filesystem::create_directories(blocker);
  auto c = MustOpen(dir_.path(), 3, Metric::kL2, UINT64_MAX, 4);
  std::vector<RowMeta> metas;
  std::vector<float> vectors;
  for (uint64_t i = 0; i < 6; ++i) {
    metas.push_back(Meta(i));
    vectors.insert(vectors.end(), {1.0f * i, 2, 3});
  }
  const Status s = c->AddBatch(metas, vectors);
  ASSERT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_EQ(c->rows(), 0u);
  c.reset();
  std::filesystem::remove(blocker);
  c = MustOpen(dir_.path(), 3, Metric::kL2, UINT64_MAX, 4);
  EXPECT_EQ(c->rows(), 0u);  // the four rows of the first chunk are gone too
  ASSERT_TRUE(c->AddBatch(metas, vectors).ok());
  EXPECT_EQ(c->live(), 6u);
}

TEST_F(CollectionTest, HugeFiniteElementsAreScaledWithoutOverflow) {
  // 4e20 squared overflows a float; the vector is still stored at unit length.
  auto c = MustOpen(dir_.path(), 3, Metric::kCosine, UINT64_MAX);
  ASSERT_TRUE(c->Add(Meta(0), std::vector<float>{3e20f, 4e20f, 0}).ok());
  auto v = c->Get(Meta(0).id);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_NEAR((*v)[0], 0.6f, 1e-6);
  EXPECT_NEAR((*v)[1], 0.8f, 1e-6);
  EXPECT_EQ((*v)[2], 0.0f);
  EXPECT_EQ((*c->Search(std::vector<float>{3, 4, 0}, 1))[0].id, Meta(0).id);
}

TEST_F(CollectionTest, ReopenKeepsAcknowledgedRowsAcrossChunks) {
  std::mt19937 rng(5);
  std::vector<std::vector<float>> data;
  std::vector<Hit> before;
  const auto q = RandomVector(&rng, 24);
  {
    auto c = MustOpen(dir_.path(), 24, Metric::kInnerProduct, UINT64_MAX, 300);
    for (uint64_t i = 0; i < 1000; ++i) {  // 4 chunk files
      data.push_back(RandomVector(&rng, 24));
      ASSERT_TRUE(c->Add(Meta(i), data.back()).ok());
    }
    ASSERT_TRUE(c->Remove(Meta(10).id, 0).ok());
    before = *c->Search(q, 20);
    ASSERT_TRUE(c->Sync().ok());
  }
  {
    auto c = MustOpen(dir_.path(), 24, Metric::kInnerProduct, UINT64_MAX);
    EXPECT_EQ(c->rows(), 1000u);
    EXPECT_EQ(c->live(), 999u);
    EXPECT_EQ(c->geometry().capacity, 300u);
    auto after = *c->Search(q, 20);
    ASSERT_EQ(after.size(), before.size());
    for (size_t i = 0; i < after.size(); ++i) {
      EXPECT_EQ(after[i].row, before[i].row);
      EXPECT_EQ(after[i].distance, before[i].distance);
    }
  }
  // The log acknowledged only up to seq 1200 (row 600): later rows go, and
  // the store continues from there.
  auto c = MustOpen(dir_.path(), 24, Metric::kInnerProduct, 1200);
  EXPECT_EQ(c->rows(), 600u);
  EXPECT_EQ(c->open_report().dropped, 300u);  // chunk 3, cleared; chunk 4 is removed
  EXPECT_EQ(c->open_report().next_seq, 1199u);
  EXPECT_TRUE(std::filesystem::exists(dir_.File("chunk-000003.vec")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("chunk-000004.vec")));
  EXPECT_TRUE(c->Get(Meta(700).id).status().IsNotFound());
  ASSERT_TRUE(c->Add(Meta(700), data[700]).ok());
  EXPECT_EQ((*c->Search(data[700], 1))[0].id, Meta(700).id);
  ASSERT_TRUE(c->Sync().ok());
  c.reset();
  // The dropped rows stay dropped: the next open finds row 600 (seq 1400)
  // and nothing of the old rows after it.
  c = MustOpen(dir_.path(), 24, Metric::kInnerProduct, UINT64_MAX);
  EXPECT_EQ(c->rows(), 601u);
  EXPECT_EQ(c->open_report().dropped, 0u);
  EXPECT_TRUE(c->Get(Meta(650).id).status().IsNotFound());
  EXPECT_TRUE(c->Get(Meta(700).id).ok());
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char b;
  f.get(b);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(b ^ 0x10));
}

TEST_F(CollectionTest, DamagedHeaderIsCorruptionNamingTheRule) {
  {
    auto c = MustOpen(dir_.path(), 4, Metric::kL2, UINT64_MAX, 256);
    ASSERT_TRUE(c->Add(Meta(0), std::vector<float>{1, 2, 3, 4}).ok());
  }
  const std::string chunk = dir_.File("chunk-000001.vec");
  for (uint64_t offset = 0; offset < kHeaderCrcOffset + 4; ++offset) {
    FlipByte(chunk, offset);
    auto c = Collection::Open(dir_.path(), 4, Metric::kL2, UINT64_MAX);
    ASSERT_FALSE(c.ok()) << offset;
    EXPECT_TRUE(c.status().IsCorruption()) << c.status().ToString();
    EXPECT_NE(c.status().message().find("[VEC-"), std::string::npos) << c.status().ToString();
    FlipByte(chunk, offset);
  }
  std::filesystem::resize_file(chunk, std::filesystem::file_size(chunk) - 1);
  auto c = Collection::Open(dir_.path(), 4, Metric::kL2, UINT64_MAX);
  EXPECT_NE(c.status().message().find("[VEC-3]"), std::string::npos) << c.status().ToString();
}

// A crafted header with a valid checksum: any geometry that does not match
// the file's size exactly is refused before anything is mapped or indexed.
TEST_F(CollectionTest, CraftedHeaderFieldsAreRefusedSafely) {
  {
    auto c = MustOpen(dir_.path(), 4, Metric::kL2, UINT64_MAX, 256);
    ASSERT_TRUE(c->Add(Meta(0), std::vector<float>{1, 2, 3, 4}).ok());
  }
  const std::string chunk = dir_.File("chunk-000001.vec");
  std::string original;
  {
    std::ifstream in(chunk, std::ios::binary);
    original.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::mt19937 rng(11);
  for (int round = 0; round < 300; ++round) {
    std::string bytes = original;
    // One of dim, metric, stride, capacity, number, first_row gets a random value.
    const size_t field = 12 + 4 * (rng() % 6);
    uint32_t value = static_cast<uint32_t>(rng());
    if (round % 3 == 0) value %= 70000;  // plausible sizes too
    for (int b = 0; b < 4; ++b) bytes[field + b] = static_cast<char>(value >> (8 * b));
    const uint32_t crc = crc32c::Mask(crc32c::Value(bytes.data(), kHeaderCrcOffset));
    for (int b = 0; b < 4; ++b) bytes[kHeaderCrcOffset + b] = static_cast<char>(crc >> (8 * b));
    {
      std::ofstream out(chunk, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    auto c = Collection::Open(dir_.path(), 4, Metric::kL2, UINT64_MAX);
    if (bytes == original) continue;
    ASSERT_FALSE(c.ok()) << "field " << field << " value " << value;
    EXPECT_TRUE(c.status().IsCorruption() || c.status().IsInvalidArgument()) << c.status().ToString();
  }
}

// [VEC-7] and [VEC-8] together, after a power cut that lost one tombstone
// page and the last record: x was written at seqs 0, 8 and 10 (rows 0, 1, 2,
// each replacing the one before); the log holds seqs 0..9 and row 0's
// tombstone is gone. Row 2 is not acknowledged, row 1's removal (by seq 10)
// is undone, and row 0, live again by the lost page, is tombstoned by row 1.
TEST_F(CollectionTest, ALostTombstoneAndALostRecordLeaveTheNewestAcknowledgedRow) {
  RowMeta m = Meta(0);
  {
    auto c = MustOpen(dir_.path(), 4, Metric::kL2, UINT64_MAX, 256);
    for (const uint64_t seq : {0u, 8u, 10u}) {
      if (seq > 0) {
        ASSERT_TRUE(c->Remove(m.id, seq).ok());
      }
      m.seq = seq;
      ASSERT_TRUE(c->Add(m, std::vector<float>{1.0f * seq, 2, 3, 4}).ok());
    }
  }
  {
    auto chunk = Chunk::Open(dir_.File("chunk-000001.vec"), Geometry{}, 1);
    ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
    ASSERT_EQ((*chunk)->state(0), kStateRemoved);
    (*chunk)->SetState(0, kStateLive);
  }
  {
    auto c = MustOpen(dir_.path(), 4, Metric::kL2, /*acknowledged=*/10);
    EXPECT_EQ(c->open_report().rows, 2u);
    EXPECT_EQ(c->open_report().revived, 1u);
    EXPECT_EQ(c->open_report().replaced, 1u);
    EXPECT_TRUE(c->open_report().damage.ok()) << c->open_report().damage.ToString();
    EXPECT_EQ(c->live(), 1u);
    EXPECT_EQ(c->LiveSeq(m.id), 8u);
    EXPECT_EQ(c->Get(m.id)->at(0), 8.0f);
  }
  auto c = MustOpen(dir_.path(), 4, Metric::kL2, 10);  // repaired on disk
  EXPECT_EQ(c->open_report().revived + c->open_report().replaced, 0u);
  EXPECT_EQ(c->LiveSeq(m.id), 8u);
}

// A version-1 chunk (no removed_seq: bytes 44..51 zero) opens with its rows
// and tombstones as they were; versions 0 and 3 are refused [VEC-1].
TEST_F(CollectionTest, VersionOneChunksAreReadAndOtherVersionsRefused) {
  {
    auto c = MustOpen(dir_.path(), 4, Metric::kL2, UINT64_MAX, 256);
    for (uint64_t i = 0; i < 4; ++i) {
      ASSERT_TRUE(c->Add(Meta(i), std::vector<float>{1.0f * i, 2, 3, 4}).ok());
    }
    ASSERT_TRUE(c->Remove(Meta(1).id, 0).ok());  // as version 1 wrote tombstones
  }
  const std::string chunk = dir_.File("chunk-000001.vec");
  std::string original;
  {
    std::ifstream in(chunk, std::ios::binary);
    original.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (const uint32_t version : {1u, 0u, 3u}) {
    std::string bytes = original;
    for (int b = 0; b < 4; ++b) bytes[8 + b] = static_cast<char>(version >> (8 * b));
    const uint32_t crc = crc32c::Mask(crc32c::Value(bytes.data(), kHeaderCrcOffset));
    for (int b = 0; b < 4; ++b) bytes[kHeaderCrcOffset + b] = static_cast<char>(crc >> (8 * b));
    {
      std::ofstream out(chunk, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    }
    auto c = Collection::Open(dir_.path(), 4, Metric::kL2, /*acknowledged=*/5);
    if (version != 1) {
      ASSERT_FALSE(c.ok()) << version;
      EXPECT_NE(c.status().ToString().find("[VEC-1]"), std::string::npos) << c.status().ToString();
      continue;
    }
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ((*c)->open_report().rows, 3u);  // seqs 0, 2, 4 are below 5
    EXPECT_EQ((*c)->open_report().revived, 0u);
    EXPECT_EQ((*c)->live(), 2u);
    EXPECT_FALSE((*c)->Contains(Meta(1).id));
    EXPECT_EQ((*c)->Get(Meta(2).id)->at(0), 2.0f);
  }
}

TEST_F(CollectionTest, DamagedRowEndsTheStoreThere) {
  {
    auto c = MustOpen(dir_.path(), 4, Metric::kL2, UINT64_MAX, 256);
    for (uint64_t i = 0; i < 10; ++i) {
      ASSERT_TRUE(c->Add(Meta(i), std::vector<float>{1.0f * i, 2, 3, 4}).ok());
    }
  }
  // Row 6's vector: its metadata checksum covers it.
  FlipByte(dir_.File("chunk-000001.vec"), kChunkHeaderSize + 6 * 16 * 4 + 2);
  auto c = MustOpen(dir_.path(), 4, Metric::kL2, UINT64_MAX);
  EXPECT_EQ(c->rows(), 6u);
  EXPECT_EQ(c->open_report().dropped, 4u);
  const std::vector<Hit> hits = *c->Search(std::vector<float>{6, 2, 3, 4}, 10);
  EXPECT_EQ(hits.size(), 6u);
  for (const Hit& h : hits) EXPECT_LT(h.row, 6u);
}

TEST_F(CollectionTest, ReadersSearchWhileAWriterAppends) {
  // Past the compact-scan size, so two readers also extend the int8 copy
  // while the writer appends.
  const uint64_t n = 9000;
  auto c = MustOpen(dir_.path(), 32, Metric::kL2, UINT64_MAX, 256);
  std::vector<std::vector<float>> data;
  std::mt19937 data_rng(6);
  for (uint64_t i = 0; i < n; ++i) data.push_back(RandomVector(&data_rng, 32));
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (uint64_t i = 0; i < n; ++i) ASSERT_TRUE(c->Add(Meta(i), data[i]).ok());
    done = true;
  });
  auto read = [&](uint32_t seed) {
    std::mt19937 rng(seed);
    uint64_t searches = 0;
    while (!done || searches < 10) {
      const uint64_t before = c->rows();
      auto hits = *c->Search(RandomVector(&rng, 32), 10);
      for (size_t i = 0; i < hits.size(); ++i) {
        EXPECT_EQ(hits[i].id, Meta(hits[i].row).id);  // never a half-written row
        if (i > 0) {
          EXPECT_LE(hits[i - 1].distance, hits[i].distance);
        }
      }
      EXPECT_GE(hits.size(), std::min<uint64_t>(10, before));
      ++searches;
    }
  };
  std::thread other(read, 8);
  read(7);
  other.join();
  writer.join();
  // Afterwards the answer is the exact one over every row.
  std::mt19937 rng(9);
  const auto q = RandomVector(&rng, 32);
  std::vector<std::pair<float, uint64_t>> truth;
  for (uint64_t i = 0; i < n; ++i) truth.emplace_back(Distance(Metric::kL2, q.data(), data[i].data(), 32), i);
  std::sort(truth.begin(), truth.end());
  auto hits = *c->Search(q, 10);
  ASSERT_EQ(hits.size(), 10u);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(hits[i].row, truth[i].second) << i;
}

}  // namespace
}  // namespace hanshiro::vector
