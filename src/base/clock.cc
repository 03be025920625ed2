#include "base/clock.h"

#include <ctime>

namespace hanshiro {
namespace {

int64_t ReadClock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

class SystemClock final : public Clock {
 public:
  int64_t NowUnixNanos() override { return ReadClock(CLOCK_REALTIME); }
  int64_t MonotonicNanos() override { return ReadClock(CLOCK_MONOTONIC); }
};

}  // namespace

Clock* Clock::System() {
  static SystemClock* clock = new SystemClock();  // never destroyed: usable during exit
  return clock;
}

}  // namespace hanshiro
