// Constants and the footer shared by the table writer and reader
// (docs/format/sstable.md; rule tags [SST-n] refer to it).
#ifndef HANSHIRO_SSTABLE_FORMAT_H_
#define HANSHIRO_SSTABLE_FORMAT_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "hanshiro/status.h"
#include "hanshiro/storage_key.h"

namespace hanshiro::sstable {

constexpr std::string_view kMagic = "HSSSTAB1";
constexpr uint32_t kVersion = 1;
constexpr size_t kFooterSize = 238;
constexpr size_t kBlockTrailerSize = 5;  // type u8 | masked crc32c
constexpr size_t kKeySize = StorageKey::kSize;
constexpr size_t kIdSize = 16;
constexpr size_t kIdEntrySize = kIdSize + 1 + 8;      // id | prefix | key time
constexpr size_t kIndexEntrySize = kKeySize + 8 + 4;  // last key | offset | size
constexpr size_t kMaxRawBlockBytes = size_t{64} << 20;  // [SST-7]

enum class Compression : uint8_t { kNone = 0, kSnappy = 1, kLz4 = 2, kZstd = 3 };
constexpr uint8_t kMaxCompression = 3;

struct BlockHandle {
  uint64_t offset = 0;
  uint64_t size = 0;  // stored bytes, without the trailer
};

struct Footer {
  uint32_t id_block_entries = 0;
  uint64_t entries = 0;
  uint64_t data_blocks = 0;
  std::string min_key, max_key;  // kKeySize bytes each
  int64_t min_time = 0, max_time = 0;
  uint64_t min_seq = 0, max_seq = 0;
  std::array<uint8_t, kIdSize> min_id{}, max_id{};
  BlockHandle ids;  // the whole id section, trailers included
  BlockHandle id_index, filter, index;

  void EncodeTo(std::string* out) const;
  // Checks [SST-1] and [SST-6]; `where` names the table in messages.
  static Result<Footer> Decode(std::string_view bytes, std::string_view where);
};

// "table 000012".
std::string TableName(uint64_t number);
std::string TableFileName(uint64_t number);  // "000012.sst"

}  // namespace hanshiro::sstable

#endif  // HANSHIRO_SSTABLE_FORMAT_H_
