// Hnsw: an approximate nearest-neighbour index over a Collection's rows, a
// hierarchical navigable small-world graph (Malkov & Yashunin, 2016): each
// row is a node on level 0 and, with probability 1/M per level, on higher
// levels; search descends greedily from the top and runs a best-first search
// of width `ef` on level 0. Neighbours are chosen with the paper's heuristic
// (keep a candidate only if it is closer to the new node than to every
// neighbour already kept), so the graph stays navigable on clustered data.
//
// Removed rows stay in the graph as waypoints and are never returned.
// Filtered search explores the graph as usual but admits only matching rows
// to the result; when fewer than k matching rows are found it falls back to
// the exact scan, so every result always matches the filter.
//
// Memory: level 0 is one flat array of (2M + 1) u32 per node; upper levels,
// held by few nodes, are small per-node arrays.
//
// Thread-safety: Update (which adds new rows) takes the index exclusively;
// any number of Search calls run together. The collection must outlive it.
#ifndef HANSHIRO_VECTOR_HNSW_H_
#define HANSHIRO_VECTOR_HNSW_H_

#include <cstdint>
#include <memory>
#include <string>
#include <random>
#include <shared_mutex>
#include <span>
#include <vector>

#include "base/huge_array.h"
#include "hanshiro/env.h"
#include "vector/collection.h"

namespace hanshiro::vector {

struct HnswOptions {
  uint32_t m = 16;                 // neighbours per node on upper levels (2m on level 0)
  uint32_t ef_construction = 200;  // search width while inserting
  uint32_t ef_search = 64;         // default search width
  uint64_t seed = 42;              // level draws (deterministic builds)
};

class Hnsw {
 public:
  Hnsw(const Collection* collection, const HnswOptions& options);

  // Adds the collection's rows that are not in the graph yet.
  void Update();

  // Writes the graph to `path` (temp file, fsync, rename, directory fsync);
  // format in docs/format/vectors.md ([HNSW-1..4]).
  Status Save(Env* env, const std::string& path) const;
  // Reads a graph saved by Save. Corruption when the file breaks a rule
  // (every neighbour id and count is checked, never trusted); InvalidArgument
  // when it was built with other options or holds more rows than the
  // collection (rows the log did not acknowledge): the caller rebuilds.
  static Result<std::unique_ptr<Hnsw>> Load(Env* env, const std::string& path,
                                            const Collection* collection,
                                            const HnswOptions& options);
  uint64_t size() const;

  // The k nearest live rows matching `filter`, nearest first; ef 0 means
  // options.ef_search (raised to k when smaller).
  Result<std::vector<Hit>> Search(std::span<const float> query, size_t k, uint32_t ef = 0,
                                  const Filter& filter = {}) const;

 private:
  using Node = uint32_t;
  struct Scored {
    float distance;
    Node node;
    friend bool operator<(const Scored& a, const Scored& b) {
      return a.distance != b.distance ? a.distance < b.distance : a.node < b.node;
    }
    friend bool operator>(const Scored& a, const Scored& b) { return b < a; }
  };

  float Dist(const float* q, Node n) const;
  float DistNodes(Node a, Node b) const { return Dist(collection_->RowData(a), b); }
  std::span<const Node> Neighbours(Node n, int level) const;
  void SetNeighbours(Node n, int level, std::span<const Node> list);
  uint32_t MaxDegree(int level) const { return level == 0 ? 2 * options_.m : options_.m; }
  // Level-0 entries per node: the count, then MaxDegree(0) slots.
  size_t Level0Stride() const { return size_t{MaxDegree(0)} + 1; }
  Node Greedy(const float* q, Node from, int top, int bottom) const;
  // Best-first search of width ef on one level; nearest first.
  std::vector<Scored> SearchLevel(const float* q, std::span<const Scored> entry, uint32_t ef,
                                  int level, const Filter* filter, size_t* admitted) const;
  std::vector<Node> SelectNeighbours(std::vector<Scored> candidates, uint32_t m) const;
  void Insert(Node n);

  const Collection* const collection_;
  const HnswOptions options_;
  const uint32_t dim_;
  const Metric metric_;
  std::mt19937_64 rng_;

  mutable std::shared_mutex mu_;
  // Per node: count, then 2m slots; room for more nodes than there are.
  // On huge pages: a large graph's lists would otherwise cost a TLB miss
  // for nearly every node a search expands.
  HugeArray<Node> level0_;
  std::vector<uint8_t> top_level_;              // per node
  std::vector<std::vector<Node>> upper_;        // per node: levels 1..top, (m + 1) each
  Node entry_ = 0;
  int max_level_ = -1;
};

}  // namespace hanshiro::vector

#endif  // HANSHIRO_VECTOR_HNSW_H_
