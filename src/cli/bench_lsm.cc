// `hanshiro bench --workload get|scan`: reads from the store (src/lsm) filled
// with realistic events: a random `payload_bytes` raw body, a host, a type
// and a time-ordered id; event times nearly in order, 1 ms apart.
//
//   get:    point gets by id (FindKey then Get) after flush and compaction,
//           block cache large enough to hold the data and warmed first.
//   scan:   one thread reading an event-time range (the whole data) through
//           the merged iterator, blocks read without filling the cache.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "base/id_generator.h"
#include "base/record.h"
#include "cli/bench.h"
#include "hanshiro/storage_key.h"
#include "lsm/db.h"

namespace hanshiro::cli {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr int64_t kT0 = 1'700'000'000'000'000'000;
constexpr int64_t kStepNs = 1'000'000;

struct FillResult {
  double seconds = 0;
  lsm::Stats stats;
  std::vector<EventId> ids;  // every written id, when asked for
};

// Writes `n` events; `keep_ids` records their ids for lookups.
Result<FillResult> Fill(lsm::DB* db, uint64_t n, int writers, size_t batch, size_t payload,
                        bool keep_ids) {
  const std::string pool = RandomPool();
  IdGenerator ids(Clock::System());
  std::atomic<uint64_t> next{0};
  std::atomic<bool> go{false};
  std::mutex mu;
  Status first_error;
  FillResult result;
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      std::vector<std::string> keys(batch), records(batch);
      std::vector<lsm::WriteRecord> wr(batch);
      std::vector<EventId> mine;
      Event e;
      e.type = EventType::Named(EventTypeCode::kDnsQuery);
      e.source.collector = "bench";
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      while (true) {
        const uint64_t first = next.fetch_add(batch);
        if (first >= n) break;
        const size_t m = std::min<uint64_t>(batch, n - first);
        for (size_t i = 0; i < m; ++i) {
          const uint64_t g = first + i;
          e.id = ids.Next();
          e.event_time_ns = kT0 + static_cast<int64_t>(g) * kStepNs;
          e.ingest_time_ns = e.event_time_ns + 5'000'000;
          e.source.host = fmt::format("host-{}", g % 64);
          e.raw_data.assign(pool, (g * 4099 + w * 131) % (pool.size() - payload), payload);
          records[i].clear();
          if (Status s = record::Encode(e, &records[i]); !s.ok()) {
            std::lock_guard lock(mu);
            first_error = s;
            return;
          }
          keys[i] = std::string(StorageKey::For(e).view());
          wr[i] = {keys[i], records[i]};
          if (keep_ids) mine.push_back(e.id);
        }
        auto seq = db->Write(std::span(wr).first(m));
        if (!seq.ok()) {
          std::lock_guard lock(mu);
          first_error = seq.status();
          return;
        }
      }
      std::lock_guard lock(mu);
      result.ids.insert(result.ids.end(), mine.begin(), mine.end());
    });
  }
  const auto start = SteadyClock::now();
  go.store(true, std::memory_order_release);
  for (auto& t : threads) t.join();
  result.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  HANSHIRO_RETURN_IF_ERROR(first_error);
  result.stats = db->stats();
  return result;
}

Result<std::unique_ptr<lsm::DB>> FreshStore(const std::string& dir, const lsm::Options& options) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return lsm::DB::Open(options, dir);
}

// A store of n events, flushed and compacted; the ids written.
Result<std::unique_ptr<lsm::DB>> FilledStore(const BenchSettings& settings, const std::string& dir,
                                             const lsm::Options& options, uint64_t n,
                                             FillResult* fill) {
  HANSHIRO_ASSIGN_OR_RETURN(auto db, FreshStore(dir, options));
  HANSHIRO_ASSIGN_OR_RETURN(*fill, Fill(db.get(), n, 2, 2000, settings.payload_bytes, true));
  HANSHIRO_RETURN_IF_ERROR(db->Flush());
  HANSHIRO_RETURN_IF_ERROR(db->Compact());
  fill->stats = db->stats();
  return db;
}

}  // namespace

Status RunGetWorkload(const BenchSettings& settings, const EmitFn& emit) {
  const uint64_t n = settings.events > 0 ? settings.events : 1'000'000;
  lsm::Options options;
  options.sync_on_write = false;
  options.block_cache_size = size_t{1} << 30;
  const std::string dir = settings.scratch_dir + "/get";
  FillResult fill;
  HANSHIRO_ASSIGN_OR_RETURN(auto db, FilledStore(settings, dir, options, n, &fill));
  std::mt19937_64 rng(3);
  std::vector<EventId> sample(200'000);
  for (EventId& id : sample) id = fill.ids[rng() % fill.ids.size()];
  std::vector<double> us;
  us.reserve(sample.size());
  std::string record;
  char id_bytes[16];
  for (int pass = 0; pass < 2; ++pass) {  // pass 0 warms the cache
    for (const EventId& id : sample) {
      const auto start = SteadyClock::now();
      id.EncodeTo(id_bytes);
      HANSHIRO_ASSIGN_OR_RETURN(std::optional<std::string> key,
                                db->FindKey(std::string_view(id_bytes, 16)));
      if (!key) return Status::Corruption("bench get: a written id was not found");
      HANSHIRO_RETURN_IF_ERROR(db->Get(*key, &record));
      if (pass == 1) {
        us.push_back(std::chrono::duration<double, std::micro>(SteadyClock::now() - start).count());
      }
    }
  }
  const lsm::Stats stats = db->stats();
  BenchLine line;
  line.Add("workload", std::string("get"))
      .Add("events", n)
      .Add("payload_bytes", static_cast<uint64_t>(settings.payload_bytes))
      .Add("gets", static_cast<uint64_t>(us.size()))
      .Add("threads", uint64_t{1})
      .Add("block_size", static_cast<uint64_t>(options.table.block_size))
      .Add("cache_mb", static_cast<uint64_t>(options.block_cache_size >> 20))
      .Add("flushes", stats.flushes)
      .Add("tables", stats.tables)
      .Add("p50_us", Percentile(us, 0.5))
      .Add("p99_us", Percentile(us, 0.99))
      .Add("cache_hit_ratio", static_cast<double>(stats.block_cache_hits) /
                                  static_cast<double>(std::max<uint64_t>(
                                      1, stats.block_cache_hits + stats.block_cache_misses)))
      .Add("rss_mb", RssMb());
  emit(line);
  HANSHIRO_RETURN_IF_ERROR(db->Close());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return Status::OK();
}

Status RunScanWorkload(const BenchSettings& settings, const EmitFn& emit) {
  const uint64_t n = settings.events > 0 ? settings.events : 1'000'000;
  lsm::Options options;
  options.sync_on_write = false;
  const std::string dir = settings.scratch_dir + "/scan";
  FillResult fill;
  HANSHIRO_ASSIGN_OR_RETURN(auto db, FilledStore(settings, dir, options, n, &fill));
  const std::string lower(StorageKey(ValueKind::kLog, kT0, EventId()).view());
  const std::string upper(
      StorageKey(ValueKind::kLog, kT0 + static_cast<int64_t>(n) * kStepNs, EventId()).view());
  std::vector<double> rates;
  uint64_t count = 0, bytes = 0;
  for (int run = 0; run <= std::max(1, settings.runs); ++run) {  // run 0 warms the page cache
    count = bytes = 0;
    const auto start = SteadyClock::now();
    auto it = db->NewIterator(lower, upper, /*fill_cache=*/false);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++count;
      bytes += it->value().size();
    }
    HANSHIRO_RETURN_IF_ERROR(it->status());
    const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    if (count != n) {
      return Status::Corruption(fmt::format("bench scan: read {} of {} events", count, n));
    }
    if (run > 0) rates.push_back(static_cast<double>(count) / seconds);
  }
  std::sort(rates.begin(), rates.end());
  const lsm::Stats stats = db->stats();
  BenchLine line;
  line.Add("workload", std::string("scan"))
      .Add("events", n)
      .Add("payload_bytes", static_cast<uint64_t>(settings.payload_bytes))
      .Add("threads", uint64_t{1})
      .Add("block_size", static_cast<uint64_t>(options.table.block_size))
      .Add("tables", stats.tables)
      .Add("flushes", stats.flushes)
      .Add("runs", static_cast<uint64_t>(rates.size()))
      .Add("events_per_s", rates[rates.size() / 2])
      .Add("mb_per_s", rates[rates.size() / 2] * static_cast<double>(bytes) /
                           static_cast<double>(count) / (1 << 20))
      .Add("rss_mb", RssMb());
  emit(line);
  HANSHIRO_RETURN_IF_ERROR(db->Close());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return Status::OK();
}

}  // namespace hanshiro::cli
