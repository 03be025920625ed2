#include "lsm/compaction.h"

#include <algorithm>
#include <map>

namespace hanshiro::lsm {

namespace {

std::map<int64_t, int> Level0Counts(const Version& v) {
  std::map<int64_t, int> counts;
  for (const TableMeta& t : v.tables) {
    if (t.level == 0) ++counts[t.partition];
  }
  return counts;
}

}  // namespace

bool NeedsCompaction(const Version& version, int l0_trigger) {
  for (const auto& [partition, n] : Level0Counts(version)) {
    if (n >= l0_trigger) return true;
  }
  return false;
}

std::optional<CompactionPlan> PickCompaction(const Version& version, int l0_trigger, bool force) {
  int64_t best = 0;
  int best_count = 0;
  for (const auto& [partition, n] : Level0Counts(version)) {
    if (n > best_count) best = partition, best_count = n;
  }
  if (best_count == 0 || (!force && best_count < l0_trigger)) return std::nullopt;

  std::vector<const TableMeta*> tables;
  for (const TableMeta& t : version.tables) {
    if (t.partition == best) tables.push_back(&t);
  }
  std::sort(tables.begin(), tables.end(), [](const TableMeta* a, const TableMeta* b) {
    return a->min_key < b->min_key;
  });
  // Sorted by min_key, a group ends where the next table starts after the
  // greatest max_key so far.
  CompactionPlan plan;
  plan.partition = best;
  for (size_t i = 0; i < tables.size();) {
    size_t j = i + 1;
    std::string hull_max = tables[i]->max_key;
    while (j < tables.size() && tables[j]->min_key <= hull_max) {
      hull_max = std::max(hull_max, tables[j]->max_key);
      ++j;
    }
    const bool has_level0 = std::any_of(tables.begin() + i, tables.begin() + j,
                                        [](const TableMeta* t) { return t->level == 0; });
    if (j - i == 1 && has_level0) {
      plan.moves.push_back(tables[i]->number);
    } else if (has_level0) {
      std::vector<TableMeta> group;
      for (size_t k = i; k < j; ++k) group.push_back(*tables[k]);
      plan.merges.push_back(std::move(group));
    }
    i = j;
  }
  return plan;
}

}  // namespace hanshiro::lsm
