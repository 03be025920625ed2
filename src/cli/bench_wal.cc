// `hanshiro bench --workload wal`: WAL + integrity alone (no memtable).
//
// Three settings, each run with integrity on and off so the cost of the
// integrity tree is a ratio measured side by side:
//   - batches: `writers` threads each writing `batch`-record batches, sync off;
//   - the same with sync on (one fsync per commit group);
//   - 64 threads writing single records with sync on (group commit at work).
// Each setting runs once untimed (touching fresh memory and page cache is far
// slower the first time on virtual machines), then `runs` times; the median
// is reported. Payloads are random bytes (incompressible).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "cli/bench.h"
#include "wal/log.h"

namespace hanshiro::cli {
namespace {

struct WalRun {
  uint64_t events = 0;
  int writers = 0;
  size_t batch = 0;
  size_t payload_bytes = 0;
  bool sync = false;
  bool integrity = true;
  uint64_t max_file_size = 1ull << 30;
  uint64_t group_commit_delay_us = 0;
};

struct Measured {
  double events_per_s = 0;
  uint64_t segments = 0;
  wal::LogStats stats;
};

std::string FreshDir(const std::string& parent, int n) {
  return (std::filesystem::path(parent) / fmt::format("wal-run-{}", n)).string();
}

Result<Measured> RunOnce(const WalRun& run, const std::string& dir, const std::string& pool) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  wal::Options options;
  options.sync_on_write = run.sync;
  options.integrity = run.integrity;
  options.max_batch_size = std::max<size_t>(run.batch, 2000);
  options.max_file_size = run.max_file_size;
  options.group_commit_delay_us = run.group_commit_delay_us;
  HANSHIRO_ASSIGN_OR_RETURN(auto log, wal::Log::Open(options, dir));

  const uint64_t per_writer = run.events / run.writers;
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  Status first_error;
  std::mutex error_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < run.writers; ++t) {
    threads.emplace_back([&, t] {
      // Batches of views into the random pool, varied per writer.
      std::vector<wal::Entry> batch(run.batch);
      for (size_t i = 0; i < run.batch; ++i) {
        const size_t at = ((t * 7919 + i * 131) * 64) % (pool.size() - run.payload_bytes);
        batch[i] = {1, std::string_view(pool).substr(at, run.payload_bytes)};
      }
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (uint64_t done = 0; done < per_writer; done += run.batch) {
        const size_t n = std::min<uint64_t>(run.batch, per_writer - done);
        auto seq = log->WriteBatch(std::span(batch).first(n));
        if (!seq.ok()) {
          std::lock_guard lock(error_mu);
          first_error = seq.status();
          return;
        }
      }
    });
  }
  while (ready.load() < run.writers) std::this_thread::yield();
  const auto start = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  for (auto& th : threads) th.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  HANSHIRO_RETURN_IF_ERROR(first_error);
  Measured m;
  m.events_per_s = static_cast<double>(per_writer * run.writers) / seconds;
  m.stats = log->stats();
  HANSHIRO_RETURN_IF_ERROR(log->Close());
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/wal")) {
    if (entry.path().extension() == ".wal") ++m.segments;
  }
  std::filesystem::remove_all(dir, ec);
  return m;
}

Result<BenchLine> Measure(const WalRun& run, const BenchSettings& settings,
                          const std::string& pool, double* events_per_s) {
  const std::string dir = FreshDir(settings.scratch_dir, 0);
  HANSHIRO_RETURN_IF_ERROR(RunOnce(run, dir, pool).status());  // warm-up
  std::vector<Measured> measured;
  for (int i = 0; i < std::max(1, settings.runs); ++i) {
    HANSHIRO_ASSIGN_OR_RETURN(Measured m, RunOnce(run, dir, pool));
    measured.push_back(m);
  }
  std::sort(measured.begin(), measured.end(),
            [](const Measured& a, const Measured& b) { return a.events_per_s < b.events_per_s; });
  const Measured& median = measured[measured.size() / 2];
  *events_per_s = median.events_per_s;
  const wal::LogStats& st = median.stats;
  BenchLine line;
  line.Add("workload", std::string("wal"))
      .Add("events", run.events)
      .Add("writers", static_cast<uint64_t>(run.writers))
      .Add("batch", static_cast<uint64_t>(run.batch))
      .Add("payload_bytes", static_cast<uint64_t>(run.payload_bytes))
      .Add("sync", run.sync)
      .Add("integrity", run.integrity)
      .Add("flushes", uint64_t{0})
      .Add("max_file_size", run.max_file_size)
      .Add("group_commit_delay_us", run.group_commit_delay_us)
      .Add("segments", median.segments)
      .Add("runs", static_cast<uint64_t>(measured.size()))
      .Add("events_per_s", *events_per_s)
      .Add("min_events_per_s", measured.front().events_per_s)
      .Add("max_events_per_s", measured.back().events_per_s)
      .Add("groups", st.groups)
      .Add("records_per_group", st.groups > 0 ? static_cast<double>(st.records) / st.groups : 0.0)
      .Add("mean_fsync_us", st.syncs > 0 ? static_cast<double>(st.sync_us) / st.syncs : 0.0);
  return line;
}

}  // namespace

Status RunWalWorkload(const BenchSettings& settings, const EmitFn& emit) {
  std::string pool(1 << 20, '\0');
  std::mt19937_64 rng(42);
  for (char& c : pool) c = static_cast<char>(rng());

  std::vector<WalRun> runs;
  WalRun batched;
  batched.writers = settings.writers > 0 ? settings.writers : 2;
  batched.batch = settings.batch > 0 ? settings.batch : 2000;
  batched.payload_bytes = settings.payload_bytes;
  batched.events = settings.events > 0 ? settings.events : 2'000'000;
  runs.push_back(batched);
  batched.sync = true;
  runs.push_back(batched);
  WalRun single = batched;
  single.writers = 64;
  single.batch = 1;
  single.events = settings.events > 0 ? settings.events / 10 : 128'000;
  runs.push_back(single);

  for (WalRun run : runs) {
    double off_rate = 0, on_rate = 0;
    run.integrity = false;
    HANSHIRO_ASSIGN_OR_RETURN(BenchLine off, Measure(run, settings, pool, &off_rate));
    run.integrity = true;
    HANSHIRO_ASSIGN_OR_RETURN(BenchLine on, Measure(run, settings, pool, &on_rate));
    on.Add("integrity_off_events_per_s", off_rate)
        .Add("integrity_ratio", on_rate / off_rate)
        .Add("rss_mb", RssMb());
    off.Add("rss_mb", RssMb());
    emit(on);
    emit(off);
  }
  return Status::OK();
}

}  // namespace hanshiro::cli
