#include "lsm/table_cache.h"

#include "sstable/format.h"

namespace hanshiro::lsm {

Result<std::shared_ptr<sstable::Table>> TableCache::Get(uint64_t number) {
  {
    std::lock_guard lock(mu_);
    if (auto it = map_.find(number); it != map_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);
      return it->second->second;
    }
  }
  // Opened outside the lock: two threads may open the same table at once;
  // the second one's copy is simply dropped.
  HANSHIRO_ASSIGN_OR_RETURN(
      std::shared_ptr<sstable::Table> table,
      sstable::Table::Open(env_, JoinPath(dir_, sstable::TableFileName(number)), number, blocks_));
  std::lock_guard lock(mu_);
  if (auto it = map_.find(number); it != map_.end()) return it->second->second;
  lru_.emplace_front(number, table);
  map_.emplace(number, lru_.begin());
  while (lru_.size() > capacity_) {
    map_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return table;
}

void TableCache::Evict(uint64_t number) {
  {
    std::lock_guard lock(mu_);
    if (auto it = map_.find(number); it != map_.end()) {
      lru_.erase(it->second);
      map_.erase(it);
    }
  }
  if (blocks_ != nullptr) blocks_->EraseTable(number);
}

size_t TableCache::open() const {
  std::lock_guard lock(mu_);
  return lru_.size();
}

}  // namespace hanshiro::lsm
