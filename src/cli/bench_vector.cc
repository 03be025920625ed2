// `hanshiro bench --workload vector-insert|vector-search`: the vector store
// alone. Random Gaussian vectors; ids, sequence numbers and metadata as the
// engine would give them.
//   vector-insert: appends of `n` 128-d vectors (one writer), chunk files
//                  created (and pre-faulted) on a second thread as the store
//                  grows;
//   vector-search: exact top-k, one query at a time, over 10K x 128 and
//                  10K x 384 (one thread), and 1M x 128 (both cores); the
//                  first query, which builds the int8 copy, apart.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "cli/bench.h"
#include "vector/collection.h"

namespace hanshiro::cli {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kBatch = 1000;

std::vector<float> RandomVectors(uint64_t n, uint32_t dim, uint64_t seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> out(n * dim);
  for (float& x : out) x = normal(rng);
  return out;
}

vector::RowMeta MetaFor(uint64_t i) {
  vector::RowMeta m;
  m.id = EventId(0x0190000000000000ull + i, i);
  m.seq = i;
  m.time_ns = static_cast<int64_t>(i) * 1000;
  m.host_hash = i % 64;
  m.event_type = static_cast<uint16_t>(i % 13);
  return m;
}

double ThreadCpuSeconds() {
  timespec ts;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

Result<std::unique_ptr<vector::Collection>> Fill(const std::string& dir, uint64_t n,
                                                 uint32_t dim, const std::vector<float>& data,
                                                 double* seconds, double* cpu_seconds = nullptr) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  HANSHIRO_ASSIGN_OR_RETURN(auto c, vector::Collection::Open(dir, dim, vector::Metric::kCosine,
                                                             UINT64_MAX));
  // Batches of kBatch, as the engine adds the vectors of a commit group.
  const uint64_t pool = data.size() / dim;
  std::vector<vector::RowMeta> metas(kBatch);
  const auto start = Clock::now();
  const double cpu_start = ThreadCpuSeconds();
  for (uint64_t i = 0; i < n; i += kBatch) {
    const uint64_t m = std::min<uint64_t>(kBatch, n - i);
    for (uint64_t j = 0; j < m; ++j) metas[j] = MetaFor(i + j);
    const uint64_t at = (i % pool) * dim;
    HANSHIRO_RETURN_IF_ERROR(c->AddBatch(std::span(metas).first(m), {data.data() + at, m * dim}));
  }
  *seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (cpu_seconds != nullptr) *cpu_seconds = ThreadCpuSeconds() - cpu_start;
  return c;
}

Status RunInsert(const BenchSettings& settings, const EmitFn& emit) {
  const uint64_t n = settings.events > 0 ? settings.events : 1'000'000;
  const uint32_t dim = 128;
  const auto data = RandomVectors(100'000, dim, 1);  // a multiple of kBatch
  const std::string dir = settings.scratch_dir + "/vector-insert";
  double seconds = 0;
  HANSHIRO_RETURN_IF_ERROR(Fill(dir, n, dim, data, &seconds).status());  // warm-up
  std::vector<double> rates;
  vector::GrowthStats growth;  // summed over the timed runs
  double total_seconds = 0;
  std::vector<double> writer_ns;  // the writer thread's CPU time per vector
  for (int r = 0; r < std::max(1, settings.runs); ++r) {
    double cpu_seconds = 0;
    HANSHIRO_ASSIGN_OR_RETURN(auto c, Fill(dir, n, dim, data, &seconds, &cpu_seconds));
    rates.push_back(n / seconds);
    writer_ns.push_back(cpu_seconds * 1e9 / n);
    total_seconds += seconds;
    const vector::GrowthStats g = c->growth();
    growth.chunks_created += g.chunks_created;
    growth.create_ns += g.create_ns;
    growth.append_wait_ns += g.append_wait_ns;
  }
  std::sort(rates.begin(), rates.end());
  std::sort(writer_ns.begin(), writer_ns.end());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  BenchLine line;
  line.Add("workload", std::string("vector-insert"))
      .Add("n", n)
      .Add("dim", uint64_t{dim})
      .Add("metric", std::string("cosine"))
      .Add("threads", uint64_t{1})
      .Add("batch", kBatch)
      .Add("runs", static_cast<uint64_t>(rates.size()))
      .Add("vectors_per_s", rates[rates.size() / 2])
      .Add("min_vectors_per_s", rates.front())
      .Add("max_vectors_per_s", rates.back())
      // Chunk files are created and pre-faulted on a second thread; these say
      // how long one took and what share of the runs appends spent waiting.
      .Add("chunk_rows", uint64_t{vector::Geometry::For(dim, vector::Metric::kCosine).capacity})
      .Add("chunk_create_ms",
           growth.chunks_created > 0 ? growth.create_ns / 1e6 / growth.chunks_created : 0.0)
      .Add("append_wait_share", growth.append_wait_ns / 1e9 / total_seconds)
      // The writer thread's own CPU time (user and system) per vector, waits
      // excluded: the part of the cost the second thread cannot take.
      .Add("writer_cpu_ns", writer_ns[writer_ns.size() / 2])
      .Add("rss_mb", RssMb());
  emit(line);
  return Status::OK();
}

Status RunSearchCase(const BenchSettings& settings, uint64_t n, uint32_t dim, int threads,
                     int queries, const EmitFn& emit) {
  const size_t k = 10;
  const auto data = RandomVectors(std::min<uint64_t>(n, 200'000), dim, 2);  // multiple of kBatch
  const std::string dir = settings.scratch_dir + "/vector-search";
  double seconds = 0;
  HANSHIRO_ASSIGN_OR_RETURN(auto c, Fill(dir, n, dim, data, &seconds));
  const auto q = RandomVectors(queries, dim, 3);
  // The first query also builds the store's int8 copy of all n rows.
  const auto first_start = Clock::now();
  HANSHIRO_RETURN_IF_ERROR(c->Search({q.data(), dim}, k, {}, threads).status());
  const double first_ms =
      std::chrono::duration<double, std::milli>(Clock::now() - first_start).count();
  for (int i = 0; i < std::min(queries, 20); ++i) {  // warm-up
    HANSHIRO_RETURN_IF_ERROR(c->Search({q.data() + i * dim, dim}, k, {}, threads).status());
  }
  std::vector<double> us;
  for (int i = 0; i < queries; ++i) {
    const auto start = Clock::now();
    auto hits = c->Search({q.data() + size_t(i) * dim, dim}, k, {}, threads);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    HANSHIRO_RETURN_IF_ERROR(hits.status());
  }
  c.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  BenchLine line;
  line.Add("workload", std::string("vector-search"))
      .Add("n", n)
      .Add("dim", uint64_t{dim})
      .Add("k", uint64_t{k})
      .Add("metric", std::string("cosine"))
      .Add("threads", static_cast<uint64_t>(threads))
      .Add("queries", static_cast<uint64_t>(queries))
      .Add("kernel", std::string(vector::KernelTarget()))
      .Add("p50_us", Percentile(us, 0.5))
      .Add("p99_us", Percentile(us, 0.99))
      .Add("first_query_ms", first_ms)
      .Add("rss_mb", RssMb());
  emit(line);
  return Status::OK();
}

}  // namespace

Status RunVectorInsertWorkload(const BenchSettings& settings, const EmitFn& emit) {
  return RunInsert(settings, emit);
}

Status RunVectorSearchWorkload(const BenchSettings& settings, const EmitFn& emit) {
  HANSHIRO_RETURN_IF_ERROR(RunSearchCase(settings, 10'000, 128, 1, 2000, emit));
  HANSHIRO_RETURN_IF_ERROR(RunSearchCase(settings, 10'000, 384, 1, 2000, emit));
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return RunSearchCase(settings, 1'000'000, 128, cores, 100, emit);
}

}  // namespace hanshiro::cli
