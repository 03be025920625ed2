// lsm::TableCache: the open tables of a store, at most `capacity` at once
// (each holds one file descriptor), least recently used closed first. A
// table in use by a reader stays open until the reader lets go, even when
// evicted. Thread-safe.
#ifndef HANSHIRO_LSM_TABLE_CACHE_H_
#define HANSHIRO_LSM_TABLE_CACHE_H_

#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "hanshiro/env.h"
#include "sstable/block_cache.h"
#include "sstable/table.h"

namespace hanshiro::lsm {

class TableCache {
 public:
  // Borrows env and blocks, which must outlive the cache.
  TableCache(Env* env, std::string dir, size_t capacity, sstable::BlockCache* blocks)
      : env_(env), dir_(std::move(dir)), capacity_(capacity), blocks_(blocks) {}

  Result<std::shared_ptr<sstable::Table>> Get(uint64_t number);
  // Forgets the table and its cached blocks (before its file is deleted).
  void Evict(uint64_t number);
  size_t open() const;

 private:
  using Entry = std::pair<uint64_t, std::shared_ptr<sstable::Table>>;
  Env* const env_;
  const std::string dir_;
  const size_t capacity_;
  sstable::BlockCache* const blocks_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // front = most recent
  std::unordered_map<uint64_t, std::list<Entry>::iterator> map_;
};

}  // namespace hanshiro::lsm

#endif  // HANSHIRO_LSM_TABLE_CACHE_H_
