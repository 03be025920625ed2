#include "base/clock.h"

#include <gtest/gtest.h>

namespace hanshiro {
namespace {

TEST(ClockTest, SystemClockReadsWallTimeAndMonotonicTimeNeverGoesBack) {
  Clock* clock = Clock::System();
  constexpr int64_t k2024 = 1'704'067'200'000'000'000;  // 2024-01-01T00:00:00Z in ns
  EXPECT_GT(clock->NowUnixNanos(), k2024);
  EXPECT_EQ(clock->NowUnixMillis() / 1000, clock->NowUnixNanos() / 1'000'000'000);
  int64_t prev = clock->MonotonicNanos();
  for (int i = 0; i < 1000; ++i) {
    const int64_t now = clock->MonotonicNanos();
    ASSERT_GE(now, prev);
    prev = now;
  }
}

TEST(ClockTest, ManualClockMovesOnlyWhenTold) {
  ManualClock clock(5'000'000);
  EXPECT_EQ(clock.NowUnixNanos(), 5'000'000);
  EXPECT_EQ(clock.NowUnixMillis(), 5);
  clock.Advance(2'000'000);
  EXPECT_EQ(clock.NowUnixMillis(), 7);
  clock.Set(0);
  EXPECT_EQ(clock.MonotonicNanos(), 0);
}

}  // namespace
}  // namespace hanshiro
