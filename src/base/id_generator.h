// IdGenerator: makes version-7 EventIds that strictly increase.
//
// Within one millisecond the 12-bit rand_a field is a counter (RFC 9562
// method 1). When the clock steps back the generator stays on its last
// millisecond and keeps counting; when the counter would wrap it moves to the
// next millisecond. So ids never decrease. rand_b is random.
// Borrows `clock`, which must outlive the generator. Thread-safe.
#ifndef HANSHIRO_BASE_ID_GENERATOR_H_
#define HANSHIRO_BASE_ID_GENERATOR_H_

#include <cstdint>
#include <mutex>
#include <random>
#include <span>

#include "base/clock.h"
#include "hanshiro/event_id.h"

namespace hanshiro {

class IdGenerator {
 public:
  explicit IdGenerator(Clock* clock);
  IdGenerator(Clock* clock, uint64_t seed);

  EventId Next();
  // out.size() ids, increasing, as that many Next() calls would give, with
  // one clock read and one lock for all of them.
  void NextMany(std::span<EventId> out);

 private:
  // REQUIRES: mu_ held.
  EventId NextLocked(uint64_t now_ms);

  Clock* const clock_;
  std::mutex mu_;
  uint64_t last_ms_ = 0;
  uint16_t counter_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace hanshiro

#endif  // HANSHIRO_BASE_ID_GENERATOR_H_
