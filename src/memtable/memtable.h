// memtable::MemTable: the in-memory, sorted part of the store. A skip list of
// (key, sequence number) -> value, keys compared as bytes, newer sequence
// numbers first among equal keys (so a read finds the newest version first).
//
// Events arrive nearly in key (time) order, so appends are the fast path: a
// key after the current last one is linked at the tail using the remembered
// last node of every level, without a search from the head. A key after the
// previous insert but before the tail (the next key of an ordered batch that
// lands in the middle) searches onward from that insert.
//
// Thread-safety: one writer at a time (the caller serializes Add and Link);
// any number of readers (Get, iterators) concurrently with it, without locks:
// a node is fully written before it is published with a release store. Stage
// is for any number of threads at once, also while the writer links. Memory
// comes from an arena and is freed with the memtable.
#ifndef HANSHIRO_MEMTABLE_MEMTABLE_H_
#define HANSHIRO_MEMTABLE_MEMTABLE_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "memtable/arena.h"

namespace hanshiro::memtable {

class MemTable {
 public:
  struct Node;  // opaque outside the table
  static constexpr int kMaxHeight = 16;

  // pool (optional) lends arena blocks and takes them back; it must outlive
  // the memtable.
  explicit MemTable(BlockPool* pool = nullptr);
  MemTable(const MemTable&) = delete;
  MemTable& operator=(const MemTable&) = delete;

  // REQUIRES: (key, seq) is not in the table yet; one writer at a time.
  void Add(uint64_t seq, std::string_view key, std::string_view value);

  // Add in two steps, so that writers who must add in order serialize only
  // the cheap one. Stage copies each entry into a node of its own (out[i]
  // for entries[i]; any number of threads at once); Link adds a staged node,
  // with Add's requirements. A node staged and never linked only takes up
  // arena memory.
  struct Entry {
    uint64_t seq;
    std::string_view key;
    std::string_view value;
  };
  void Stage(std::span<const Entry> entries, std::span<Node*> out);
  void Link(Node* n);

  // The newest version of key: true and *value / *seq set, or false.
  bool Get(std::string_view key, std::string* value, uint64_t* seq = nullptr) const;

  // A key near the middle of the table, in order (the middle of the nodes
  // of a level tall enough to sample it: heights are random, so it is about
  // the median); empty when the table holds too few keys to split. For
  // cutting work on the table in two, such as a flush.
  std::string ApproximateMiddleKey() const;

  size_t entries() const { return entries_.load(std::memory_order_acquire); }
  // Memory the table holds (arena blocks).
  size_t bytes() const { return arena_.bytes(); }
  // Adds that took the append fast path (for metrics and tests).
  size_t appends() const { return appends_; }

  // Iterates in order; valid while the memtable lives. Sees every entry
  // published before each step.
  class Iterator {
   public:
    explicit Iterator(const MemTable* table) : table_(table) {}
    bool Valid() const { return node_ != nullptr; }
    void SeekToFirst();
    // The first entry with key >= target.
    void Seek(std::string_view target);
    void Next();
    std::string_view key() const;
    std::string_view value() const;
    uint64_t seq() const;

   private:
    const MemTable* table_;
    const Node* node_ = nullptr;
  };

 private:
  static size_t NodeSize(size_t key_size, size_t value_size, int height);
  static void FillNode(Node* n, uint64_t seq, std::string_view key, std::string_view value,
                       int height);
  static int RandomHeight();
  // -1, 0, 1 as (a) orders before, equal to, after (key, seq).
  static int Compare(const Node* a, std::string_view key, uint64_t seq);
  // The first node >= (key, seq); fills prev[level] when prev is set.
  Node* FindGreaterOrEqual(std::string_view key, uint64_t seq, Node** prev) const;
  // Fills prev[level] for (key, seq), which follows the last added node,
  // searching onward from the last insert's predecessors.
  void FindFromFinger(std::string_view key, uint64_t seq, Node** prev) const;

  std::mutex arena_mu_;  // Stage allocates from any thread
  Arena arena_;
  Node* head_;
  Node* tail_[kMaxHeight];    // writer only: last node of each level
  Node* finger_[kMaxHeight];  // writer only: the last insert's predecessors (or itself)
  const Node* last_added_ = nullptr;  // writer only
  std::atomic<int> height_{1};
  std::atomic<size_t> entries_{0};
  size_t appends_ = 0;
};

}  // namespace hanshiro::memtable

#endif  // HANSHIRO_MEMTABLE_MEMTABLE_H_
