// sstable::Iterator: the one interface over sorted entries (key, seq, value)
// in internal order — key ascending, newer sequence numbers first among
// equal keys. Memtables, tables and the merged view of a store implement it,
// so one test suite runs against all of them.
//
// An iterator is used by one thread at a time. key() and value() stay valid
// until the next move. A failed read ends iteration: Valid() turns false
// and status() says why (Corruption naming the table and block).
#ifndef HANSHIRO_SSTABLE_ITERATOR_H_
#define HANSHIRO_SSTABLE_ITERATOR_H_

#include <cstdint>
#include <string_view>

#include "hanshiro/status.h"

namespace hanshiro::sstable {

class Iterator {
 public:
  virtual ~Iterator() = default;
  virtual bool Valid() const = 0;
  virtual void SeekToFirst() = 0;
  // The first entry with key >= target.
  virtual void Seek(std::string_view target) = 0;
  // REQUIRES: Valid()
  virtual void Next() = 0;
  virtual std::string_view key() const = 0;
  virtual uint64_t seq() const = 0;
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

}  // namespace hanshiro::sstable

#endif  // HANSHIRO_SSTABLE_ITERATOR_H_
