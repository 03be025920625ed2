// Arena: bump allocation from large blocks, freed all at once with the arena
// (the memtable's nodes live exactly as long as the memtable), or handed to a
// BlockPool for the next arena. Allocate is for one thread at a time; bytes()
// may be read from any thread.
#ifndef HANSHIRO_MEMTABLE_ARENA_H_
#define HANSHIRO_MEMTABLE_ARENA_H_

#include <atomic>
#include <cstddef>
#include <mutex>
#include <vector>

#include "base/huge_array.h"

namespace hanshiro::memtable {

// BlockPool: arena blocks of one size kept for reuse when their arena goes,
// so the next memtable writes to memory that is already faulted in (on
// virtual machines the first touch of fresh memory costs far more than
// later ones). Holds at most `max_blocks`. Thread-safe.
class BlockPool {
 public:
  BlockPool(size_t block_bytes, size_t max_blocks)
      : block_bytes_(block_bytes), max_blocks_(max_blocks) {}
  size_t block_bytes() const { return block_bytes_; }
  // A pooled block, or an empty array when there is none.
  HugeArray<char> Take() {
    std::lock_guard lock(mu_);
    if (free_.empty()) return {};
    HugeArray<char> b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void Give(HugeArray<char> block) {
    std::lock_guard lock(mu_);
    if (free_.size() < max_blocks_) free_.push_back(std::move(block));
  }
  size_t bytes() const {
    std::lock_guard lock(mu_);
    return free_.size() * block_bytes_;
  }

 private:
  const size_t block_bytes_;
  const size_t max_blocks_;
  mutable std::mutex mu_;
  std::vector<HugeArray<char>> free_;
};

class Arena {
 public:
  static constexpr size_t kDefaultBlockBytes = size_t{4} << 20;

  // Borrows pool (when set; it must outlive the arena), whose block size
  // the arena then uses.
  explicit Arena(BlockPool* pool = nullptr)
      : block_bytes_(pool != nullptr ? pool->block_bytes() : kDefaultBlockBytes), pool_(pool) {}
  ~Arena() {
    if (pool_ == nullptr) return;
    for (HugeArray<char>& b : blocks_) {
      if (b.size() == block_bytes_) pool_->Give(std::move(b));
    }
  }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // `bytes` of memory aligned to 8, valid until the arena is destroyed.
  char* Allocate(size_t bytes) {
    bytes = (bytes + 7) & ~size_t{7};
    if (bytes > left_) {
      if (bytes > block_bytes_ / 4) return NewBlock(bytes);  // large: a block of its own
      next_ = NewBlock(block_bytes_);
      left_ = block_bytes_;
    }
    char* p = next_;
    next_ += bytes;
    left_ -= bytes;
    return p;
  }
  // Memory taken from the system so far.
  size_t bytes() const { return reserved_.load(std::memory_order_relaxed); }

 private:
  // Blocks are huge-page backed: one page fault per 2 MiB, not per 4 KiB.
  char* NewBlock(size_t size) {
    HugeArray<char> pooled;
    if (pool_ != nullptr && size == block_bytes_) pooled = pool_->Take();
    if (!pooled.empty()) {
      blocks_.push_back(std::move(pooled));
    } else {
      blocks_.emplace_back(size);
    }
    reserved_.fetch_add(size, std::memory_order_relaxed);
    return blocks_.back().data();
  }

  const size_t block_bytes_;
  BlockPool* const pool_;
  std::vector<HugeArray<char>> blocks_;
  char* next_ = nullptr;
  size_t left_ = 0;
  std::atomic<size_t> reserved_{0};
};

}  // namespace hanshiro::memtable

#endif  // HANSHIRO_MEMTABLE_ARENA_H_
