#include "sstable/table.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>

#include "base/coding.h"
#include "env/test_dir.h"
#include "hanshiro/storage_key.h"
#include "sstable/compression.h"
#include "sstable/table_builder.h"

namespace hanshiro::sstable {
namespace {

using Entries = std::map<std::pair<std::string, uint64_t>, std::string,
                         std::less<>>;  // (key, seq) -> value; iterated with seq descending below

struct Entry {
  std::string key;
  uint64_t seq;
  std::string value;
};

std::string Key(uint8_t kind, int64_t time, uint64_t id) {
  return std::string(
      StorageKey(static_cast<ValueKind>(kind), time, EventId(0x0190000000007000ull | id, id * 7919 + 1))
          .view());
}

// Entries in internal order: increasing time, a few keys with two versions.
std::vector<Entry> MakeEntries(size_t n, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Entry> out;
  int64_t t = 1'700'000'000'000'000'000;
  for (size_t i = 0; i < n; ++i) {
    t += static_cast<int64_t>(rng() % 1000);
    std::string value(20 + rng() % 300, '\0');
    for (char& c : value) c = static_cast<char>('a' + rng() % 4);  // compressible
    const std::string key = Key(1, t, i);
    if (i % 97 == 5) out.push_back({key, 1000000 + i, value + "new"});
    out.push_back({key, i, value});
  }
  return out;
}

class TableTest : public ::testing::TestWithParam<Compression> {
 protected:
  std::string Build(const std::vector<Entry>& entries, TableOptions options = {}) {
    options.compression = GetParam();
    const std::string path = JoinPath(dir_.path(), "000007.sst");
    auto file = Env::Default()->NewWritableFile(path);
    EXPECT_TRUE(file.ok());
    TableBuilder builder(options, file->get());
    for (const Entry& e : entries) EXPECT_TRUE(builder.Add(e.key, e.seq, e.value).ok());
    EXPECT_TRUE(builder.Finish().ok());
    EXPECT_EQ(builder.file_size(), *Env::Default()->GetFileSize(path));
    return path;
  }
  std::shared_ptr<Table> OpenTable(const std::string& path) {
    auto t = Table::Open(Env::Default(), path, 7, &cache_);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? *t : nullptr;
  }

  testing::TestDir dir_;
  BlockCache cache_{8 << 20};
};

TEST_P(TableTest, IteratesEveryEntryInOrder) {
  const auto entries = MakeEntries(5000, 1);
  TableOptions options;
  options.block_size = 4096;
  auto table = OpenTable(Build(entries, options));
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->footer().entries, entries.size());
  EXPECT_GT(table->footer().data_blocks, 100u);
  auto it = table->NewIterator();
  size_t i = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++i) {
    ASSERT_LT(i, entries.size());
    ASSERT_EQ(it->key(), entries[i].key);
    ASSERT_EQ(it->seq(), entries[i].seq);
    ASSERT_EQ(it->value(), entries[i].value);
  }
  EXPECT_TRUE(it->status().ok()) << it->status().ToString();
  EXPECT_EQ(i, entries.size());
}

// Ids in an order unrelated to the keys' (as when writers interleave):
// the id section is sorted at Finish, with ids that share their high word and
// a key that has two versions, and every id is still found.
TEST_P(TableTest, FindsEveryIdWhenIdsAreNotInKeyOrder) {
  std::mt19937_64 rng(3);
  std::vector<Entry> entries;
  int64_t t = 1'700'000'000'000'000'000;
  for (size_t i = 0; i < 4000; ++i) {
    t += 1 + static_cast<int64_t>(rng() % 1000);
    const uint64_t hi = 0x0190000000000000ull | (rng() % 50);  // many equal high words
    const std::string key =
        std::string(StorageKey(ValueKind::kLog, t, EventId(hi, rng())).view());
    if (i % 101 == 7) entries.push_back({key, 100000 + i, "newer"});
    entries.push_back({key, i, "value " + std::to_string(i)});
  }
  TableOptions options;
  options.block_size = 1024;
  options.index_interval = 8;
  auto table = OpenTable(Build(entries, options));
  ASSERT_NE(table, nullptr);
  for (const Entry& e : entries) {
    auto found = table->FindKey(e.key.substr(9));
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    ASSERT_TRUE(found->has_value());
    EXPECT_EQ(**found, e.key);
  }
  std::string absent = entries[5].key;
  absent[24] ^= 0x55;
  EXPECT_FALSE(table->FindKey(absent.substr(9))->has_value());
}

TEST_P(TableTest, SeekGetAndFindKey) {
  const auto entries = MakeEntries(3000, 2);
  TableOptions options;
  options.block_size = 2048;
  options.index_interval = 16;
  auto table = OpenTable(Build(entries, options));
  ASSERT_NE(table, nullptr);
  for (size_t i = 0; i < entries.size(); i += 7) {
    const Entry& e = entries[i];
    if (i > 0 && entries[i - 1].key == e.key) continue;  // an older version
    std::string value;
    uint64_t seq = 0;
    ASSERT_TRUE(table->Get(e.key, &value, &seq).ok()) << i;
    EXPECT_EQ(value, e.value);  // the newest version comes first
    EXPECT_EQ(seq, e.seq);
    auto found = table->FindKey(e.key.substr(9));
    ASSERT_TRUE(found.ok());
    ASSERT_TRUE(found->has_value()) << i;
    EXPECT_EQ(**found, e.key);

    auto it = table->NewIterator();
    it->Seek(e.key);
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(it->key(), e.key);
  }
  // Absent keys and ids, between and beyond the present ones.
  std::string between = entries[10].key;
  between[24] ^= 0x55;
  std::string value;
  EXPECT_TRUE(table->Get(between, &value, nullptr).IsNotFound());
  EXPECT_FALSE(table->FindKey(between.substr(9))->has_value());
  auto it = table->NewIterator();
  it->Seek(Key(2, 0, 1));  // after every log key
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->status().ok());
  it->Seek(Key(1, 0, 0));
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), entries[0].key);
}

TEST_P(TableTest, FooterHoldsRanges) {
  const auto entries = MakeEntries(100, 3);
  auto table = OpenTable(Build(entries));
  ASSERT_NE(table, nullptr);
  const Footer& f = table->footer();
  EXPECT_EQ(f.min_key, entries.front().key);
  EXPECT_EQ(f.max_key, entries.back().key);
  EXPECT_EQ(f.min_seq, 0u);
  EXPECT_EQ(f.max_seq, 1000000u + 5);
  EXPECT_EQ(f.min_time, static_cast<int64_t>(DecodeBigEndian64(entries.front().key.data() + 1)));
  EXPECT_EQ(f.max_time, static_cast<int64_t>(DecodeBigEndian64(entries.back().key.data() + 1)));
}

INSTANTIATE_TEST_SUITE_P(AllCompressions, TableTest,
                         ::testing::Values(Compression::kNone, Compression::kSnappy,
                                           Compression::kLz4, Compression::kZstd),
                         [](const auto& info) { return std::string(CompressionName(info.param)); });

class TableCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = JoinPath(dir_.path(), "000009.sst");
    auto file = Env::Default()->NewWritableFile(path_);
    ASSERT_TRUE(file.ok());
    TableOptions options;
    options.block_size = 1024;
    options.index_interval = 8;
    options.compression = Compression::kLz4;
    TableBuilder builder(options, file->get());
    entries_ = MakeEntries(400, 4);
    for (const Entry& e : entries_) ASSERT_TRUE(builder.Add(e.key, e.seq, e.value).ok());
    ASSERT_TRUE(builder.Finish().ok());
    footer_ = builder.footer();
    bytes_ = *ReadFileToString(Env::Default(), path_);
  }
  void Write(const std::string& bytes) {
    ASSERT_TRUE(WriteStringToFile(Env::Default(), bytes, path_, false).ok());
  }
  void Flip(uint64_t offset) {
    std::string b = bytes_;
    b[offset] = static_cast<char>(b[offset] ^ 0x10);
    Write(b);
  }
  Result<std::shared_ptr<Table>> Open() { return Table::Open(Env::Default(), path_, 9, nullptr); }
  // Reads everything; the first error.
  Status ScanAll() {
    auto t = Open();
    if (!t.ok()) return t.status();
    auto it = (*t)->NewIterator();
    size_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    if (!it->status().ok()) return it->status();
    return n == entries_.size() ? Status::OK() : Status::Corruption("lost entries silently");
  }

  testing::TestDir dir_;
  std::string path_, bytes_;
  std::vector<Entry> entries_;
  Footer footer_;
};

TEST_F(TableCorruptionTest, IntactTableReadsBack) { EXPECT_TRUE(ScanAll().ok()); }

TEST_F(TableCorruptionTest, DataBlockFlipIsNamedCorruption) {
  Flip(100);  // inside the first data block
  Status s = ScanAll();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("table 000009: data block at offset 0"), std::string::npos)
      << s.message();
  auto t = Open();
  ASSERT_TRUE(t.ok());
  std::string value;
  EXPECT_TRUE((*t)->Get(entries_[0].key, &value, nullptr).IsCorruption());
}

TEST_F(TableCorruptionTest, EverySectionFlipIsDetected) {
  const std::vector<std::pair<const char*, uint64_t>> places = {
      {"id block", footer_.ids.offset + 3},
      {"id index", footer_.id_index.offset + 1},
      {"filter", footer_.filter.offset + 2},
      {"index", footer_.index.offset + 30},
      {"footer", bytes_.size() - kFooterSize + 20},
      {"magic", bytes_.size() - kFooterSize},
  };
  for (const auto& [what, offset] : places) {
    Flip(offset);
    Status s = ScanAll();
    if (s.ok() && std::string_view(what) == "id block") {
      // Id blocks are read by lookups, not scans.
      auto t = Open();
      ASSERT_TRUE(t.ok());
      auto found = (*t)->FindKey(entries_[0].key.substr(9));
      s = found.status();
    }
    EXPECT_TRUE(s.IsCorruption()) << what << ": " << s.ToString();
    EXPECT_NE(s.message().find("table 000009"), std::string::npos) << s.message();
  }
}

// Footers with a valid checksum but fields that do not add up (a writer bug
// or a crafted file): refused at open, never read out of bounds.
TEST_F(TableCorruptionTest, CraftedFootersAreRefused) {
  const std::vector<std::pair<const char*, std::function<void(Footer*)>>> edits = {
      {"filter of 3 bytes", [](Footer* f) { f->filter.size = 3; }},
      {"filter of 0 bytes", [](Footer* f) { f->filter.size = 0; }},
      {"filter size wraps", [](Footer* f) { f->filter.size = UINT64_MAX - 3; }},
      {"index past the end", [](Footer* f) { f->index.offset = UINT64_MAX - 10; }},
      {"index size wraps", [](Footer* f) { f->index.size = UINT64_MAX; }},
      {"ids overlap the data", [](Footer* f) { f->ids.offset -= 10; }},
      {"huge entry count", [](Footer* f) { f->entries = UINT64_MAX / 2; }},
      {"huge block count", [](Footer* f) { f->data_blocks = UINT64_MAX / 8; }},
      {"other id interval", [](Footer* f) { f->id_block_entries = 7; }},
  };
  for (const auto& [what, edit] : edits) {
    Footer f = *Footer::Decode(std::string_view(bytes_).substr(bytes_.size() - kFooterSize), "t");
    edit(&f);
    std::string b = bytes_.substr(0, bytes_.size() - kFooterSize);
    f.EncodeTo(&b);
    Write(b);
    auto t = Open();
    ASSERT_FALSE(t.ok()) << what;
    EXPECT_TRUE(t.status().IsCorruption()) << what << ": " << t.status().ToString();
  }
}

TEST_F(TableCorruptionTest, TruncationIsCorruptionAtEveryLength) {
  for (size_t len : {size_t{0}, size_t{10}, bytes_.size() / 2, bytes_.size() - kFooterSize,
                     bytes_.size() - 1}) {
    Write(bytes_.substr(0, len));
    Status s = ScanAll();
    EXPECT_TRUE(s.IsCorruption()) << len << ": " << s.ToString();
  }
}

TEST_F(TableCorruptionTest, RandomFlipsNeverGiveAWrongAnswer) {
  std::mt19937 rng(5);
  for (int round = 0; round < 300; ++round) {
    const uint64_t offset = rng() % bytes_.size();
    Flip(offset);
    auto t = Open();
    if (!t.ok()) {
      EXPECT_TRUE(t.status().IsCorruption()) << offset;
      continue;
    }
    auto it = (*t)->NewIterator();
    size_t i = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++i) {
      ASSERT_LT(i, entries_.size()) << offset;
      // A flip that survives every check must not be inside what we read.
      ASSERT_EQ(it->key(), entries_[i].key) << offset;
      ASSERT_EQ(it->value(), entries_[i].value) << offset;
    }
    if (it->status().ok()) {
      EXPECT_EQ(i, entries_.size()) << offset;
    } else {
      EXPECT_TRUE(it->status().IsCorruption()) << offset;
    }
  }
}

}  // namespace
}  // namespace hanshiro::sstable
