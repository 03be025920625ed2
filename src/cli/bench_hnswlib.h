// The hnswlib peer of the vector-ann benchmark, in its own translation unit
// so hnswlib is compiled with the host's full instruction set (its SIMD is
// chosen at compile time), as its users build it.
#ifndef HANSHIRO_CLI_BENCH_HNSWLIB_H_
#define HANSHIRO_CLI_BENCH_HNSWLIB_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace hanshiro::cli {

struct PeerSearch {
  uint32_t ef = 0;
  double seconds = 0;
  std::vector<uint64_t> labels;  // k per query (fewer padded with UINT64_MAX)
};

struct PeerResult {
  double build_seconds = 0;
  std::vector<PeerSearch> searches;  // one per ef, in the order asked
};

// Builds hnswlib's index over n unit vectors (inner product space: 1 - dot)
// and runs the queries one at a time, `passes` times per value of ef after
// one untimed pass; seconds is the fastest pass. False when hnswlib is not
// installed.
bool RunHnswlibPeer(const float* data, uint64_t n, uint32_t dim, const float* queries,
                    int query_count, size_t k, uint32_t m, uint32_t ef_construction,
                    std::span<const uint32_t> efs, int passes, PeerResult* out);

}  // namespace hanshiro::cli

#endif  // HANSHIRO_CLI_BENCH_HNSWLIB_H_
