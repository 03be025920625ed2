// Pins table format version 1: a one-entry table (the minimal event record,
// seq 7) is compared with tests/golden/sstable_v1_one_event.sst, and its data
// block, id block and section offsets are rebuilt by hand from
// docs/format/sstable.md's worked example. HANSHIRO_UPDATE_GOLDEN=1 rewrites
// the golden file.
#include <gtest/gtest.h>

#include <cstdlib>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/record.h"
#include "env/test_dir.h"
#include "hanshiro/storage_key.h"
#include "sstable/table.h"
#include "sstable/table_builder.h"

namespace hanshiro::sstable {
namespace {

const std::string kGoldenDir = HANSHIRO_GOLDEN_DIR;

std::string Trailer(std::string_view stored) {
  std::string with_type(stored);
  with_type.push_back('\0');
  std::string out(1, '\0');
  PutFixed32(&out, crc32c::Mask(crc32c::Value(with_type)));
  return out;
}

TEST(SstableGoldenTest, OneEventTableMatchesTheDocument) {
  const std::string record =
      *ReadFileToString(Env::Default(), kGoldenDir + "/record_v1_event_minimal.bin");
  ASSERT_EQ(record.size(), 64u);
  const std::string key(StorageKey::For(*record::Decode(record)).view());

  ::hanshiro::testing::TestDir dir;
  const std::string path = JoinPath(dir.path(), "000001.sst");
  {
    auto file = Env::Default()->NewWritableFile(path);
    ASSERT_TRUE(file.ok());
    TableOptions options;  // none, 10 bits per key, index_interval 256
    TableBuilder builder(options, file->get());
    ASSERT_TRUE(builder.Add(key, 7, record).ok());
    ASSERT_TRUE(builder.Finish().ok());
  }
  const std::string bytes = *ReadFileToString(Env::Default(), path);
  const std::string golden_path = kGoldenDir + "/sstable_v1_one_event.sst";
  if (std::getenv("HANSHIRO_UPDATE_GOLDEN") != nullptr) {
    ASSERT_TRUE(WriteStringToFile(Env::Default(), bytes, golden_path, true).ok());
  }
  auto golden = ReadFileToString(Env::Default(), golden_path);
  ASSERT_TRUE(golden.ok()) << golden.status().ToString();
  EXPECT_EQ(bytes, *golden) << "the writer's bytes changed: a new format version?";
  ASSERT_EQ(bytes.size(), 458u);

  // The data block, by the grammar: one entry, one restart.
  std::string block;
  block += '\x00';  // shared
  block += '\x19';  // non_shared 25
  block += '\x40';  // value_len 64
  block += key;
  PutFixed64(&block, 7);
  block += record;
  PutFixed32(&block, 0);
  PutFixed32(&block, 1);
  ASSERT_EQ(block.size(), 108u);
  EXPECT_EQ(bytes.substr(0, 113), block + Trailer(block));
  // The id block at 113: id | prefix | key time.
  const std::string id_entry = key.substr(9) + key.substr(0, 9);
  EXPECT_EQ(bytes.substr(113, 30), id_entry + Trailer(id_entry));
  // The id index at 143: the first id.
  EXPECT_EQ(bytes.substr(143, 21), key.substr(9) + Trailer(key.substr(9)));
  // The filter at 164 (8 bytes of bits, k = 7), the index at 178.
  EXPECT_EQ(bytes[164 + 8], '\x07');
  std::string index = key;
  PutFixed64(&index, 0);
  PutFixed32(&index, 108);
  EXPECT_EQ(bytes.substr(178, 42), index + Trailer(index));
  // The footer at 220.
  EXPECT_EQ(bytes.substr(220, 8), "HSSSTAB1");
  auto footer = Footer::Decode(std::string_view(bytes).substr(220), "golden");
  ASSERT_TRUE(footer.ok()) << footer.status().ToString();
  EXPECT_EQ(footer->ids.offset, 113u);
  EXPECT_EQ(footer->id_index.offset, 143u);
  EXPECT_EQ(footer->filter.offset, 164u);
  EXPECT_EQ(footer->index.offset, 178u);
  EXPECT_EQ(footer->min_seq, 7u);
  EXPECT_EQ(footer->entries, 1u);

  // And the golden file opens and reads back.
  auto table = Table::Open(Env::Default(), golden_path, 1, nullptr);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  std::string value;
  uint64_t seq = 0;
  ASSERT_TRUE((*table)->Get(key, &value, &seq).ok());
  EXPECT_EQ(value, record);
  EXPECT_EQ(seq, 7u);
}

}  // namespace
}  // namespace hanshiro::sstable
