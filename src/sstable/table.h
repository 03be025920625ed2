// sstable::Table: an open, checked table file (docs/format/sstable.md).
//
// Open reads the footer, index, id index and filter into memory and checks
// [SST-1]..[SST-6]; data and id blocks are read with pread through the Env
// when needed, checked ([SST-7]..[SST-10]) and kept in the shared block
// cache. Every error names the table and the block.
//
// Thread-safe: any number of threads may call Get, FindKey and NewIterator
// at once. Borrows the cache, which must outlive the table; iterators keep
// the table alive (they hold a shared_ptr to it).
#ifndef HANSHIRO_SSTABLE_TABLE_H_
#define HANSHIRO_SSTABLE_TABLE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "hanshiro/env.h"
#include "sstable/block.h"
#include "sstable/block_cache.h"
#include "sstable/format.h"
#include "sstable/iterator.h"

namespace hanshiro::sstable {

class Table : public std::enable_shared_from_this<Table> {
 public:
  // `cache` may be null (no caching).
  static Result<std::shared_ptr<Table>> Open(Env* env, const std::string& path, uint64_t number,
                                             BlockCache* cache);

  // The newest version of key: OK with *value and *seq set, NotFound, or an
  // error reading the table.
  Status Get(std::string_view key, std::string* value, uint64_t* seq) const;
  // The storage key of the entry with this 16-byte id, or nullopt.
  Result<std::optional<std::string>> FindKey(std::string_view id) const;
  // Whether the filter and id range admit the id (no I/O).
  bool MayContainId(std::string_view id) const;

  // Reads blocks through the cache; fill_cache = false keeps a long scan
  // from evicting what point reads use.
  std::unique_ptr<Iterator> NewIterator(bool fill_cache = true) const;

  uint64_t number() const { return number_; }
  uint64_t file_size() const { return file_size_; }
  const Footer& footer() const { return footer_; }

 private:
  class TableIterator;
  Table(std::unique_ptr<RandomAccessFile> file, uint64_t number, uint64_t file_size,
        BlockCache* cache)
      : file_(std::move(file)), number_(number), file_size_(file_size), cache_(cache) {}
  Status ReadSections();
  // Reads and checks the stored bytes and trailer of a block [SST-4], [SST-7];
  // *contents gets the uncompressed contents.
  Status ReadBlock(const BlockHandle& handle, std::string_view what, std::string* contents) const;
  Result<std::shared_ptr<const Block>> DataBlock(uint64_t index, bool fill_cache) const;
  std::string_view IndexKey(uint64_t i) const;
  BlockHandle IndexHandle(uint64_t i) const;
  // The first data block whose last key >= key (= data_blocks when none).
  uint64_t FindBlock(std::string_view key) const;

  const std::unique_ptr<RandomAccessFile> file_;
  const uint64_t number_;
  const uint64_t file_size_;
  BlockCache* const cache_;
  std::string name_;  // "table 000012"
  Footer footer_;
  std::string index_, id_index_, filter_;
  uint64_t id_blocks_ = 0;
};

}  // namespace hanshiro::sstable

#endif  // HANSHIRO_SSTABLE_TABLE_H_
