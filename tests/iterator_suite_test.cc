// One iterator test suite, run against a memtable, one table and the whole
// store (memtable plus several flushed tables): the same entries must come
// back the same way from each.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>

#include "env/test_dir.h"
#include "lsm/db.h"
#include "lsm/mem.h"
#include "lsm/test_util.h"
#include "sstable/table.h"
#include "sstable/table_builder.h"

namespace hanshiro {
namespace {

struct Entry {
  std::string key;
  uint64_t seq;
  std::string value;
};

constexpr int64_t kT0 = 1'700'000'000'000'000'000;

// Records in write order (sequence number = position); every 5th rewrites
// an earlier key.
std::vector<Entry> WriteOrder() {
  std::mt19937_64 rng(9);
  std::vector<Entry> out;
  std::vector<std::pair<uint64_t, int64_t>> keys;
  for (uint64_t i = 0; i < 1500; ++i) {
    lsm::testing::TestRecord r;
    if (i % 5 == 4) {
      const auto& [n, t] = keys[rng() % keys.size()];
      r = lsm::testing::MakeEvent(n, t, static_cast<int>(i));
    } else {
      const int64_t t = kT0 + static_cast<int64_t>(rng() % 10'000'000);
      keys.emplace_back(i, t);
      r = lsm::testing::MakeEvent(i, t);
    }
    out.push_back({r.key, i, r.record});
  }
  return out;
}

std::vector<Entry> InternalOrder(std::vector<Entry> v) {
  std::sort(v.begin(), v.end(), [](const Entry& a, const Entry& b) {
    return a.key != b.key ? a.key < b.key : a.seq > b.seq;
  });
  return v;
}

enum class Source { kMemtable, kTable, kStore };

class IteratorSuite : public ::testing::TestWithParam<Source> {
 protected:
  void SetUp() override {
    const auto written = WriteOrder();
    expected_ = InternalOrder(written);
    switch (GetParam()) {
      case Source::kMemtable: {
        auto mem = std::make_shared<lsm::Mem>(nullptr);
        for (const Entry& e : written) mem->Add(e.seq, e.key, e.value);
        it_ = lsm::NewMemIterator(mem);
        break;
      }
      case Source::kTable: {
        const std::string path = JoinPath(dir_.path(), "000001.sst");
        auto file = Env::Default()->NewWritableFile(path);
        ASSERT_TRUE(file.ok());
        sstable::TableOptions options;
        options.block_size = 2048;
        sstable::TableBuilder builder(options, file->get());
        for (const Entry& e : expected_) ASSERT_TRUE(builder.Add(e.key, e.seq, e.value).ok());
        ASSERT_TRUE(builder.Finish().ok());
        auto table = sstable::Table::Open(Env::Default(), path, 1, nullptr);
        ASSERT_TRUE(table.ok()) << table.status().ToString();
        it_ = (*table)->NewIterator();
        break;
      }
      case Source::kStore: {
        lsm::Options options;
        options.sync_on_write = false;
        options.table.block_size = 2048;
        options.l0_compaction_trigger = 1000;  // keep the four overlapping tables
        auto db = lsm::DB::Open(options, dir_.path());
        ASSERT_TRUE(db.ok());
        db_ = std::move(db).value();
        // Four flushed tables (overlapping) and the rest in the memtable.
        for (size_t i = 0; i < written.size(); ++i) {
          const lsm::WriteRecord w{written[i].key, written[i].value};
          auto seq = db_->Write({&w, 1});
          ASSERT_TRUE(seq.ok());
          ASSERT_EQ(*seq, written[i].seq);
          if (i % 300 == 299 && i < 1200) {
            ASSERT_TRUE(db_->Flush().ok());
          }
        }
        ASSERT_EQ(db_->current()->tables.size(), 4u);
        it_ = db_->NewInternalIterator();
        break;
      }
    }
  }

  ::hanshiro::testing::TestDir dir_;
  std::unique_ptr<lsm::DB> db_;
  std::unique_ptr<sstable::Iterator> it_;
  std::vector<Entry> expected_;
};

TEST_P(IteratorSuite, FullScanIsInInternalOrder) {
  size_t i = 0;
  for (it_->SeekToFirst(); it_->Valid(); it_->Next(), ++i) {
    ASSERT_LT(i, expected_.size());
    ASSERT_EQ(it_->key(), expected_[i].key) << i;
    ASSERT_EQ(it_->seq(), expected_[i].seq) << i;
    ASSERT_EQ(it_->value(), expected_[i].value) << i;
  }
  EXPECT_TRUE(it_->status().ok());
  EXPECT_EQ(i, expected_.size());
}

TEST_P(IteratorSuite, SeekLandsOnTheNewestVersionOfTheFirstKeyAtOrAfter) {
  for (size_t i = 0; i < expected_.size(); i += 3) {
    const Entry& e = expected_[i];
    it_->Seek(e.key);
    ASSERT_TRUE(it_->Valid()) << i;
    const auto first = std::find_if(expected_.begin(), expected_.end(),
                                    [&](const Entry& x) { return x.key == e.key; });
    EXPECT_EQ(it_->seq(), first->seq) << i;  // newest first
    // Just after the key: the next distinct key.
    std::string after = e.key + '\0';
    it_->Seek(after);
    const auto next = std::find_if(expected_.begin(), expected_.end(),
                                   [&](const Entry& x) { return x.key > e.key; });
    if (next == expected_.end()) {
      EXPECT_FALSE(it_->Valid());
    } else {
      ASSERT_TRUE(it_->Valid());
      EXPECT_EQ(it_->key(), next->key);
    }
  }
}

TEST_P(IteratorSuite, SeekOutsideTheRange) {
  it_->Seek(std::string(1, '\x01'));
  ASSERT_TRUE(it_->Valid());
  EXPECT_EQ(it_->key(), expected_.front().key);
  it_->Seek(std::string(1, '\x02'));
  EXPECT_FALSE(it_->Valid());
  EXPECT_TRUE(it_->status().ok());
  // Usable again after running off the end.
  it_->SeekToFirst();
  ASSERT_TRUE(it_->Valid());
  EXPECT_EQ(it_->key(), expected_.front().key);
}

TEST_P(IteratorSuite, IteratesFromEverySeekToTheEnd) {
  const size_t start = expected_.size() / 2;
  it_->Seek(expected_[start].key);
  size_t i = start;
  while (i > 0 && expected_[i - 1].key == expected_[start].key) --i;
  for (; it_->Valid(); it_->Next(), ++i) {
    ASSERT_EQ(it_->key(), expected_[i].key);
    ASSERT_EQ(it_->seq(), expected_[i].seq);
  }
  EXPECT_EQ(i, expected_.size());
}

INSTANTIATE_TEST_SUITE_P(Sources, IteratorSuite,
                         ::testing::Values(Source::kMemtable, Source::kTable, Source::kStore),
                         [](const auto& info) {
                           switch (info.param) {
                             case Source::kMemtable: return std::string("Memtable");
                             case Source::kTable: return std::string("Table");
                             case Source::kStore: return std::string("Store");
                           }
                           return std::string();
                         });

}  // namespace
}  // namespace hanshiro
