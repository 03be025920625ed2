#include "memtable/memtable.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace hanshiro::memtable {
namespace {

// The model: ordered by key, then newest sequence number first.
std::string Cat(std::string_view a, uint64_t n) {
  std::string s(a);
  s.append(std::to_string(n));
  return s;
}

struct ModelKey {
  std::string key;
  uint64_t seq;
  bool operator<(const ModelKey& o) const {
    return key != o.key ? key < o.key : seq > o.seq;
  }
};

// Iterating the table gives exactly the model's entries, in its order.
void ExpectHoldsModel(MemTable* table, const std::map<ModelKey, std::string>& model) {
  EXPECT_EQ(table->entries(), model.size());
  MemTable::Iterator it(table);
  it.SeekToFirst();
  for (const auto& [k, v] : model) {
    ASSERT_TRUE(it.Valid());
    ASSERT_EQ(it.key(), k.key);
    ASSERT_EQ(it.seq(), k.seq);
    ASSERT_EQ(it.value(), v);
    it.Next();
  }
  EXPECT_FALSE(it.Valid());
}

TEST(MemTableTest, MatchesAnOrderedMapUnderRandomAdds) {
  MemTable table;
  std::map<ModelKey, std::string> model;
  std::mt19937_64 rng(1);
  for (uint64_t seq = 1; seq <= 20000; ++seq) {
    const std::string key = Cat("k", rng() % 3000);
    const std::string value = Cat("v", seq).append(rng() % 40, 'x');
    table.Add(seq, key, value);
    model[{key, seq}] = value;
  }
  ExpectHoldsModel(&table, model);
  MemTable::Iterator it(&table);
  // Get returns the newest version; Seek lands on the first entry >= target.
  for (int i = 0; i < 3000; i += 7) {
    const std::string key = Cat("k", i);
    auto first = model.lower_bound({key, UINT64_MAX});
    std::string value;
    uint64_t seq = 0;
    const bool found = table.Get(key, &value, &seq);
    ASSERT_EQ(found, first != model.end() && first->first.key == key) << key;
    if (found) {
      EXPECT_EQ(value, first->second);
      EXPECT_EQ(seq, first->first.seq);
    }
    it.Seek(key);
    if (first == model.end()) {
      EXPECT_FALSE(it.Valid());
    } else {
      ASSERT_TRUE(it.Valid());
      EXPECT_EQ(it.key(), first->first.key);
      EXPECT_EQ(it.seq(), first->first.seq);
    }
  }
}

// Binary keys of 0 to 24 bytes that share long prefixes and hold bytes
// above 0x7F, so that every way a comparison can be decided is taken: in
// the first 8 bytes, after them, by length, by sequence number.
TEST(MemTableTest, BinaryKeysSortAsUnsignedBytes) {
  MemTable table;
  std::map<ModelKey, std::string> model;
  std::mt19937_64 rng(5);
  const char bytes[] = {'\x00', '\x01', '\x7F', '\x80', '\xFF'};
  for (uint64_t seq = 1; seq <= 20000; ++seq) {
    std::string key(rng() % 25, '\x80');
    for (char& c : key) {
      if (rng() % 3 == 0) c = bytes[rng() % sizeof(bytes)];
    }
    table.Add(seq, key, Cat("v", seq));
    model[{key, seq}] = Cat("v", seq);
  }
  ExpectHoldsModel(&table, model);
}

TEST(MemTableTest, IncreasingKeysTakeTheAppendPath) {
  MemTable table;
  char key[25] = {};
  for (uint64_t i = 0; i < 10000; ++i) {
    for (int b = 0; b < 8; ++b) key[1 + b] = static_cast<char>(i >> (56 - 8 * b));
    table.Add(i + 1, {key, sizeof(key)}, "value");
  }
  EXPECT_EQ(table.appends(), 10000u);
  table.Add(20000, "", "");  // the smallest key: not an append
  EXPECT_EQ(table.appends(), 10000u);
  MemTable::Iterator it(&table);
  it.SeekToFirst();
  EXPECT_EQ(it.key(), "");
  size_t n = 0;
  std::string previous;
  for (; it.Valid(); it.Next(), ++n) {
    EXPECT_LE(previous, it.key());
    previous = std::string(it.key());
  }
  EXPECT_EQ(n, 10001u);
  EXPECT_GT(table.bytes(), 10000u * 25);
}

// The middle key splits the table near its median, whether the keys came in
// order or not; a table too small to split has none.
TEST(MemTableTest, MiddleKeySplitsTheTableNearItsMedian) {
  MemTable small;
  for (uint64_t i = 0; i < 20; ++i) small.Add(i + 1, Cat("k", 100 + i), "v");
  EXPECT_EQ(small.ApproximateMiddleKey(), "");

  for (const bool shuffled : {false, true}) {
    std::vector<uint64_t> order(100000);
    for (uint64_t i = 0; i < order.size(); ++i) order[i] = i;
    if (shuffled) std::shuffle(order.begin(), order.end(), std::mt19937_64(7));
    MemTable table;
    for (uint64_t i : order) table.Add(i + 1, Cat("k", 1000000 + i), "v");  // one width
    const std::string middle = table.ApproximateMiddleKey();
    ASSERT_FALSE(middle.empty()) << shuffled;
    MemTable::Iterator it(&table);
    size_t below = 0;
    for (it.SeekToFirst(); it.Valid() && it.key() < middle; it.Next()) ++below;
    EXPECT_GT(below, order.size() / 5) << "shuffled " << shuffled;
    EXPECT_LT(below, order.size() * 4 / 5) << "shuffled " << shuffled;
  }
}

// The table iterates exactly the model's keys, in order, and finds each.
void ExpectHolds(const MemTable& table, const std::set<std::string>& model) {
  MemTable::Iterator it(&table);
  auto m = model.begin();
  for (it.SeekToFirst(); it.Valid(); it.Next(), ++m) {
    ASSERT_NE(m, model.end());
    ASSERT_EQ(it.key(), *m);
  }
  EXPECT_EQ(m, model.end());
  std::string value;
  for (const std::string& key : model) ASSERT_TRUE(table.Get(key, &value)) << key;
}

// Ordered batches that land between earlier ones (writers taking turns on one
// clock, committing out of turn): each batch's keys after its first search
// onward from the previous insert. Order and lookups stay exact.
TEST(MemTableTest, InterleavedOrderedBatchesStaySorted) {
  MemTable table;
  std::set<std::string> model;
  std::mt19937_64 rng(4);
  uint64_t seq = 0;
  for (int batch = 0; batch < 200; ++batch) {
    // Batch b holds keys b, b + 200, b + 400, ... in increasing order, and
    // batches arrive in random order.
    const uint64_t b = rng() % 200;
    for (uint64_t k = b; k < 40000; k += 200 + rng() % 3) {
      const std::string key = Cat("key", 1000000 + k);
      if (!model.insert(key).second) continue;
      table.Add(++seq, key, "v");
    }
  }
  ExpectHolds(table, model);
  std::string value;
  EXPECT_FALSE(table.Get(Cat("key", 999999), &value));
}

// Rounds of the same times with growing suffixes (many events in one
// millisecond, from several sources): each key lands past earlier rounds'
// keys, far from the previous insert.
TEST(MemTableTest, RepeatedTimesFromSeveralSourcesStaySorted) {
  MemTable table;
  std::set<std::string> model;
  uint64_t seq = 0;
  for (int round = 0; round < 40; ++round) {
    for (int source = 0; source < 4; ++source) {
      for (int i = 0; i < 300; ++i) {
        const std::string key = Cat("t", 100000 + source * 1000 + i) + Cat("#", 100000 + round * 4 + source);
        model.insert(key);
        table.Add(++seq, key, "v");
      }
    }
  }
  ExpectHolds(table, model);
}

TEST(MemTableTest, APoolLendsBlocksToTheNextMemtable) {
  BlockPool pool(Arena::kDefaultBlockBytes, 8);
  const std::string value(1000, 'v');
  {
    MemTable table(&pool);
    for (int i = 0; i < 10000; ++i) table.Add(i + 1, Cat("key", 1000000 + i), value);
    EXPECT_EQ(pool.bytes(), 0u);
  }
  const size_t pooled = pool.bytes();
  EXPECT_GE(pooled, 2 * Arena::kDefaultBlockBytes);  // ~10 MB of nodes went back
  MemTable next(&pool);
  for (int i = 0; i < 10000; ++i) next.Add(i + 1, Cat("key", 2000000 + i), value);
  EXPECT_LT(pool.bytes(), pooled);  // taken again
  std::string got;
  ASSERT_TRUE(next.Get(Cat("key", 2000000 + 9999), &got));
  EXPECT_EQ(got, value);  // reused memory holds the new nodes
  EXPECT_FALSE(next.Get(Cat("key", 1000000), &got));
}

TEST(MemTableTest, ReadersRunWhileTheWriterAdds) {
  MemTable table;
  constexpr uint64_t kN = 50000;
  std::atomic<uint64_t> published{0};
  std::thread writer([&] {
    std::mt19937_64 rng(2);
    for (uint64_t seq = 1; seq <= kN; ++seq) {
      // Mostly increasing keys, with some out of order.
      const uint64_t k = rng() % 10 == 0 ? rng() % seq : seq;
      table.Add(seq, Cat("key", 1000000000 + k), std::to_string(seq));
      published.store(seq, std::memory_order_release);
    }
  });
  std::mt19937_64 rng(3);
  while (published.load(std::memory_order_acquire) < kN) {
    const uint64_t upto = published.load(std::memory_order_acquire);
    // Everything published is visible, in order.
    MemTable::Iterator it(&table);
    it.SeekToFirst();
    size_t n = 0;
    std::string previous;
    for (; it.Valid(); it.Next(), ++n) {
      ASSERT_LE(previous, it.key());
      previous = std::string(it.key());
    }
    ASSERT_GE(n, upto);
    if (upto > 0) {
      std::string value;
      ASSERT_TRUE(table.Get(Cat("key", 1000000000 + 1), &value));
    }
  }
  writer.join();
  EXPECT_EQ(table.entries(), kN);
}

// Writers stage their batches at once (into one arena) and link them one at a
// time, in turn, as the store does. One batch is staged and never linked.
// Every linked entry reads back whole; the unlinked ones are not there.
TEST(MemTableTest, BatchesStagedAtOnceAndLinkedInTurnReadBack) {
  BlockPool pool(size_t{1} << 20, 4);  // small blocks: staging crosses them often
  MemTable table(&pool);
  constexpr int kWriters = 4;
  constexpr int kBatches = 60;  // per writer
  constexpr int kPerBatch = 300;
  std::mutex link_mu;
  std::condition_variable turn_cv;
  int turn = 0;  // batch number whose turn it is to link
  auto key_of = [](int batch, int i) { return Cat("key", 100000000 + i * 1000 + batch); };
  auto value_of = [](int batch, int i) { return Cat("v", batch * kPerBatch + i).append(i % 97, 'x'); };
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int b = w; b < kWriters * kBatches; b += kWriters) {
        std::vector<std::string> keys, values;
        for (int i = 0; i < kPerBatch; ++i) {
          keys.push_back(key_of(b, i));
          values.push_back(value_of(b, i));
        }
        std::vector<MemTable::Entry> entries;
        for (int i = 0; i < kPerBatch; ++i) {
          entries.push_back({static_cast<uint64_t>(b * kPerBatch + i + 1), keys[i], values[i]});
        }
        std::vector<MemTable::Node*> nodes(kPerBatch);
        table.Stage(entries, nodes);
        std::unique_lock lock(link_mu);
        turn_cv.wait(lock, [&] { return turn == b; });
        if (b != 7) {  // batch 7 stays staged only
          for (MemTable::Node* n : nodes) table.Link(n);
        }
        ++turn;
        turn_cv.notify_all();
      }
    });
  }
  for (std::thread& t : writers) t.join();
  std::set<std::string> model;
  for (int b = 0; b < kWriters * kBatches; ++b) {
    for (int i = 0; i < kPerBatch && b != 7; ++i) model.insert(key_of(b, i));
  }
  ExpectHolds(table, model);
  EXPECT_EQ(table.entries(), model.size());
  std::string value;
  uint64_t seq = 0;
  for (int b = 0; b < kWriters * kBatches; b += 13) {
    for (int i = 0; i < kPerBatch; i += 29) {
      const bool found = table.Get(key_of(b, i), &value, &seq);
      ASSERT_EQ(found, b != 7) << b << " " << i;
      if (!found) continue;
      EXPECT_EQ(value, value_of(b, i));
      EXPECT_EQ(seq, static_cast<uint64_t>(b * kPerBatch + i + 1));
    }
  }
}

}  // namespace
}  // namespace hanshiro::memtable
