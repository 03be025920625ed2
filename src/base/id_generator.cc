#include "base/id_generator.h"

namespace hanshiro {
namespace {

uint64_t RandomSeed() {
  std::random_device rd;
  return (uint64_t{rd()} << 32) ^ rd();
}

constexpr uint16_t kCounterMax = 0x0fff;

uint64_t NowMs(Clock* clock) {
  const int64_t now = clock->NowUnixMillis();
  return now < 0 ? 0 : static_cast<uint64_t>(now);
}

}  // namespace

IdGenerator::IdGenerator(Clock* clock) : IdGenerator(clock, RandomSeed()) {}

IdGenerator::IdGenerator(Clock* clock, uint64_t seed) : clock_(clock), rng_(seed) {}

EventId IdGenerator::Next() {
  const uint64_t now_ms = NowMs(clock_);
  std::lock_guard<std::mutex> lock(mu_);
  return NextLocked(now_ms);
}

void IdGenerator::NextMany(std::span<EventId> out) {
  if (out.empty()) return;
  const uint64_t now_ms = NowMs(clock_);
  std::lock_guard<std::mutex> lock(mu_);
  for (EventId& id : out) id = NextLocked(now_ms);
}

EventId IdGenerator::NextLocked(uint64_t now_ms) {
  if (now_ms > last_ms_) {
    last_ms_ = now_ms;
    // Start the counter low and random so ids from two generators interleave less.
    counter_ = static_cast<uint16_t>(rng_() & 0x01ff);
  } else if (counter_ < kCounterMax) {
    ++counter_;
  } else {
    ++last_ms_;
    counter_ = 0;
  }
  return EventId::FromParts(last_ms_, counter_, rng_());
}

}  // namespace hanshiro
