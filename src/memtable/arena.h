// Arena: bump allocation from large blocks, freed all at once with the arena
// (the memtable's nodes live exactly as long as the memtable). Allocate is
// for one thread at a time; bytes() may be read from any thread.
#ifndef HANSHIRO_MEMTABLE_ARENA_H_
#define HANSHIRO_MEMTABLE_ARENA_H_

#include <atomic>
#include <cstddef>
#include <vector>

#include "base/huge_array.h"

namespace hanshiro::memtable {

class Arena {
 public:
  explicit Arena(size_t block_bytes = size_t{4} << 20) : block_bytes_(block_bytes) {}
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
    blocks_.emplace_back(size);
    reserved_.fetch_add(size, std::memory_order_relaxed);
    return blocks_.back().data();
  }

  const size_t block_bytes_;
  std::vector<HugeArray<char>> blocks_;
  char* next_ = nullptr;
  size_t left_ = 0;
  std::atomic<size_t> reserved_{0};
};

}  // namespace hanshiro::memtable

#endif  // HANSHIRO_MEMTABLE_ARENA_H_
