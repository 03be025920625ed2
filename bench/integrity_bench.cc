// Micro-benchmarks of the WAL write path pieces: record encoding with CRC,
// leaf hashing of a batch, and appending a batch of leaves to the tree.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "integrity/merkle.h"
#include "wal/segment.h"

namespace hanshiro {
namespace {

constexpr size_t kBatch = 2000;

std::string RandomBytes(size_t n) {
  std::mt19937_64 rng(1);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

void BM_EncodeRecords(benchmark::State& state) {
  const std::string payload = RandomBytes(state.range(0));
  std::string buf;
  for (auto _ : state) {
    buf.clear();
    for (size_t i = 0; i < kBatch; ++i) wal::AppendRecord(&buf, i, 1, payload);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_EncodeRecords)->Arg(256);

void BM_LeafHashMany(benchmark::State& state) {
  // A leaf input (header and payload) behind the leaf prefix.
  std::string payload(1, static_cast<char>(integrity::kLeafPrefix));
  payload.append(RandomBytes(state.range(0) + 13));
  std::vector<std::string_view> inputs(kBatch, payload);
  std::vector<Hash256> out(kBatch);
  for (auto _ : state) {
    integrity::LeafHashManyPrefixed(inputs, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_LeafHashMany)->Arg(256);

void BM_TreeAppend(benchmark::State& state) {
  std::vector<Hash256> leaves(kBatch);
  for (size_t i = 0; i < kBatch; ++i) leaves[i] = integrity::LeafHash(std::to_string(i));
  integrity::CompactTree tree;
  for (auto _ : state) {
    tree.Append(leaves);
    benchmark::DoNotOptimize(tree.Root());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_TreeAppend);

}  // namespace
}  // namespace hanshiro

BENCHMARK_MAIN();
