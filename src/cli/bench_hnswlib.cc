#include "cli/bench_hnswlib.h"

#include <chrono>
#include <cmath>

#if __has_include(<hnswlib/hnswlib.h>)
#include <hnswlib/hnswlib.h>
#define HANSHIRO_HAVE_HNSWLIB 1
#endif

namespace hanshiro::cli {

bool RunHnswlibPeer(const float* data, uint64_t n, uint32_t dim, const float* queries,
                    int query_count, size_t k, uint32_t m, uint32_t ef_construction,
                    std::span<const uint32_t> efs, int passes, PeerResult* out) {
#ifdef HANSHIRO_HAVE_HNSWLIB
  using Clock = std::chrono::steady_clock;
  hnswlib::InnerProductSpace space(dim);
  hnswlib::HierarchicalNSW<float> index(&space, n, m, ef_construction, 42);
  auto start = Clock::now();
  for (uint64_t i = 0; i < n; ++i) index.addPoint(data + i * dim, i);
  out->build_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  auto run = [&](PeerSearch* s) {
    index.setEf(s->ef);
    s->labels.assign(size_t(query_count) * k, UINT64_MAX);
    start = Clock::now();
    for (int q = 0; q < query_count; ++q) {
      auto result = index.searchKnn(queries + size_t(q) * dim, k);
      for (size_t j = result.size(); j-- > 0;) {  // farthest first
        s->labels[size_t(q) * k + j] = result.top().second;
        result.pop();
      }
    }
    s->seconds = std::chrono::duration<double>(Clock::now() - start).count();
  };
  PeerSearch warm_up{efs.empty() ? 64 : efs.front()};
  run(&warm_up);
  out->searches.clear();
  for (uint32_t ef : efs) {
    PeerSearch best{ef};
    best.seconds = INFINITY;
    for (int pass = 0; pass < passes; ++pass) {
      PeerSearch s{ef};
      run(&s);
      if (s.seconds < best.seconds) best = std::move(s);
    }
    out->searches.push_back(std::move(best));
  }
  return true;
#else
  (void)data, (void)n, (void)dim, (void)queries, (void)query_count, (void)k, (void)m;
  (void)ef_construction, (void)efs, (void)passes, (void)out;
  return false;
#endif
}

}  // namespace hanshiro::cli
