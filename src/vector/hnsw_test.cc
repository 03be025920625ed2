#include "vector/hnsw.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "base/crc32c.h"
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
  for (uint64_t i = 0; i < 8000; i += 3) ASSERT_TRUE(c->Remove(Meta(i).id, 0).ok());
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

namespace hanshiro::vector {
namespace {

TEST(HnswTest, SaveAndLoadGiveTheSameGraph) {
  testing::TestDir dir;
  const auto data = Clustered(3000, 16, 10, 4);
  auto c = Fill(dir.File("c"), data, Metric::kL2);
  Hnsw index(c.get(), {});
  index.Update();
  const std::string path = dir.File("c/hnsw.idx");
  ASSERT_TRUE(index.Save(Env::Default(), path).ok());
  auto loaded = Hnsw::Load(Env::Default(), path, c.get(), {});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->size(), 3000u);
  for (uint64_t i = 0; i < 100; ++i) {
    const auto a = *index.Search(data[i * 29], 10);
    const auto b = *(*loaded)->Search(data[i * 29], 10);
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) EXPECT_EQ(a[j].row, b[j].row);
  }
  // Rows added since the save are indexed by Update after loading.
  for (uint64_t i = 3000; i < 3100; ++i) ASSERT_TRUE(c->Add(Meta(i), data[i % 3000]).ok());
  (*loaded)->Update();
  EXPECT_EQ((*loaded)->size(), 3100u);
  // Its lists now have room for more nodes than it has; the file holds the
  // nodes alone, and loads again.
  ASSERT_TRUE((*loaded)->Save(Env::Default(), path).ok());
  auto again = Hnsw::Load(Env::Default(), path, c.get(), {});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->size(), 3100u);
  for (uint64_t i = 0; i < 100; ++i) {
    const auto a = *(*loaded)->Search(data[i * 29], 10);
    const auto b = *(*again)->Search(data[i * 29], 10);
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) EXPECT_EQ(a[j].row, b[j].row);
  }
}

TEST(HnswTest, DamagedOrForeignIndexFilesAreRefused) {
  testing::TestDir dir;
  const auto data = Clustered(500, 8, 5, 5);
  auto c = Fill(dir.File("c"), data, Metric::kL2);
  Hnsw index(c.get(), {});
  index.Update();
  const std::string path = dir.File("c/hnsw.idx");
  ASSERT_TRUE(index.Save(Env::Default(), path).ok());
  const std::string good = *ReadFileToString(Env::Default(), path);
  auto load_with = [&](const std::string& bytes, const HnswOptions& options = {}) {
    EXPECT_TRUE(WriteStringToFile(Env::Default(), bytes, path, false).ok());
    return Hnsw::Load(Env::Default(), path, c.get(), options).status();
  };
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x40;
  EXPECT_NE(load_with(flipped).message().find("[HNSW-2]"), std::string::npos);
  EXPECT_TRUE(load_with(good.substr(0, good.size() - 9)).IsCorruption());
  EXPECT_TRUE(load_with(good.substr(0, 20)).IsCorruption());
  // A neighbour id out of range, with both checksums made valid again.
  std::string crafted = good;
  const size_t first_neighbour = 48 + 500 + 4;  // header, levels, node 0's count
  crafted[first_neighbour + 2] = '\x7f';
  const size_t body_end = crafted.size() - 4;
  const uint32_t crc = crc32c::Mask(crc32c::Value(crafted.data() + 48, body_end - 48));
  for (int b = 0; b < 4; ++b) crafted[body_end + b] = static_cast<char>(crc >> (8 * b));
  const Status s = load_with(crafted);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("[HNSW-4]"), std::string::npos) << s.ToString();
  HnswOptions other;
  other.m = 8;
  EXPECT_TRUE(load_with(good, other).IsInvalidArgument());
  // An index ahead of its collection (rows the log never acknowledged).
  auto smaller = Collection::Open(dir.File("d"), 8, Metric::kL2, UINT64_MAX).value();
  for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(smaller->Add(Meta(i), data[i]).ok());
  ASSERT_TRUE(WriteStringToFile(Env::Default(), good, path, false).ok());
  EXPECT_TRUE(Hnsw::Load(Env::Default(), path, smaller.get(), {}).status().IsInvalidArgument());
  EXPECT_TRUE(load_with(good).ok());
}

}  // namespace
}  // namespace hanshiro::vector
