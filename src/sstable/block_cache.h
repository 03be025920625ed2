// sstable::BlockCache: a sharded LRU cache of uncompressed, checked blocks,
// keyed by (table number, block offset), bounded by the bytes it holds.
// Entries are shared: a block evicted while an iterator reads it lives until
// that iterator lets go. Thread-safe (one mutex per shard).
#ifndef HANSHIRO_SSTABLE_BLOCK_CACHE_H_
#define HANSHIRO_SSTABLE_BLOCK_CACHE_H_

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "sstable/block.h"

namespace hanshiro::sstable {

class BlockCache {
 public:
  explicit BlockCache(size_t capacity_bytes);
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  std::shared_ptr<const Block> Lookup(uint64_t table, uint64_t offset);
  // Replaces any entry with the same key; evicts least recently used ones.
  void Insert(uint64_t table, uint64_t offset, std::shared_ptr<const Block> block);
  // Drops every block of a table (after it is deleted).
  void EraseTable(uint64_t table);

  size_t bytes() const;
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  static constexpr int kShards = 16;
  struct Key {
    uint64_t table, offset;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Shard {
    mutable std::mutex mu;
    std::list<std::pair<Key, std::shared_ptr<const Block>>> lru;  // front = newest
    std::unordered_map<Key, decltype(lru)::iterator, KeyHash> map;
    size_t bytes = 0;
  };
  Shard& ShardFor(const Key& k) { return shards_[KeyHash()(k) % kShards]; }

  const size_t shard_capacity_;
  Shard shards_[kShards];
  std::atomic<uint64_t> hits_{0}, misses_{0};
};

}  // namespace hanshiro::sstable

#endif  // HANSHIRO_SSTABLE_BLOCK_CACHE_H_
