// Micro-benchmarks of the base kernels (Google Benchmark). System-level
// figures come from `hanshiro bench`; these isolate one function each.
//   build/release/bench/hanshiro_base_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "base/blake3.h"
#include "base/crc32c.h"
#include "base/record.h"
#include "base/record_test_util.h"

namespace hanshiro {
namespace {

std::vector<std::string> RandomInputs(size_t count, size_t len) {
  std::mt19937_64 rng(42);
  std::vector<std::string> out(count, std::string(len, '\0'));
  for (auto& s : out) {
    for (char& c : s) c = static_cast<char>(rng());
  }
  return out;
}

void BM_Crc32c(benchmark::State& state) {
  const std::string data = RandomInputs(1, static_cast<size_t>(state.range(0)))[0];
  for (auto _ : state) {
    benchmark::DoNotOptimize(data.data());
    benchmark::DoNotOptimize(crc32c::Value(data));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32c)->Arg(256)->Arg(4096);

void BM_Crc32cPortable(benchmark::State& state) {
  const std::string data = RandomInputs(1, static_cast<size_t>(state.range(0)))[0];
  for (auto _ : state) {
    benchmark::DoNotOptimize(data.data());
    benchmark::DoNotOptimize(crc32c::ExtendPortable(0, data.data(), data.size()));
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32cPortable)->Arg(256)->Arg(4096);

// 1024 inputs of range(0) bytes, hashed one at a time.
void BM_Blake3OneByOne(benchmark::State& state) {
  const auto storage = RandomInputs(1024, static_cast<size_t>(state.range(0)));
  std::vector<Hash256> out(storage.size());
  for (auto _ : state) {
    for (size_t i = 0; i < storage.size(); ++i) out[i] = blake3::Hash(storage[i]);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * storage.size()));
}
BENCHMARK(BM_Blake3OneByOne)->Arg(65)->Arg(256)->Arg(1024);

// The same 1024 inputs in one HashMany call.
void BM_Blake3HashMany(benchmark::State& state) {
  const auto storage = RandomInputs(1024, static_cast<size_t>(state.range(0)));
  const std::vector<std::string_view> inputs(storage.begin(), storage.end());
  std::vector<Hash256> out(storage.size());
  for (auto _ : state) {
    blake3::HashMany(inputs, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * storage.size()));
}
BENCHMARK(BM_Blake3HashMany)->Arg(65)->Arg(256)->Arg(1024);

void BM_RecordEncodeEvent(benchmark::State& state) {
  const Value v = testing::FullEvent();
  std::string out;
  for (auto _ : state) {
    out.clear();
    benchmark::DoNotOptimize(record::Encode(v, &out));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RecordEncodeEvent);

void BM_RecordDecodeEvent(benchmark::State& state) {
  std::string bytes;
  (void)record::Encode(testing::FullEvent(), &bytes);
  for (auto _ : state) benchmark::DoNotOptimize(record::Decode(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_RecordDecodeEvent);

}  // namespace
}  // namespace hanshiro

BENCHMARK_MAIN();
