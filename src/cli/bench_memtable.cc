// `hanshiro bench --workload memtable`: memtable inserts alone, one thread:
// time-ordered 25-byte storage keys (prefix, event time, id) with 256-byte
// values, as events arrive; no WAL, no flush.
#include <algorithm>
#include <chrono>
#include <random>

#include "base/coding.h"
#include "cli/bench.h"
#include "memtable/memtable.h"

namespace hanshiro::cli {

Status RunMemtableWorkload(const BenchSettings& settings, const EmitFn& emit) {
  const uint64_t n = settings.events > 0 ? settings.events : 2'000'000;
  const size_t value_bytes = settings.payload_bytes;
  std::string pool(1 << 20, '\0');
  std::mt19937_64 rng(5);
  for (char& c : pool) c = static_cast<char>(rng());
  // Keys made up front: what is measured is the insert.
  std::vector<char> keys(n * 25);
  const uint64_t t0 = 1'700'000'000'000'000'000ull;
  for (uint64_t i = 0; i < n; ++i) {
    char* k = keys.data() + i * 25;
    k[0] = 0x01;
    EncodeBigEndian64(k + 1, t0 + i * 1000 + rng() % 1000);  // nearly ordered times
    EncodeBigEndian64(k + 9, rng());
    EncodeBigEndian64(k + 17, rng());
  }
  std::vector<double> rates;
  size_t bytes = 0, appends = 0;
  for (int run = 0; run <= std::max(1, settings.runs); ++run) {  // run 0 warms up
    memtable::MemTable table;
    const auto start = std::chrono::steady_clock::now();
    for (uint64_t i = 0; i < n; ++i) {
      const size_t at = (i * 4099) % (pool.size() - value_bytes);
      table.Add(i + 1, {keys.data() + i * 25, 25}, {pool.data() + at, value_bytes});
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (run > 0) rates.push_back(n / seconds);
    bytes = table.bytes();
    appends = table.appends();
  }
  std::sort(rates.begin(), rates.end());
  BenchLine line;
  line.Add("workload", std::string("memtable"))
      .Add("events", n)
      .Add("writers", uint64_t{1})
      .Add("payload_bytes", static_cast<uint64_t>(value_bytes))
      .Add("key_bytes", uint64_t{25})
      .Add("runs", static_cast<uint64_t>(rates.size()))
      .Add("events_per_s", rates[rates.size() / 2])
      .Add("min_events_per_s", rates.front())
      .Add("max_events_per_s", rates.back())
      .Add("appends", static_cast<uint64_t>(appends))
      .Add("memtable_mb", static_cast<double>(bytes) / (1 << 20))
      .Add("rss_mb", RssMb());
  emit(line);
  return Status::OK();
}

}  // namespace hanshiro::cli
