#include "vector/hnsw.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "env/test_dir.h"

namespace hanshiro::vector {
namespace {

// Gaussian clusters: the shape embeddings of similar events take.
std::vector<std::vector<float>> Clustered(uint64_t n, uint32_t dim, int clusters, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> wide(0, 1), narrow(0, 0.15f);
  std::vector<std::vector<float>> centres(clusters, std::vector<float>(dim));
  for (auto& c : centres) {
    for (auto& x : c) x = wide(rng);
  }
  std::vector<std::vector<float>> out(n, std::vector<float>(dim));
  for (uint64_t i = 0; i < n; ++i) {
    const auto& c = centres[rng() % clusters];
    for (uint32_t d = 0; d < dim; ++d) out[i][d] = c[d] + narrow(rng);
  }
  return out;
}

RowMeta Meta(uint64_t i) {
  RowMeta m;
  m.id = EventId(0x2000 + i, i);
  m.seq = i;
  m.event_type = static_cast<uint16_t>(i % 4);
  m.host_hash = i % 7;
  return m;
}

std::unique_ptr<Collection> Fill(const std::string& dir, const std::vector<std::vector<float>>& data,
                                 Metric metric) {
  auto c = Collection::Open(dir, static_cast<uint32_t>(data[0].size()), metric, UINT64_MAX);
  EXPECT_TRUE(c.ok());
  for (uint64_t i = 0; i < data.size(); ++i) EXPECT_TRUE((*c)->Add(Meta(i), data[i]).ok());
  return std::move(c).value();
}

double Recall(const Collection& c, const Hnsw& index, const std::vector<std::vector<float>>& queries,
              size_t k, const Filter& filter = {}) {
  double found = 0;
  for (const auto& q : queries) {
    std::set<uint64_t> truth;
    const std::vector<Hit> exact = *c.Search(q, k, filter);
    for (const Hit& h : exact) truth.insert(h.row);
    const std::vector<Hit> approx = *index.Search(q, k, 0, filter);
    for (const Hit& h : approx) found += truth.count(h.row);
  }
  return found / (queries.size() * k);
}

TEST(HnswTest, RecallOnClusteredDataAtTheDefaultEf) {
  testing::TestDir dir;
  for (Metric metric : {Metric::kCosine, Metric::kL2}) {
    const auto data = Clustered(10000, 32, 64, 1);
    auto c = Fill(dir.File(std::string(MetricName(metric))), data, metric);
    Hnsw index(c.get(), {});
    index.Update();
    EXPECT_EQ(index.size(), 10000u);
    const auto queries = Clustered(200, 32, 64, 1);  // same centres, new points
    const double recall = Recall(*c, index, queries, 10);
    EXPECT_GE(recall, 0.95) << MetricName(metric);
  }
}

TEST(HnswTest, IncrementalUpdatesAndUnindexedRowsAreFound) {
  testing::TestDir dir;
  const auto data = Clustered(6000, 16, 20, 2);
  auto c = Collection::Open(dir.path(), 16, Metric::kL2, UINT64_MAX).value();
  Hnsw index(c.get(), {});
  for (uint64_t i = 0; i < 3000; ++i) ASSERT_TRUE(c->Add(Meta(i), data[i]).ok());
  index.Update();
  for (uint64_t i = 3000; i < 6000; ++i) ASSERT_TRUE(c->Add(Meta(i), data[i]).ok());
  // Not yet indexed: the tail is scanned exactly, so row 5999 finds itself.
  EXPECT_EQ((*index.Search(data[5999], 1))[0].row, 5999u);
  index.Update();
  EXPECT_EQ(index.size(), 6000u);
  EXPECT_GE(Recall(*c, index, Clustered(100, 16, 20, 2), 10), 0.95);
}

TEST(HnswTest, RemovedRowsAreNeverReturnedAndFiltersHold) {
  testing::TestDir dir;
  const auto data = Clustered(8000, 16, 16, 3);
  auto c = Fill(dir.path(), data, Metric::kCosine);
  Hnsw index(c.get(), {});
  index.Update();
  for (uint64_t i = 0; i < 8000; i += 3) ASSERT_TRUE(c->Remove(Meta(i).id).ok());
  Filter f;
  f.event_type = 1;
  f.host_hash = 3;  // 1 row in 28 matches
  for (uint64_t i = 0; i < 50; ++i) {
    const std::vector<Hit> all = *index.Search(data[i * 37], 10);
    for (const Hit& h : all) EXPECT_NE(h.row % 3, 0u);
    const auto hits = *index.Search(data[i * 37], 10, 0, f);
    EXPECT_EQ(hits.size(), 10u);
    for (const Hit& h : hits) {
      EXPECT_TRUE(f.Matches(Meta(h.row)));
      EXPECT_NE(h.row % 3, 0u);
    }
  }
  EXPECT_GE(Recall(*c, index, Clustered(100, 16, 16, 3), 10, f), 0.95);
}

TEST(HnswTest, WrongDimensionIsRejected) {
  testing::TestDir dir;
  auto c = Collection::Open(dir.path(), 8, Metric::kL2, UINT64_MAX).value();
  Hnsw index(c.get(), {});
  EXPECT_TRUE(index.Search(std::vector<float>(7), 1).status().IsInvalidArgument());
  EXPECT_TRUE(index.Search(std::vector<float>(8), 1)->empty());
}

}  // namespace
}  // namespace hanshiro::vector
