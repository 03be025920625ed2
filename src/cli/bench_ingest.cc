// `hanshiro bench --workload ingest`: events end to end through the public
// API (hanshiro::DB::WriteBatch: ids, validation, record encoding, WAL with
// the integrity tree, memtable, flushes and compactions), then — when
// librocksdb-dev is installed — `ingest-rocksdb`: the same keys and record
// bytes in the same batches from the same number of writers into RocksDB,
// WAL on, in the same invocation; its line carries the ratio.
//
// Events: a raw body of `payload_bytes` random bytes of its own, a host, a
// type, event times 1 ms apart and nearly in order (writers take turns on
// one clock). Preset high-performance with 256 MiB memtables (no
// compression), sync off and then on
// (a write returns once an fsync covered its commit group), integrity on. Each setting runs once on a
// fifth of the events untimed, then `runs` times; the median is reported
// with the peak RSS next to the memory budget (two memtables plus cache).
// The peak RSS is the process's, taken before the peer runs; with sync on it
// is still the peak of the whole invocation so far.
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "base/id_generator.h"
#include "base/record.h"
#include "cli/bench.h"
#include "cli/bench_rocksdb.h"
#include "engine/db_impl.h"
#include "hanshiro/db.h"
#include "hanshiro/storage_key.h"

namespace hanshiro::cli {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr int64_t kT0 = 1'700'000'000'000'000'000;

struct Spec {
  uint64_t events;
  int writers;
  size_t batch;
  size_t payload;
  bool sync;
};

// Event g's raw body: `payload` bytes of its own (four xorshift64 streams
// seeded by g, interleaved 8 bytes at a time), made in place. Every body
// differs and none compresses. Copying bodies out of a shared random pool
// instead cost more than the database's own work on each event (the pool's
// lines were rarely in cache); one stream made each body wait on a chain of
// dependent steps.
void FillPayload(uint64_t g, size_t payload, std::string* out) {
  out->resize(payload);
  char* p = out->data();
  uint64_t x[4];
  for (uint64_t k = 0; k < 4; ++k) {
    x[k] = (((g + 1) * 0x9E3779B97F4A7C15ull) ^ ((k + 1) * 0xD1B54A32D192ED03ull)) | 1;  // never 0
  }
  const auto step = [&x] {
    for (uint64_t& v : x) {
      v ^= v << 13;
      v ^= v >> 7;
      v ^= v << 17;
    }
  };
  size_t i = 0;
  for (; i + sizeof(x) <= payload; i += sizeof(x)) {
    step();
    std::memcpy(p + i, x, sizeof(x));
  }
  if (i < payload) {
    step();
    std::memcpy(p + i, x, payload - i);
  }
}

void FillEvent(uint64_t g, size_t payload, Event* e) {
  e->event_time_ns = kT0 + static_cast<int64_t>(g) * 1'000'000;
  e->type = EventType::Named(g % 3 == 0 ? EventTypeCode::kDnsQuery : EventTypeCode::kNetworkConnection);
  static const std::array<std::string, 64> kHosts = [] {
    std::array<std::string, 64> hosts;
    for (size_t i = 0; i < hosts.size(); ++i) hosts[i] = fmt::format("host-{}", i);
    return hosts;
  }();
  e->source.host = kHosts[g % kHosts.size()];
  e->source.collector = "bench";
  FillPayload(g, payload, &e->raw_data);
}

struct Timing {
  double seconds = 0;      // wall clock, all writers
  double cpu_seconds = 0;  // user + system of the whole process meanwhile
};

double ProcessCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// `writers` threads each claim `batch` events at a time and hand them to
// write(first, count); returns how long all of them took.
Result<Timing> RunWriters(const Spec& spec, uint64_t n,
                          const std::function<Status(uint64_t, size_t)>& write) {
  std::atomic<uint64_t> next{0};
  std::atomic<bool> go{false};
  std::mutex mu;
  Status first_error;
  std::vector<std::thread> threads;
  for (int w = 0; w < spec.writers; ++w) {
    threads.emplace_back([&] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      while (true) {
        const uint64_t first = next.fetch_add(spec.batch);
        if (first >= n) return;
        Status s = write(first, std::min<uint64_t>(spec.batch, n - first));
        if (!s.ok()) {
          std::lock_guard lock(mu);
          first_error = s;
          return;
        }
      }
    });
  }
  const auto start = SteadyClock::now();
  const double cpu_start = ProcessCpuSeconds();
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  HANSHIRO_RETURN_IF_ERROR(first_error);
  return Timing{std::chrono::duration<double>(SteadyClock::now() - start).count(),
                ProcessCpuSeconds() - cpu_start};
}

Options IngestOptions(bool sync) {
  Options o = Options::HighPerformance();
  o.sync_on_write = sync;
  o.memtable_max_bytes = size_t{256} << 20;  // flushes happen; arenas are reused
  return o;
}

struct OursResult {
  Timing timing;
  DBStats stats;
};

Result<OursResult> RunOurs(const Spec& spec, uint64_t n, const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  HANSHIRO_ASSIGN_OR_RETURN(std::unique_ptr<DB> db, DB::Open(IngestOptions(spec.sync), dir));
  OursResult r;
  HANSHIRO_ASSIGN_OR_RETURN(r.timing, RunWriters(spec, n, [&](uint64_t first, size_t m) {
    std::vector<Event> events(m);
    for (size_t i = 0; i < m; ++i) FillEvent(first + i, spec.payload, &events[i]);
    return db->WriteBatch(std::move(events)).status();
  }));
  r.stats = db->Stats();
  db.reset();
  std::filesystem::remove_all(dir, ec);
  return r;
}

Result<Timing> RunRocks(const Spec& spec, uint64_t n, const std::string& dir,
                        std::string* skipped) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::unique_ptr<RocksPeer> peer =
      RocksPeer::Open(dir, spec.sync, IngestOptions(spec.sync).memtable_max_bytes, skipped);
  if (!peer) return Timing{};
  IdGenerator ids(Clock::System());
  HANSHIRO_ASSIGN_OR_RETURN(Timing timing, RunWriters(spec, n, [&](uint64_t first, size_t m) {
    // The same work as the engine's write path before its log: an id, an
    // ingest time, the record encoding and the key.
    std::vector<std::string> keys(m), records(m);
    std::vector<std::pair<std::string_view, std::string_view>> kvs(m);
    Event e;
    for (size_t i = 0; i < m; ++i) {
      FillEvent(first + i, spec.payload, &e);
      e.id = ids.Next();
      e.ingest_time_ns = Clock::System()->NowUnixNanos();
      HANSHIRO_RETURN_IF_ERROR(record::Encode(e, &records[i]));
      keys[i] = std::string(StorageKey::For(e).view());
      kvs[i] = {keys[i], records[i]};
    }
    return peer->Write(kvs);
  }));
  peer.reset();
  std::filesystem::remove_all(dir, ec);
  return timing;
}

Status RunSetting(const BenchSettings& settings, bool sync, const EmitFn& emit) {
  Spec spec{settings.events > 0 ? settings.events : 5'000'000,
            settings.writers > 0 ? settings.writers : 20,
            settings.batch > 0 ? settings.batch : 2000, settings.payload_bytes, sync};
  const std::string dir = settings.scratch_dir + "/ingest";
  std::vector<double> ours, rocks;
  double ours_cpu = 0, rocks_cpu = 0;  // CPU seconds summed over the timed runs
  OursResult last;
  std::string skipped = settings.peers ? "" : "--no-peers";
  // Ours first, all runs, so the peak RSS is ours (counted from here, once
  // the heap that the settings and peers before freed is given back); then
  // the peer.
  ResetPeakRss();
  const double start_rss_mb = RssMb();  // what the peak starts from
  // Run 0 of each warms up on a fifth of the events.
  for (int run = 0; run <= std::max(1, settings.runs); ++run) {
    const uint64_t n = run == 0 ? spec.events / 5 : spec.events;
    HANSHIRO_ASSIGN_OR_RETURN(OursResult r, RunOurs(spec, n, dir));
    if (run == 0) continue;
    ours.push_back(static_cast<double>(n) / r.timing.seconds);
    ours_cpu += r.timing.cpu_seconds;
    last = r;
  }
  const double peak_rss_mb = PeakRssMb();
  for (int run = 0; run <= std::max(1, settings.runs) && skipped.empty(); ++run) {
    const uint64_t n = run == 0 ? spec.events / 5 : spec.events;
    HANSHIRO_ASSIGN_OR_RETURN(Timing t, RunRocks(spec, n, dir + "-rocksdb", &skipped));
    if (run > 0 && skipped.empty()) {
      rocks.push_back(static_cast<double>(n) / t.seconds);
      rocks_cpu += t.cpu_seconds;
    }
  }
  std::sort(ours.begin(), ours.end());
  std::sort(rocks.begin(), rocks.end());
  const Options o = IngestOptions(sync);
  auto settings_of = [&](BenchLine& line, const char* workload) {
    line.Add("workload", std::string(workload))
        .Add("events", spec.events)
        .Add("writers", static_cast<uint64_t>(spec.writers))
        .Add("batch", static_cast<uint64_t>(spec.batch))
        .Add("payload_bytes", static_cast<uint64_t>(spec.payload))
        .Add("sync", sync)
        .Add("integrity", true)
        .Add("preset", std::string("high-performance"));
  };
  BenchLine line;
  settings_of(line, "ingest");
  line.Add("flushes", last.stats.flushes)
      .Add("compactions", last.stats.compactions)
      .Add("stalls", last.stats.stalls)
      .Add("stall_ms", last.stats.stall_us / 1000.0)
      .Add("flush_ms", last.stats.flush_us / 1000.0)
      .Add("log_groups", last.stats.log_groups)
      .Add("log_syncs", last.stats.log_syncs)
      .Add("mean_fsync_us", last.stats.log_syncs > 0
                                ? static_cast<double>(last.stats.log_sync_us) / last.stats.log_syncs
                                : 0.0)
      .Add("runs", static_cast<uint64_t>(ours.size()))
      .Add("events_per_s", ours[ours.size() / 2])
      .Add("min_events_per_s", ours.front())
      .Add("max_events_per_s", ours.back())
      // CPU time (all threads, both writers and background) per event: with
      // every core busy, events/s is about cores * 1e6 / this.
      .Add("cpu_us_per_event", ours_cpu * 1e6 / (static_cast<double>(spec.events) * ours.size()))
      .Add("budget_mb", static_cast<double>(2 * o.memtable_max_bytes + o.block_cache_size) / (1 << 20))
      .Add("rss_start_mb", start_rss_mb)
      .Add("rss_peak_mb", peak_rss_mb)
      .Add("rss_mb", RssMb());
  emit(line);
  BenchLine peer;
  settings_of(peer, "ingest-rocksdb");
  if (!skipped.empty()) {
    peer.Add("skipped", skipped);
  } else {
    const double median = rocks[rocks.size() / 2];
    peer.Add("wal", true)
        .Add("write_buffer_mb", static_cast<uint64_t>(o.memtable_max_bytes >> 20))
        .Add("runs", static_cast<uint64_t>(rocks.size()))
        .Add("events_per_s", median)
        .Add("min_events_per_s", rocks.front())
        .Add("max_events_per_s", rocks.back())
        .Add("cpu_us_per_event",
             rocks_cpu * 1e6 / (static_cast<double>(spec.events) * rocks.size()))
        .Add("hanshiro_ratio", ours[ours.size() / 2] / median);
  }
  emit(peer);
  return Status::OK();
}

}  // namespace

Status RunIngestWorkload(const BenchSettings& settings, const EmitFn& emit) {
  HANSHIRO_RETURN_IF_ERROR(RunSetting(settings, /*sync=*/false, emit));
  return RunSetting(settings, /*sync=*/true, emit);
}

}  // namespace hanshiro::cli
