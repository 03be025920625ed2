#include "sstable/block_cache.h"

namespace hanshiro::sstable {

BlockCache::BlockCache(size_t capacity_bytes) : shard_capacity_(capacity_bytes / kShards) {}

size_t BlockCache::KeyHash::operator()(const Key& k) const {
  uint64_t h = k.table * 0x9e3779b97f4a7c15ull ^ (k.offset + 0x632be59bd9b4e019ull);
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  return static_cast<size_t>(h ^ (h >> 32));
}

std::shared_ptr<const Block> BlockCache::Lookup(uint64_t table, uint64_t offset) {
  const Key key{table, offset};
  Shard& s = ShardFor(key);
  std::lock_guard lock(s.mu);
  auto it = s.map.find(key);
  if (it == s.map.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  hits_.fetch_add(1, std::memory_order_relaxed);
  s.lru.splice(s.lru.begin(), s.lru, it->second);
  return it->second->second;
}

void BlockCache::Insert(uint64_t table, uint64_t offset, std::shared_ptr<const Block> block) {
  const Key key{table, offset};
  Shard& s = ShardFor(key);
  std::lock_guard lock(s.mu);
  if (auto it = s.map.find(key); it != s.map.end()) {
    s.bytes -= it->second->second->size();
    s.lru.erase(it->second);
    s.map.erase(it);
  }
  s.bytes += block->size();
  s.lru.emplace_front(key, std::move(block));
  s.map.emplace(key, s.lru.begin());
  while (s.bytes > shard_capacity_ && !s.lru.empty()) {
    auto& [k, b] = s.lru.back();
    s.bytes -= b->size();
    s.map.erase(k);
    s.lru.pop_back();
  }
}

void BlockCache::EraseTable(uint64_t table) {
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (auto it = s.lru.begin(); it != s.lru.end();) {
      if (it->first.table == table) {
        s.bytes -= it->second->size();
        s.map.erase(it->first);
        it = s.lru.erase(it);
      } else {
        ++it;
      }
    }
  }
}

size_t BlockCache::bytes() const {
  size_t total = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    total += s.bytes;
  }
  return total;
}

}  // namespace hanshiro::sstable
