// Writes seed inputs for vector_files_fuzzer into DIR: a valid chunk file and
// a valid HNSW index, each prefixed with the selector byte the fuzzer reads.
#include <cstdio>
#include <filesystem>
#include <string>

#include "hanshiro/env.h"
#include "vector/collection.h"
#include "vector/hnsw.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_vector_seeds DIR\n");
    return 2;
  }
  using namespace hanshiro;
  const std::string out = argv[1];
  const std::string work = out + "/.work";
  std::filesystem::remove_all(work);
  auto c = vector::Collection::Open(work, 8, vector::Metric::kL2, UINT64_MAX, 256);
  if (!c.ok()) return 1;
  for (uint64_t i = 0; i < 300; ++i) {
    vector::RowMeta m;
    m.id = EventId(i + 1, i);
    m.seq = i;
    std::vector<float> v(8, static_cast<float>(i % 17));
    v[i % 8] += 1;
    if (!(*c)->Add(m, v).ok()) return 1;
  }
  vector::Hnsw index(c->get(), {});
  index.Update();
  if (!index.Save(Env::Default(), work + "/hnsw.idx").ok()) return 1;
  auto chunk = ReadFileToString(Env::Default(), work + "/chunk-000001.vec");
  auto graph = ReadFileToString(Env::Default(), work + "/hnsw.idx");
  if (!chunk.ok() || !graph.ok()) return 1;
  if (!WriteStringToFile(Env::Default(), std::string(1, '\0') + *chunk, out + "/chunk.seed", false)
           .ok() ||
      !WriteStringToFile(Env::Default(), std::string(1, '\1') + *graph, out + "/hnsw.seed", false)
           .ok()) {
    return 1;
  }
  c->reset();
  std::filesystem::remove_all(work);
  return 0;
}
