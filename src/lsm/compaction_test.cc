#include "lsm/compaction.h"

#include <gtest/gtest.h>

namespace hanshiro::lsm {
namespace {

TableMeta T(uint64_t number, int level, int hour, char lo, char hi) {
  TableMeta t;
  t.number = number;
  t.level = level;
  t.partition = hour * kHourNs;
  t.min_key = std::string(25, lo);
  t.max_key = std::string(25, hi);
  t.entries = 1;
  return t;
}

Version V(std::vector<TableMeta> tables) {
  Version v;
  v.window_ns = kHourNs;
  v.tables = std::move(tables);
  return v;
}

TEST(CompactionTest, NothingBelowTheTrigger) {
  const Version v = V({T(1, 0, 0, 'a', 'b'), T(2, 0, 0, 'c', 'd')});
  EXPECT_FALSE(PickCompaction(v, 4, false).has_value());
  EXPECT_FALSE(NeedsCompaction(v, 4));
  EXPECT_TRUE(NeedsCompaction(v, 2));
  EXPECT_TRUE(PickCompaction(v, 4, true).has_value());
  EXPECT_FALSE(PickCompaction(V({T(1, 1, 0, 'a', 'b')}), 1, true).has_value());
}

TEST(CompactionTest, DisjointTablesMoveWithoutRewrite) {
  // Time-ordered flushes: each new table starts after the last.
  const Version v = V({T(1, 0, 3, 'a', 'b'), T(2, 0, 3, 'c', 'd'), T(3, 0, 3, 'e', 'f'),
                       T(4, 1, 3, 'g', 'h'), T(5, 0, 4, 'a', 'z')});
  auto plan = PickCompaction(v, 3, false);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->partition, 3 * kHourNs);
  EXPECT_EQ(plan->moves, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(plan->merges.empty());
}

TEST(CompactionTest, OverlapsMergeByConnectedGroup) {
  // {1, 2, 4} overlap transitively (4 is level 1); 3 is alone; 5 (level 1)
  // sits between groups and is left alone.
  const Version v = V({T(1, 0, 0, 'a', 'd'), T(2, 0, 0, 'c', 'f'), T(4, 1, 0, 'f', 'g'),
                       T(5, 1, 0, 'h', 'i'), T(3, 0, 0, 'k', 'm'), T(6, 0, 0, 'n', 'p'),
                       T(7, 0, 0, 'o', 'o')});
  auto plan = PickCompaction(v, 1, false);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->moves, (std::vector<uint64_t>{3}));
  ASSERT_EQ(plan->merges.size(), 2u);
  std::vector<uint64_t> first, second;
  for (const auto& t : plan->merges[0]) first.push_back(t.number);
  for (const auto& t : plan->merges[1]) second.push_back(t.number);
  EXPECT_EQ(first, (std::vector<uint64_t>{1, 2, 4}));
  EXPECT_EQ(second, (std::vector<uint64_t>{6, 7}));
}

TEST(CompactionTest, PicksThePartitionWithMostLevel0Tables) {
  const Version v = V({T(1, 0, 1, 'a', 'b'), T(2, 0, 2, 'a', 'b'), T(3, 0, 2, 'c', 'd')});
  auto plan = PickCompaction(v, 1, false);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->partition, 2 * kHourNs);
}

}  // namespace
}  // namespace hanshiro::lsm
