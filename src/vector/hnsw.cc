#include "vector/hnsw.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <queue>

#include <fmt/format.h>

namespace hanshiro::vector {
namespace {

constexpr int kMaxLevel = 16;
constexpr size_t kMaxDegreeCap = 512;  // 2m on level 0; m is capped at 256

// Marks visited nodes for one search without clearing between searches.
struct Visited {
  std::vector<uint32_t> marks;
  uint32_t epoch = 0;

  void Begin(size_t nodes) {
    if (marks.size() < nodes) marks.resize(nodes, 0);
    if (++epoch == 0) {  // wrapped: clear once
      std::fill(marks.begin(), marks.end(), 0);
      epoch = 1;
    }
  }
  // True the first time a node is seen in this search.
  bool Visit(uint32_t n) {
    if (marks[n] == epoch) return false;
    marks[n] = epoch;
    return true;
  }
};

Visited& ThreadVisited() {
  thread_local Visited visited;
  return visited;
}

}  // namespace

Hnsw::Hnsw(const Collection* collection, const HnswOptions& options)
    : collection_(collection),
      options_{std::clamp<uint32_t>(options.m, 2, 256), std::max<uint32_t>(options.ef_construction, 1),
               std::max<uint32_t>(options.ef_search, 1), options.seed},
      dim_(collection->geometry().dim),
      metric_(collection->geometry().metric),
      rng_(options.seed) {}

uint64_t Hnsw::size() const {
  std::shared_lock lock(mu_);
  return top_level_.size();
}

float Hnsw::Dist(const float* q, Node n) const {
  return Distance(metric_, q, row_data_[n], dim_);
}

std::span<const Hnsw::Node> Hnsw::Neighbours(Node n, int level) const {
  if (level == 0) {
    const Node* p = level0_.data() + size_t{n} * (2 * options_.m + 1);
    return {p + 1, p[0]};
  }
  const Node* p = upper_[n].data() + static_cast<size_t>(level - 1) * (options_.m + 1);
  return {p + 1, p[0]};
}

void Hnsw::SetNeighbours(Node n, int level, std::span<const Node> list) {
  Node* p = level == 0 ? level0_.data() + size_t{n} * (2 * options_.m + 1)
                       : upper_[n].data() + static_cast<size_t>(level - 1) * (options_.m + 1);
  p[0] = static_cast<Node>(list.size());
  std::copy(list.begin(), list.end(), p + 1);
}

Hnsw::Node Hnsw::Greedy(const float* q, Node from, int top, int bottom) const {
  Node cur = from;
  float best = Dist(q, cur);
  for (int level = top; level >= bottom; --level) {
    for (bool moved = true; moved;) {
      moved = false;
      for (Node e : Neighbours(cur, level)) {
        const float d = Dist(q, e);
        if (d < best) {
          best = d;
          cur = e;
          moved = true;
        }
      }
    }
  }
  return cur;
}

std::vector<Hnsw::Scored> Hnsw::SearchLevel(const float* q, std::span<const Scored> entry,
                                            uint32_t ef, int level, const Filter* filter,
                                            size_t* admitted_count) const {
  // filter == nullptr: every node counts (building); otherwise only live rows
  // that match.
  auto admit = [&](Node n) {
    if (filter == nullptr) return true;
    if (!collection_->IsLive(n)) return false;
    return filter->empty() || filter->Matches(collection_->MetaAt(n));
  };
  Visited& visited = ThreadVisited();
  visited.Begin(top_level_.size());
  std::priority_queue<Scored, std::vector<Scored>, std::greater<Scored>> frontier;
  std::priority_queue<Scored> best;  // worst on top
  float bound = INFINITY;
  for (const Scored& s : entry) {
    if (!visited.Visit(s.node)) continue;
    frontier.push(s);
    if (admit(s.node)) {
      best.push(s);
      if (best.size() > ef) best.pop();
      bound = best.top().distance;
    }
  }
  while (!frontier.empty()) {
    const Scored cur = frontier.top();
    if (cur.distance > bound && best.size() >= ef) break;
    frontier.pop();
    // Distances to the unvisited neighbours, computed together.
    Node fresh[kMaxDegreeCap];
    const float* rows[kMaxDegreeCap];
    float dist[kMaxDegreeCap];
    size_t count = 0;
    for (Node e : Neighbours(cur.node, level)) {
      if (!visited.Visit(e)) continue;
      fresh[count] = e;
      rows[count] = row_data_[e];
      __builtin_prefetch(rows[count]);
      ++count;
    }
    DistanceGather(metric_, q, rows, count, dim_, dist);
    for (size_t j = 0; j < count; ++j) {
      const Node e = fresh[j];
      const float d = dist[j];
      if (best.size() < ef || d < bound) {
        frontier.push({d, e});
        if (admit(e)) {
          best.push({d, e});
          if (best.size() > ef) best.pop();
          bound = best.top().distance;
        }
      }
    }
  }
  std::vector<Scored> out(best.size());
  for (size_t i = out.size(); i-- > 0;) {
    out[i] = best.top();
    best.pop();
  }
  if (admitted_count != nullptr) *admitted_count = out.size();
  return out;
}

std::vector<Hnsw::Node> Hnsw::SelectNeighbours(std::vector<Scored> candidates, uint32_t m) const {
  std::sort(candidates.begin(), candidates.end());
  std::vector<Node> kept;
  for (const Scored& c : candidates) {
    if (kept.size() >= m) break;
    bool diverse = true;
    for (Node k : kept) {
      if (DistNodes(c.node, k) < c.distance) {
        diverse = false;
        break;
      }
    }
    if (diverse) kept.push_back(c.node);
  }
  return kept;
}

void Hnsw::Insert(Node n) {
  const double ml = 1.0 / std::log(static_cast<double>(std::max<uint32_t>(options_.m, 2)));
  std::uniform_real_distribution<double> uniform(std::nextafter(0.0, 1.0), 1.0);
  const int level = std::min(kMaxLevel, static_cast<int>(-std::log(uniform(rng_)) * ml));
  top_level_[n] = static_cast<uint8_t>(level);
  upper_[n].assign(size_t(level) * (options_.m + 1), 0);
  if (max_level_ < 0) {
    entry_ = n;
    max_level_ = level;
    return;
  }
  const float* q = collection_->RowData(n);
  Node cur = entry_;
  if (level < max_level_) cur = Greedy(q, cur, max_level_, level + 1);
  std::vector<Scored> entry = {{Dist(q, cur), cur}};
  for (int lc = std::min(level, max_level_); lc >= 0; --lc) {
    std::vector<Scored> found = SearchLevel(q, entry, options_.ef_construction, lc, nullptr, nullptr);
    const std::vector<Node> chosen = SelectNeighbours(found, options_.m);
    SetNeighbours(n, lc, chosen);
    for (Node e : chosen) {
      std::vector<Node> list(Neighbours(e, lc).begin(), Neighbours(e, lc).end());
      list.push_back(n);
      if (list.size() > MaxDegree(lc)) {
        std::vector<Scored> scored;
        for (Node x : list) scored.push_back({DistNodes(e, x), x});
        list = SelectNeighbours(std::move(scored), MaxDegree(lc));
      }
      SetNeighbours(e, lc, list);
    }
    entry = std::move(found);
  }
  if (level > max_level_) {
    entry_ = n;
    max_level_ = level;
  }
}

void Hnsw::Update() {
  std::unique_lock lock(mu_);
  const uint64_t from = top_level_.size();
  const uint64_t to = collection_->rows();
  if (to <= from) return;
  row_data_.resize(to);
  for (uint64_t n = from; n < to; ++n) row_data_[n] = collection_->RowData(n);
  level0_.resize(to * (2 * options_.m + 1), 0);
  top_level_.resize(to, 0);
  upper_.resize(to);
  for (uint64_t n = from; n < to; ++n) Insert(static_cast<Node>(n));
}

Result<std::vector<Hit>> Hnsw::Search(std::span<const float> query, size_t k, uint32_t ef,
                                      const Filter& filter) const {
  if (query.size() != dim_) {
    return Status::InvalidArgument(fmt::format(
        "query has {} elements; the collection's dimension is {}", query.size(), dim_));
  }
  std::vector<Hit> hits;
  if (k == 0) return hits;
  const std::vector<float> q = collection_->PrepareQuery(query);
  std::shared_lock lock(mu_);
  const uint64_t indexed = top_level_.size();
  if (max_level_ >= 0) {
    const Node start = Greedy(q.data(), entry_, max_level_, 1);
    const Scored entry[] = {{Dist(q.data(), start), start}};
    const uint32_t width = std::max<uint32_t>(ef == 0 ? options_.ef_search : ef, k);
    size_t admitted = 0;
    for (const Scored& s : SearchLevel(q.data(), entry, width, 0, &filter, &admitted)) {
      const RowMeta m = collection_->MetaAt(s.node);
      hits.push_back({m.id, s.distance, m.seq, s.node});
    }
    if (hits.size() < k && !filter.empty() && indexed > 0) {
      // Too few matching rows reachable: the exact scan answers instead.
      lock.unlock();
      return collection_->Search(query, k, filter);
    }
  }
  // Rows added to the collection after the last Update: scanned exactly.
  const uint64_t rows = collection_->rows();
  for (uint64_t r = indexed; r < rows; ++r) {
    if (!collection_->IsLive(r)) continue;
    const RowMeta m = collection_->MetaAt(r);
    if (!filter.empty() && !filter.Matches(m)) continue;
    hits.push_back({m.id, Distance(metric_, q.data(), collection_->RowData(r), dim_), m.seq, r});
  }
  std::sort(hits.begin(), hits.end());
  if (hits.size() > k) hits.resize(k);
  return hits;
}

}  // namespace hanshiro::vector
