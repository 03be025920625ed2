// `hanshiro bench --workload vector-ann`: the HNSW index on clustered
// vectors (n x 128, cosine, k = 10), ours and -- when Debian's
// libhnswlib-dev is installed -- hnswlib's, same data, same M and
// ef_construction, one thread, in the same run: recall against the exact
// search, queries per second, and index build rate. Both are queried at
// every ef of a sweep (the fastest of three passes over the queries), so
// their query rates can be compared at the same recall, not only at the same
// ef.
#include <algorithm>
#include <chrono>
#include <cmath>
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
// The sweep; the headline lines are at kEf.
constexpr uint32_t kEfs[] = {16, 24, 32, 48, 64, 96, 128, 192};
// Timed passes over the queries per ef; the fastest is reported (a shared
// machine's pauses only ever slow a pass down).
constexpr int kPasses = 3;

struct CurvePoint {
  uint32_t ef = 0;
  double recall = 0;
  double qps = 0;
};

// The query rate the curve reaches at `recall`, interpolated linearly between
// the two values of ef around it. 0 when the sweep does not bracket it.
double QpsAtRecall(const std::vector<CurvePoint>& curve, double recall) {
  for (size_t i = 0; i < curve.size(); ++i) {
    if (curve[i].recall == recall) return curve[i].qps;
    if (i + 1 < curve.size() && curve[i].recall < recall && recall < curve[i + 1].recall) {
      const double t = (recall - curve[i].recall) / (curve[i + 1].recall - curve[i].recall);
      return curve[i].qps + t * (curve[i + 1].qps - curve[i].qps);
    }
  }
  return 0;
}

const CurvePoint& AtDefaultEf(const std::vector<CurvePoint>& curve) {
  return *std::find_if(curve.begin(), curve.end(), [](const CurvePoint& p) { return p.ef == kEf; });
}

BenchLine CurveLine(const char* index, uint64_t n, const CurvePoint& p) {
  BenchLine line;
  line.Add("workload", std::string("vector-ann-curve"))
      .Add("index", std::string(index))
      .Add("n", n)
      .Add("k", uint64_t{kK})
      .Add("ef", uint64_t{p.ef})
      .Add("recall", p.recall)
      .Add("qps", p.qps);
  return line;
}

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
  auto recall_of = [&](int i, auto label_at) {
    double found = 0;
    for (size_t j = 0; j < kK; ++j) found += truth[i].count(label_at(j));
    return found;
  };
  // One untimed pass, then kPasses timed passes per ef; the fastest counts.
  for (int i = 0; i < queries; ++i) {
    HANSHIRO_RETURN_IF_ERROR(index.Search({query.data() + size_t(i) * kDim, kDim}, kK).status());
  }
  std::vector<CurvePoint> ours;
  for (uint32_t ef : kEfs) {
    double found = 0;
    double best_seconds = INFINITY;
    for (int pass = 0; pass < kPasses; ++pass) {
      found = 0;
      start = Clock::now();
      for (int i = 0; i < queries; ++i) {
        HANSHIRO_ASSIGN_OR_RETURN(auto hits,
                                  index.Search({query.data() + size_t(i) * kDim, kDim}, kK, ef));
        found += recall_of(i, [&](size_t j) { return j < hits.size() ? hits[j].row : UINT64_MAX; });
      }
      best_seconds = std::min(best_seconds, Seconds(start));
    }
    ours.push_back({ef, found / (queries * kK), queries / best_seconds});
  }
  for (const CurvePoint& p : ours) emit(CurveLine("hanshiro", n, p));
  // Ours' headline line, sized (rss_mb) before the peer runs; emitted after.
  BenchLine line = Line("vector-ann", n, AtDefaultEf(ours).recall, AtDefaultEf(ours).qps, build);

  PeerResult peer;
  std::vector<CurvePoint> theirs;
  if (settings.peers &&
      RunHnswlibPeer(data.data(), n, kDim, query.data(), queries, kK, kM, kEfConstruction, kEfs,
                     kPasses, &peer)) {
    for (const PeerSearch& s : peer.searches) {
      double found = 0;
      for (int i = 0; i < queries; ++i) {
        found += recall_of(i, [&](size_t j) { return s.labels[size_t(i) * kK + j]; });
      }
      theirs.push_back({s.ef, found / (queries * kK), queries / s.seconds});
    }
    for (const CurvePoint& p : theirs) emit(CurveLine("hnswlib", n, p));
  }
  // The headline lines at kEf. With the peer, ours also gives both query
  // rates at the recall ours reaches at kEf, each read off its own sweep
  // (where it first reaches that recall, or between the two ef around it).
  // When one sweep does not reach it, the comparison is left out.
  const CurvePoint& mine = AtDefaultEf(ours);
  if (!theirs.empty()) {
    const double ours_qps = QpsAtRecall(ours, mine.recall);
    const double peer_qps = QpsAtRecall(theirs, mine.recall);
    line.Add("same_recall", mine.recall);
    if (ours_qps > 0 && peer_qps > 0) {
      line.Add("hanshiro_qps_at_same_recall", ours_qps)
          .Add("hnswlib_qps_at_same_recall", peer_qps)
          .Add("qps_ratio_at_same_recall", ours_qps / peer_qps);
    } else {
      line.Add("qps_ratio_at_same_recall_skipped",
               std::string("the recall is outside hnswlib's sweep"));
    }
  }
  emit(line);
  if (!theirs.empty()) {
    const CurvePoint& other = AtDefaultEf(theirs);
    emit(Line("vector-ann-hnswlib", n, other.recall, other.qps, n / peer.build_seconds));
  } else {
    BenchLine skipped;
    skipped.Add("workload", std::string("vector-ann-hnswlib"))
        .Add("skipped", std::string(settings.peers ? "libhnswlib-dev is not installed" : "--no-peers"));
    emit(skipped);
  }
  c.reset();
  std::filesystem::remove_all(dir, ec);
  return Status::OK();
}

}  // namespace hanshiro::cli
