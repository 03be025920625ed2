// Clock: where time comes from, so tests can control it.
//
// SystemClock reads CLOCK_REALTIME / CLOCK_MONOTONIC. ManualClock is set by
// the test. Both are thread-safe.
#ifndef HANSHIRO_BASE_CLOCK_H_
#define HANSHIRO_BASE_CLOCK_H_

#include <atomic>
#include <cstdint>

namespace hanshiro {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since the Unix epoch (wall clock; may jump).
  virtual int64_t NowUnixNanos() = 0;
  // Nanoseconds from an arbitrary origin; never goes backwards.
  virtual int64_t MonotonicNanos() = 0;

  int64_t NowUnixMillis() { return NowUnixNanos() / 1'000'000; }

  // The process-wide system clock; never destroyed.
  static Clock* System();
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t unix_nanos = 0) : now_(unix_nanos) {}
  int64_t NowUnixNanos() override { return now_.load(std::memory_order_relaxed); }
  int64_t MonotonicNanos() override { return now_.load(std::memory_order_relaxed); }
  void Set(int64_t unix_nanos) { now_.store(unix_nanos, std::memory_order_relaxed); }
  void Advance(int64_t nanos) { now_.fetch_add(nanos, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace hanshiro

#endif  // HANSHIRO_BASE_CLOCK_H_
