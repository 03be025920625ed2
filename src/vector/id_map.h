// IdMap: event id -> row, an open-addressing hash table (linear probing,
// backward-shift deletion) in one flat array: no allocation per entry, one
// or two cache lines per lookup. Not thread-safe (the collection guards it).
#ifndef HANSHIRO_VECTOR_ID_MAP_H_
#define HANSHIRO_VECTOR_ID_MAP_H_

#include <cstdint>
#include <optional>

#include "hanshiro/event_id.h"
#include "base/huge_array.h"

namespace hanshiro::vector {

class IdMap {
 public:
  std::optional<uint64_t> Find(const EventId& id) const;
  // Inserts when absent; otherwise changes nothing and returns false.
  bool Insert(const EventId& id, uint64_t row);
  // False when absent.
  bool Erase(const EventId& id);
  size_t size() const { return size_; }
  // Hints that `id` will be looked up soon: both cache lines its home slot
  // may span.
  void Prefetch(const EventId& id) const {
    if (slots_.empty()) return;
    const Slot* s = &slots_[Home(id)];
    __builtin_prefetch(s);
    __builtin_prefetch(reinterpret_cast<const char*>(s + 1) - 1);
  }
  // Makes room for n entries in all, so inserting them does not rehash.
  void Reserve(size_t n);

 private:
  // All-zero bytes are an empty slot (a fresh HugeArray is all zero).
  struct Slot {
    uint64_t hi;
    uint64_t lo;
    uint64_t row_plus_one;  // 0: empty
  };
  static uint64_t Hash(const EventId& id);
  size_t Home(const EventId& id) const { return Hash(id) & (slots_.size() - 1); }
  void Grow();
  // The slot holding id, or the empty slot where it would go (after growing
  // when one more entry would pass half full).
  Slot& SlotFor(const EventId& id);

  HugeArray<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace hanshiro::vector

#endif  // HANSHIRO_VECTOR_ID_MAP_H_
