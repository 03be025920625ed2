#include "vector/id_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace hanshiro::vector {
namespace {

TEST(IdMapTest, MatchesAStdMapUnderRandomOperations) {
  IdMap map;
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> model;
  std::mt19937_64 rng(9);
  for (int op = 0; op < 200000; ++op) {
    // A small id space, so inserts, erases and probes collide often.
    const EventId id(rng() % 300, rng() % 20);
    const auto key = std::make_pair(id.hi(), id.lo());
    switch (rng() % 4) {
      case 0: {  // a replacement: erase, then insert
        const uint64_t row = rng() % 1000;
        EXPECT_EQ(map.Erase(id), model.erase(key) == 1);
        EXPECT_TRUE(map.Insert(id, row));
        model[key] = row;
        break;
      }
      case 1:
        EXPECT_EQ(map.Erase(id), model.erase(key) == 1);
        break;
      case 2: {  // inserts only when absent
        const uint64_t row = rng() % 1000;
        EXPECT_EQ(map.Insert(id, row), model.emplace(key, row).second);
        break;
      }
      default: {
        auto it = model.find(key);
        auto got = map.Find(id);
        ASSERT_EQ(got.has_value(), it != model.end());
        if (got) {
          EXPECT_EQ(*got, it->second);
        }
      }
    }
    ASSERT_EQ(map.size(), model.size());
  }
  for (const auto& [key, row] : model) EXPECT_EQ(map.Find(EventId(key.first, key.second)), row);
}

// Many growths (to 2^20 slots), erasures between them, and a reservation.
TEST(IdMapTest, KeepsEveryEntryAcrossGrowths) {
  IdMap map;
  constexpr uint64_t kN = 300000;
  auto id = [](uint64_t i) { return EventId(0x0190000000000000ull + i, i * 31); };
  for (uint64_t i = 0; i < kN; ++i) {
    ASSERT_TRUE(map.Insert(id(i), i));
    if (i % 7 == 0) {
      ASSERT_EQ(map.Find(id(i / 2)), i / 2) << i;
    }
  }
  for (uint64_t i = 0; i < kN; i += 3) ASSERT_TRUE(map.Erase(id(i)));
  map.Reserve(2 * kN);
  for (uint64_t i = 0; i < kN; ++i) {
    ASSERT_EQ(map.Find(id(i)), i % 3 == 0 ? std::nullopt : std::optional<uint64_t>(i)) << i;
  }
  EXPECT_EQ(map.size(), kN - (kN + 2) / 3);
  EXPECT_FALSE(map.Find(id(kN)).has_value());
}

}  // namespace
}  // namespace hanshiro::vector
