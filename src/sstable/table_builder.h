// sstable::TableBuilder: writes one table (docs/format/sstable.md) from
// entries given in internal order. It streams data blocks to the file and
// keeps only per-block index entries, one hash and one id entry per entry
// in memory (about 33 bytes per entry), so memory is bounded by the table's
// size; callers cut tables at a target size.
//
// Tables are written under their final name: Finish syncs and closes the
// file; a manifest makes the table live. Not thread-safe.
#ifndef HANSHIRO_SSTABLE_TABLE_BUILDER_H_
#define HANSHIRO_SSTABLE_TABLE_BUILDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hanshiro/env.h"
#include "sstable/block_builder.h"
#include "sstable/bloom.h"
#include "sstable/format.h"

namespace hanshiro::sstable {

struct TableOptions {
  size_t block_size = 64 << 10;  // uncompressed bytes per data block (target)
  Compression compression = Compression::kNone;
  int bloom_bits_per_key = 10;
  uint32_t index_interval = 256;  // entries per id block
  int restart_interval = 16;
};

class TableBuilder {
 public:
  // Borrows file, which must outlive the builder.
  TableBuilder(const TableOptions& options, WritableFile* file);

  // REQUIRES: key is a valid 25-byte storage key; (key, seq) comes after the
  // previous entry in internal order; value is the record.
  Status Add(std::string_view key, uint64_t seq, std::string_view value);
  // Writes the remaining sections and the footer, then syncs the file.
  // REQUIRES: entries() > 0
  Status Finish();

  uint64_t entries() const { return footer_.entries; }
  // Bytes written so far, plus the open block.
  uint64_t FileSizeEstimate() const { return offset_ + block_.SizeEstimate(); }
  uint64_t file_size() const { return offset_; }
  const Footer& footer() const { return footer_; }

 private:
  Status FlushDataBlock();
  // Appends stored contents with its trailer; sets *handle.
  Status WriteBlock(std::string_view stored, Compression type, BlockHandle* handle);
  Status WriteRaw(std::string_view contents, BlockHandle* handle);
  Status WriteIdSection();

  const TableOptions options_;
  WritableFile* const file_;
  uint64_t offset_ = 0;
  BlockBuilder block_;
  std::string compressed_;
  std::string index_;                // index entries
  std::vector<char> ids_;            // id entries, unsorted
  BloomBuilder bloom_;
  Footer footer_;
  std::string last_key_;
  Status status_;
};

}  // namespace hanshiro::sstable

#endif  // HANSHIRO_SSTABLE_TABLE_BUILDER_H_
