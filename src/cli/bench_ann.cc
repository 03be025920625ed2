// `hanshiro bench --workload vector-ann`: the HNSW index on clustered
// vectors (n x 128, cosine, k = 10), ours and -- when Debian's
// libhnswlib-dev is installed -- hnswlib's, same data, same M,
// ef_construction and ef, one thread, in the same run: recall against the
// exact search, queries per second, and index build rate.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <set>

#include <fmt/format.h>

#include "cli/bench.h"
#include "cli/bench_hnswlib.h"
#include "vector/hnsw.h"


namespace hanshiro::cli {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint32_t kDim = 128;
constexpr size_t kK = 10;
constexpr uint32_t kM = 16;
constexpr uint32_t kEfConstruction = 200;
constexpr uint32_t kEf = 64;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// n points around `clusters` Gaussian centres, unit length (cosine).
std::vector<float> Clustered(uint64_t n, int clusters, uint32_t seed) {
  std::mt19937 rng(seed);
  std::mt19937 centre_rng(7);  // same centres for data and queries
  std::normal_distribution<float> wide(0, 1), narrow(0, 1.0f);
  std::vector<float> centres(size_t(clusters) * kDim);
  for (float& x : centres) x = wide(centre_rng);
  std::vector<float> out(n * kDim);
  for (uint64_t i = 0; i < n; ++i) {
    const float* c = centres.data() + (rng() % clusters) * kDim;
    float* v = out.data() + i * kDim;
    for (uint32_t d = 0; d < kDim; ++d) v[d] = c[d] + narrow(rng);
    vector::Normalize(v, kDim);
  }
  return out;
}

BenchLine Line(const char* workload, uint64_t n, double recall, double qps, double build) {
  BenchLine line;
  line.Add("workload", std::string(workload))
      .Add("n", n)
      .Add("dim", uint64_t{kDim})
      .Add("k", uint64_t{kK})
      .Add("metric", std::string("cosine"))
      .Add("threads", uint64_t{1})
      .Add("m", uint64_t{kM})
      .Add("ef_construction", uint64_t{kEfConstruction})
      .Add("ef", uint64_t{kEf})
      .Add("recall", recall)
      .Add("qps", qps)
      .Add("build_vectors_per_s", build)
      .Add("rss_mb", RssMb());
  return line;
}

}  // namespace

Status RunVectorAnnWorkload(const BenchSettings& settings, const EmitFn& emit) {
  const uint64_t n = settings.events > 0 ? settings.events : 200'000;
  const int queries = 1000;
  const auto data = Clustered(n, 1000, 1);
  const auto query = Clustered(queries, 1000, 2);
  const std::string dir = settings.scratch_dir + "/vector-ann";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  HANSHIRO_ASSIGN_OR_RETURN(auto c, vector::Collection::Open(dir, kDim, vector::Metric::kCosine,
                                                             UINT64_MAX));
  std::vector<vector::RowMeta> metas(n);
  for (uint64_t i = 0; i < n; ++i) {
    metas[i].id = EventId(0x0190000000000000ull + i, i);
    metas[i].seq = i;
  }
  HANSHIRO_RETURN_IF_ERROR(c->AddBatch(metas, data));

  // Ground truth: the exact search.
  std::vector<std::set<uint64_t>> truth(queries);
  for (int i = 0; i < queries; ++i) {
    HANSHIRO_ASSIGN_OR_RETURN(auto hits, c->Search({query.data() + size_t(i) * kDim, kDim}, kK,
                                                   {}, 2));
    for (const auto& h : hits) truth[i].insert(h.row);
  }

  vector::HnswOptions options;
  options.m = kM;
  options.ef_construction = kEfConstruction;
  options.ef_search = kEf;
  vector::Hnsw index(c.get(), options);
  auto start = Clock::now();
  index.Update();
  const double build = n / Seconds(start);
  double found = 0;
  start = Clock::now();
  for (int i = 0; i < queries; ++i) {
    HANSHIRO_ASSIGN_OR_RETURN(auto hits, index.Search({query.data() + size_t(i) * kDim, kDim}, kK));
    for (const auto& h : hits) found += truth[i].count(h.row);
  }
  const double qps = queries / Seconds(start);
  emit(Line("vector-ann", n, found / (queries * kK), qps, build));

  PeerResult peer;
  if (RunHnswlibPeer(data.data(), n, kDim, query.data(), queries, kK, kM, kEfConstruction, kEf,
                     &peer)) {
    found = 0;
    for (int i = 0; i < queries; ++i) {
      for (size_t j = 0; j < kK; ++j) found += truth[i].count(peer.labels[size_t(i) * kK + j]);
    }
    emit(Line("vector-ann-hnswlib", n, found / (queries * kK), queries / peer.search_seconds,
              n / peer.build_seconds));
  } else {
    BenchLine line;
    line.Add("workload", std::string("vector-ann-hnswlib"))
        .Add("skipped", std::string("libhnswlib-dev is not installed"));
    emit(line);
  }
  c.reset();
  std::filesystem::remove_all(dir, ec);
  return Status::OK();
}

}  // namespace hanshiro::cli
