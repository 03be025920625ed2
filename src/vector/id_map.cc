#include "vector/id_map.h"

namespace hanshiro::vector {

uint64_t IdMap::Hash(const EventId& id) {
  // splitmix64's finalizer over both halves.
  uint64_t x = id.hi() ^ (id.lo() * 0x9e3779b97f4a7c15ull);
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

std::optional<uint64_t> IdMap::Find(const EventId& id) const {
  if (slots_.empty()) return std::nullopt;
  const size_t mask = slots_.size() - 1;
  for (size_t i = Home(id);; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.row_plus_one == 0) return std::nullopt;
    if (s.hi == id.hi() && s.lo == id.lo()) return s.row_plus_one - 1;
  }
}

IdMap::Slot& IdMap::SlotFor(const EventId& id) {
  if ((size_ + 1) * 2 > slots_.size()) Grow();
  const size_t mask = slots_.size() - 1;
  for (size_t i = Home(id);; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.row_plus_one == 0 || (s.hi == id.hi() && s.lo == id.lo())) return s;
  }
}

bool IdMap::Insert(const EventId& id, uint64_t row) {
  Slot& s = SlotFor(id);
  if (s.row_plus_one != 0) return false;
  s = {id.hi(), id.lo(), row + 1};
  ++size_;
  return true;
}

bool IdMap::Erase(const EventId& id) {
  if (slots_.empty()) return false;
  const size_t mask = slots_.size() - 1;
  size_t i = Home(id);
  for (;; i = (i + 1) & mask) {
    if (slots_[i].row_plus_one == 0) return false;
    if (slots_[i].hi == id.hi() && slots_[i].lo == id.lo()) break;
  }
  // Backward-shift: move later entries of the probe run into the hole when
  // their home position allows it.
  for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
    if (slots_[j].row_plus_one == 0) break;
    const size_t home = Home(EventId(slots_[j].hi, slots_[j].lo));
    // Entry j may move to i when i lies cyclically in [home, j).
    if (((j - home) & mask) >= ((j - i) & mask)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = Slot{0, 0, 0};
  --size_;
  return true;
}

void IdMap::Reserve(size_t n) {
  while (n * 2 > slots_.size()) Grow();
}

void IdMap::Grow() {
  HugeArray<Slot> old = std::move(slots_);
  slots_ = HugeArray<Slot>(old.empty() ? 64 : old.size() * 2);
  size_ = 0;
  for (size_t i = 0; i < old.size(); ++i) {
    if (old[i].row_plus_one != 0) Insert(EventId(old[i].hi, old[i].lo), old[i].row_plus_one - 1);
  }
}

}  // namespace hanshiro::vector
