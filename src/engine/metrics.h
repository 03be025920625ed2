// engine::Metrics: the database's counters and latency histograms, exported
// in the Prometheus text format (written by hand; version 0.0.4 of the
// exposition format). Recording is lock-free (relaxed atomics). Thread-safe.
#ifndef HANSHIRO_ENGINE_METRICS_H_
#define HANSHIRO_ENGINE_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace hanshiro::engine {

// A histogram over fixed bucket bounds (upper bounds, inclusive).
class Histogram {
 public:
  static constexpr size_t kBuckets = 16;
  // Bounds in the unit of the values (e.g. microseconds), increasing.
  explicit Histogram(const std::array<double, kBuckets>& bounds) : bounds_(bounds) {}
  void Record(double v);
  // Appends `name_bucket{le=...}`, `name_sum`, `name_count` lines.
  void AppendTo(std::string* out, std::string_view name, std::string_view help) const;

 private:
  const std::array<double, kBuckets> bounds_;
  std::array<std::atomic<uint64_t>, kBuckets + 1> counts_{};  // last: +Inf
  std::atomic<double> sum_{0};
};

struct Metrics {
  std::atomic<uint64_t> events_written{0}, code_written{0}, index_written{0};
  std::atomic<uint64_t> write_errors{0}, searches{0}, correlation_links{0};
  Histogram batch_size{{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000,
                        50000, 100000}};
  Histogram write_latency_us{{10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
                              100000, 250000, 500000, 1000000}};
  Histogram search_latency_us{{10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000,
                               100000, 250000, 500000, 1000000}};
};

// "# HELP name help\n# TYPE name type\nname value\n".
void AppendMetric(std::string* out, std::string_view name, std::string_view type,
                  std::string_view help, double value);

}  // namespace hanshiro::engine

#endif  // HANSHIRO_ENGINE_METRICS_H_
