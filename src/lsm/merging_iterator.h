// lsm::MergingIterator: one sorted view over several iterators (memtables
// and tables), in internal order. Entries equal in both key and sequence
// number (the same record, held twice) are returned once; different versions
// of a key are all returned, newest first — NewestIterator keeps only those.
// Owns its children. Not thread-safe.
#ifndef HANSHIRO_LSM_MERGING_ITERATOR_H_
#define HANSHIRO_LSM_MERGING_ITERATOR_H_

#include <memory>
#include <vector>

#include "sstable/iterator.h"

namespace hanshiro::lsm {

std::unique_ptr<sstable::Iterator> NewMergingIterator(
    std::vector<std::unique_ptr<sstable::Iterator>> children);

// Only the newest version of each key, and only keys < upper (when upper is
// not empty). Owns `base`.
std::unique_ptr<sstable::Iterator> NewNewestIterator(std::unique_ptr<sstable::Iterator> base,
                                                     std::string upper);

}  // namespace hanshiro::lsm

#endif  // HANSHIRO_LSM_MERGING_ITERATOR_H_
