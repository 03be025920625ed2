// sstable::Block: the checked, uncompressed contents of one data block, and
// an iterator over its entries (docs/format/sstable.md, [SST-8], [SST-9]).
//
// A Block owns its bytes and is immutable: share it (shared_ptr) between the
// block cache and any number of iterators on any threads. An iterator is not
// thread-safe and keeps its block alive.
#ifndef HANSHIRO_SSTABLE_BLOCK_H_
#define HANSHIRO_SSTABLE_BLOCK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "hanshiro/storage_key.h"

#include "hanshiro/status.h"

namespace hanshiro::sstable {

class Block {
 public:
  // Checks the restart array [SST-8]; `where` ("table 000012: data block at
  // offset 4096") prefixes every error about this block.
  static Result<std::shared_ptr<const Block>> Create(std::string contents, std::string where);

  // A block of fixed-width records (id blocks): no restart array, no
  // iterator; the caller checks the contents.
  static std::shared_ptr<const Block> CreateRaw(std::string contents, std::string where);

  size_t size() const { return contents_.size(); }
  const std::string& contents() const { return contents_; }
  const std::string& where() const { return where_; }

  class Iterator {
   public:
    explicit Iterator(std::shared_ptr<const Block> block) : block_(std::move(block)) {}
    bool Valid() const { return valid_; }
    const Status& status() const { return status_; }
    void SeekToFirst();
    // The first entry whose key >= target (newest version first).
    void Seek(std::string_view target);
    void Next();
    std::string_view key() const { return {key_, sizeof(key_)}; }
    uint64_t seq() const { return seq_; }
    std::string_view value() const { return value_; }

   private:
    // Decodes the entry at offset after the current one (or as the first,
    // when !valid_); false (with status_ or at the end) otherwise.
    bool ParseAt(uint32_t offset, bool at_restart);
    // Positions at restart point i.
    bool ParseRestart(uint32_t i);
    void Corrupt(std::string_view what, uint32_t offset);
    uint32_t RestartOffset(uint32_t i) const;

    std::shared_ptr<const Block> block_;
    bool valid_ = false;
    Status status_;
    uint32_t next_ = 0;  // offset of the entry after the current one
    uint32_t restart_ = 0;  // the last restart point at or before the entry
    char key_[StorageKey::kSize] = {};
    uint64_t seq_ = 0;
    std::string_view value_;
  };

 private:
  Block(std::string contents, std::string where, uint32_t restarts_offset, uint32_t restarts)
      : contents_(std::move(contents)),
        where_(std::move(where)),
        restarts_offset_(restarts_offset),
        restarts_(restarts) {}

  const std::string contents_;
  const std::string where_;
  const uint32_t restarts_offset_;  // = end of the entries
  const uint32_t restarts_;
};

}  // namespace hanshiro::sstable

#endif  // HANSHIRO_SSTABLE_BLOCK_H_
