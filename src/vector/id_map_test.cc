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
    // A small id space, so puts, erases and probes collide often.
    const EventId id(rng() % 300, rng() % 20);
    const auto key = std::make_pair(id.hi(), id.lo());
    switch (rng() % 3) {
      case 0: {
        const uint64_t row = rng() % 1000;
        map.Put(id, row);
        model[key] = row;
        break;
      }
      case 1:
        EXPECT_EQ(map.Erase(id), model.erase(key) == 1);
        break;
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

}  // namespace
}  // namespace hanshiro::vector
