// Ledger: the integrity tree kept on disk (docs/format/ledger.md).
//
// Level L of the ledger holds the roots of the perfect subtrees of 256^L
// leaves, in order: level 0 is every leaf hash, level 1 every node of height
// 8, level 2 of height 16, and so on (the transparency-log "tiles" layout
// with tiles of 256 hashes, one file per level). Any subtree hash, and so any
// inclusion or consistency proof, takes O(log n) reads of at most 128 hashes,
// and the leaf hashes outlive the WAL segments they came from.
//
// The ledger also keeps the tree's right edge in memory, so appending leaves
// and computing the root need no reads. Appends are buffered; Sync makes
// them durable. Everything the ledger holds beyond the last checkpoint can be
// recomputed from the WAL, which is what recovery does (Truncate, then
// Append the replayed leaves).
//
// Thread-safety: Append, Truncate, Sync and Root must be called by one thread
// at a time (the WAL's commit leader); size() and the read functions may be
// called from any thread concurrently with them.
#ifndef HANSHIRO_INTEGRITY_LEDGER_H_
#define HANSHIRO_INTEGRITY_LEDGER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "hanshiro/env.h"
#include "integrity/merkle.h"

namespace hanshiro::integrity {

class Ledger {
 public:
  static constexpr int kTileHeight = 8;
  static constexpr int kMaxLevels = 8;  // 256^8 = 2^64 leaves

  // Opens (creating when missing) the ledger in `dir`. The tree it
  // represents is not usable until Truncate() says how many leaves to trust.
  // Borrows env, which must outlive the ledger.
  static Result<std::unique_ptr<Ledger>> Open(Env* env, const std::string& dir);
  ~Ledger();

  // Keeps the first `size` leaves and drops the rest; rebuilds missing
  // higher-level entries from the level below and the right edge from the
  // files. Corruption when level 0 holds fewer than `size` leaves or a file
  // is malformed.
  Status Truncate(uint64_t size);

  // Appends leaf hashes (the next leaves in order). A write error sticks.
  Status Append(std::span<const Hash256> leaves);
  // The same for leaves whose inner nodes a writer already computed.
  // REQUIRES: range.begin == size()
  Status AppendRange(const RangeNodes& range);
  uint64_t size() const { return size_.load(std::memory_order_acquire); }
  Hash256 Root() const { return tree_.Root(); }
  const CompactTree& tree() const { return tree_; }

  Status Sync();

  // The hash of the perfect subtree of 2^height leaves number `index`.
  // REQUIRES: ((index + 1) << height) <= size()
  Result<Hash256> PerfectHash(int height, uint64_t index) const;
  // The right edge of the tree of the first `size` leaves (from the files).
  // REQUIRES: size <= size()
  Result<CompactTree> CompactTreeAt(uint64_t size) const;
  // Proof helpers over this ledger. REQUIRES: sizes within size()
  Result<Hash256> RootAt(uint64_t size) const;
  Result<std::vector<Hash256>> InclusionPath(uint64_t index, uint64_t size) const;
  Result<std::vector<Hash256>> ConsistencyPath(uint64_t old_size, uint64_t new_size) const;

  // Reads `count` consecutive entries of level `level` from entry `first`
  // (used by verify). REQUIRES: within what Append and Truncate stored
  Status ReadEntries(int level, uint64_t first, uint64_t count, std::vector<Hash256>* out) const;
  // The file of a level and the byte offset of one of its entries (for
  // error messages).
  std::string LevelFileName(int level) const;
  static uint64_t EntryOffset(uint64_t index);

 private:
  struct Level;
  Ledger(Env* env, std::string dir);
  Status OpenLevel(int level);
  Status AppendEntries(int level, std::span<const Hash256> hashes);
  // Appends the leaves, then runs `grow` on the tree with a sink that stores
  // the tile entries.
  Status AppendWith(std::span<const Hash256> leaves,
                    const std::function<void(const NodeSink&)>& grow);
  Status ReadEntriesLocked(int level, uint64_t first, uint64_t count,
                           std::vector<Hash256>* out) const;

  Env* const env_;
  const std::string dir_;
  mutable std::mutex mu_;  // guards the level files and their counts
  std::vector<std::unique_ptr<Level>> levels_;
  CompactTree tree_;
  std::atomic<uint64_t> size_{0};
  Status error_;  // first write error; sticky
};

}  // namespace hanshiro::integrity

#endif  // HANSHIRO_INTEGRITY_LEDGER_H_
