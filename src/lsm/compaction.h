// lsm::PickCompaction: what compaction should do next, decided from a
// version alone (no I/O), so it can be tested on its own.
//
// Work is per time partition. Within one, the tables (level 0 and 1) fall
// into groups that overlap in key range, transitively; a group's hull is
// then overlapped by no table outside it. A group of one level-0 table is
// moved to level 1 as it is (a manifest edit, no rewrite); a larger group
// holding a level-0 table is merged into new level-1 tables. Events arrive
// nearly in time order, so most flushed tables are moves.
#ifndef HANSHIRO_LSM_COMPACTION_H_
#define HANSHIRO_LSM_COMPACTION_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "lsm/version.h"

namespace hanshiro::lsm {

struct CompactionPlan {
  int64_t partition = 0;
  std::vector<uint64_t> moves;                    // level-0 tables to move
  std::vector<std::vector<TableMeta>> merges;     // groups to merge, each sorted by min_key
};

// The partition with the most level-0 tables, when it has at least
// `l0_trigger` of them (any level-0 table when force); nullopt when there is
// nothing to do.
std::optional<CompactionPlan> PickCompaction(const Version& version, int l0_trigger, bool force);

// Whether some partition has l0_trigger level-0 tables or more.
bool NeedsCompaction(const Version& version, int l0_trigger);

}  // namespace hanshiro::lsm

#endif  // HANSHIRO_LSM_COMPACTION_H_
