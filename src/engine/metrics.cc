#include "engine/metrics.h"

#include <fmt/format.h>

namespace hanshiro::engine {

namespace {

std::string Number(double v) {
  if (v == static_cast<double>(static_cast<uint64_t>(v)) && v >= 0 && v < 1e18) {
    return std::to_string(static_cast<uint64_t>(v));
  }
  return fmt::format("{}", v);
}

}  // namespace

void Histogram::Record(double v) {
  size_t i = 0;
  while (i < kBuckets && v > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  double sum = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(sum, sum + v, std::memory_order_relaxed)) {
  }
}

void Histogram::AppendTo(std::string* out, std::string_view name, std::string_view help) const {
  *out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    *out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, Number(bounds_[i]), cumulative);
  }
  cumulative += counts_[kBuckets].load(std::memory_order_relaxed);
  *out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, cumulative);
  *out += fmt::format("{}_sum {}\n", name, Number(sum_.load(std::memory_order_relaxed)));
  *out += fmt::format("{}_count {}\n", name, cumulative);
}

void AppendMetric(std::string* out, std::string_view name, std::string_view type,
                  std::string_view help, double value) {
  *out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name,
                      Number(value));
}

}  // namespace hanshiro::engine
