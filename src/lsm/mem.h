// lsm::Mem: one memtable of the store — the records by storage key, and the
// same keys by id (id | prefix | key time) for lookups by id — with an
// iterator over the records. Writers are serialized by the store; readers
// need no lock (memtable::MemTable). Shared by the store and its iterators.
#ifndef HANSHIRO_LSM_MEM_H_
#define HANSHIRO_LSM_MEM_H_

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "memtable/memtable.h"
#include "sstable/iterator.h"

namespace hanshiro::lsm {

// One record to write: its 25-byte storage key and its encoded record (whose
// kind, byte 1, equals the key's prefix).
struct WriteRecord {
  std::string_view key;
  std::string_view record;
};

struct Mem {
  // pool (may be null) must outlive the Mem; the store owns one.
  explicit Mem(memtable::BlockPool* pool) : records(pool), ids(pool) {}

  memtable::MemTable records;
  memtable::MemTable ids;
  int64_t created_ns = 0;  // monotonic clock

  // REQUIRES: one writer at a time; key is a 25-byte storage key.
  void Add(uint64_t seq, std::string_view key, std::string_view record);

  // Add for a batch in two steps (memtable::MemTable::Stage and Link): Stage
  // copies record i as sequence number first_seq + i, from any thread; Link
  // adds what one Stage staged, with Add's requirements.
  struct Staged {
    std::vector<memtable::MemTable::Node*> records, ids;
  };
  void Stage(uint64_t first_seq, std::span<const WriteRecord> records, Staged* out);
  void Link(const Staged& staged);

  size_t bytes() const { return records.bytes() + ids.bytes(); }
  size_t entries() const { return records.entries(); }
  // The storage key of the record with this 16-byte id.
  std::optional<std::string> FindKey(std::string_view id) const;
};

// Keeps mem alive while the iterator lives.
std::unique_ptr<sstable::Iterator> NewMemIterator(std::shared_ptr<const Mem> mem);

}  // namespace hanshiro::lsm

#endif  // HANSHIRO_LSM_MEM_H_
