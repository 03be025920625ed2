// libFuzzer target: arbitrary bytes as a vector chunk file or an HNSW index
// file. Opening must either fail with Corruption / InvalidArgument or give a
// store (or graph) that can be searched without any out-of-bounds access.
// Seeds: build/fuzz/corpus/vector_files_fuzzer (scripts/fuzz.sh makes them).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "hanshiro/env.h"
#include "vector/collection.h"
#include "vector/hnsw.h"

namespace {

using hanshiro::Env;
using hanshiro::vector::Collection;
using hanshiro::vector::Metric;

std::string MakeDir() {
  std::string pattern = "/tmp/hanshiro-vfuzz-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

// A small valid collection for the index half, built once.
Collection* Base() {
  static Collection* base = [] {
    auto c = Collection::Open(MakeDir(), 8, Metric::kL2, UINT64_MAX, 256);
    if (!c.ok()) std::abort();
    for (uint64_t i = 0; i < 300; ++i) {
      hanshiro::vector::RowMeta m;
      m.id = hanshiro::EventId(i + 1, i);
      m.seq = i;
      std::vector<float> v(8, static_cast<float>(i % 17));
      v[i % 8] += 1;
      if (!(*c)->Add(m, v).ok()) std::abort();
    }
    return std::move(c).value().release();
  }();
  return base;
}

void Check(const hanshiro::Status& s) {
  if (!s.ok() && !s.IsCorruption() && !s.IsInvalidArgument()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const std::string dir = MakeDir();
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::vector<float> query(8, 1.0f);
  if (data[0] % 2 == 0) {
    const std::string path = dir + "/chunk-000001.vec";
    if (!hanshiro::WriteStringToFile(Env::Default(), bytes, path, false).ok()) std::abort();
    auto c = Collection::Open(dir, 8, Metric::kL2, UINT64_MAX);
    Check(c.status());
    if (c.ok()) (void)(*c)->Search(query, 5);
  } else {
    const std::string path = dir + "/hnsw.idx";
    if (!hanshiro::WriteStringToFile(Env::Default(), bytes, path, false).ok()) std::abort();
    auto index = hanshiro::vector::Hnsw::Load(Env::Default(), path, Base(), {});
    Check(index.status());
    if (index.ok()) (void)(*index)->Search(query, 5);
  }
  return 0;
}
