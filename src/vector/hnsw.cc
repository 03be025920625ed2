#include "vector/hnsw.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <queue>

#include <fmt/format.h>

#include "base/coding.h"
#include "base/crc32c.h"

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
  return Distance(metric_, q, collection_->RowData(n), dim_);
}

std::span<const Hnsw::Node> Hnsw::Neighbours(Node n, int level) const {
  if (level == 0) {
    const Node* p = level0_.data() + size_t{n} * Level0Stride();
    return {p + 1, p[0]};
  }
  const Node* p = upper_[n].data() + static_cast<size_t>(level - 1) * (options_.m + 1);
  return {p + 1, p[0]};
}

void Hnsw::SetNeighbours(Node n, int level, std::span<const Node> list) {
  Node* p = level == 0 ? level0_.data() + size_t{n} * Level0Stride()
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
    // The next node to expand (likely): its level-0 neighbour list loads
    // while these distances are computed.
    if (level == 0 && !frontier.empty()) {
      __builtin_prefetch(level0_.data() + size_t{frontier.top().node} * Level0Stride());
    }
    // Distances to the unvisited neighbours, computed together. Each row is
    // found from its chunk (a table of row pointers would cost a cache miss
    // per neighbour on a large graph) and its first line requested early.
    Node fresh[kMaxDegreeCap];
    const float* rows[kMaxDegreeCap];
    float dist[kMaxDegreeCap];
    size_t count = 0;
    for (Node e : Neighbours(cur.node, level)) {
      if (!visited.Visit(e)) continue;
      fresh[count] = e;
      rows[count] = collection_->RowData(e);
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
  const size_t row0 = Level0Stride();
  if (level0_.size() < to * row0) {  // grows by doubling, zero-filled
    HugeArray<Node> bigger(std::max<size_t>(to * row0, level0_.size() * 2));
    std::copy(level0_.data(), level0_.data() + from * row0, bigger.data());
    level0_ = std::move(bigger);
  }
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

namespace {

constexpr std::string_view kIndexMagic = "HSHNSWIX";
constexpr uint32_t kIndexVersion = 1;
constexpr size_t kIndexHeaderSize = 48;

}  // namespace

Status Hnsw::Save(Env* env, const std::string& path) const {
  std::shared_lock lock(mu_);
  const uint64_t nodes = top_level_.size();
  std::string out(kIndexMagic);
  PutFixed32(&out, kIndexVersion);
  PutFixed32(&out, options_.m);
  PutFixed32(&out, options_.ef_construction);
  PutFixed32(&out, dim_);
  PutFixed32(&out, static_cast<uint32_t>(metric_));
  PutFixed64(&out, nodes);
  PutFixed32(&out, entry_);
  PutFixed32(&out, static_cast<uint32_t>(max_level_));
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  HANSHIRO_CHECK(out.size() == kIndexHeaderSize);
  const size_t body_start = out.size();
  out.append(reinterpret_cast<const char*>(top_level_.data()), nodes);
  for (size_t i = 0; i < nodes * Level0Stride(); ++i) PutFixed32(&out, level0_[i]);
  for (uint64_t n = 0; n < nodes; ++n) {
    for (Node v : upper_[n]) PutFixed32(&out, v);
  }
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out.data() + body_start, out.size() - body_start)));
  const std::string tmp = path + ".tmp";
  HANSHIRO_RETURN_IF_ERROR(WriteStringToFile(env, out, tmp, true));
  HANSHIRO_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  return env->SyncDir(DirName(path));
}

Result<std::unique_ptr<Hnsw>> Hnsw::Load(Env* env, const std::string& path,
                                         const Collection* collection,
                                         const HnswOptions& options) {
  auto index = std::make_unique<Hnsw>(collection, options);
  HANSHIRO_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(env, path));
  auto bad = [&](const char* rule, std::string_view what) {
    return Status::Corruption(fmt::format("{}: {} {}", path, what, rule));
  };
  if (bytes.size() < kIndexHeaderSize + 4 || std::string_view(bytes).substr(0, 8) != kIndexMagic ||
      DecodeFixed32(bytes.data() + 8) != kIndexVersion) {
    return bad("[HNSW-1]", "not a version 1 HNSW index");
  }
  const char* h = bytes.data();
  if (crc32c::Unmask(DecodeFixed32(h + kIndexHeaderSize - 4)) !=
      crc32c::Value(h, kIndexHeaderSize - 4)) {
    return bad("[HNSW-2]", "header checksum mismatch");
  }
  const size_t body_end = bytes.size() - 4;
  if (crc32c::Unmask(DecodeFixed32(h + body_end)) !=
      crc32c::Value(h + kIndexHeaderSize, body_end - kIndexHeaderSize)) {
    return bad("[HNSW-2]", "body checksum mismatch");
  }
  const HnswOptions& o = index->options_;
  const uint64_t nodes = DecodeFixed64(h + 28);
  if (DecodeFixed32(h + 12) != o.m || DecodeFixed32(h + 16) != o.ef_construction ||
      DecodeFixed32(h + 20) != index->dim_ ||
      DecodeFixed32(h + 24) != static_cast<uint32_t>(index->metric_)) {
    return Status::InvalidArgument(path + ": built with other options or for another collection");
  }
  if (nodes > collection->rows()) {
    return Status::InvalidArgument(fmt::format(
        "{}: indexes {} rows, the collection holds {}", path, nodes, collection->rows()));
  }
  const Node entry = DecodeFixed32(h + 36);
  const int32_t max_level = static_cast<int32_t>(DecodeFixed32(h + 40));
  // Sizes first, from the node count alone, then every byte is checked.
  const size_t row0 = index->Level0Stride();
  ByteReader r(std::string_view(bytes).substr(kIndexHeaderSize, body_end - kIndexHeaderSize));
  std::string_view levels;
  if (nodes > (r.remaining() / (1 + 4 * row0)) || !r.ReadBytes(nodes, &levels)) {
    return bad("[HNSW-3]", "shorter than its node count implies");
  }
  index->top_level_.assign(levels.begin(), levels.end());
  index->upper_.resize(nodes);
  index->level0_ = HugeArray<Node>(nodes * row0);
  for (size_t i = 0; i < nodes * row0; ++i) {
    if (!r.ReadFixed32(&index->level0_[i])) return bad("[HNSW-3]", "level 0 is truncated");
  }
  for (uint64_t n = 0; n < nodes; ++n) {
    const uint8_t top = index->top_level_[n];
    if (top > kMaxLevel || static_cast<int32_t>(top) > max_level) {
      return bad("[HNSW-4]", fmt::format("node {} has level {}", n, top));
    }
    index->upper_[n].resize(size_t{top} * (o.m + 1));
    for (auto& v : index->upper_[n]) {
      if (!r.ReadFixed32(&v)) return bad("[HNSW-3]", "upper levels are truncated");
    }
  }
  if (!r.empty()) return bad("[HNSW-3]", "longer than its node count implies");
  // Every list: count within the level's degree, every neighbour a node.
  for (uint64_t n = 0; n < nodes; ++n) {
    for (int level = 0; level <= index->top_level_[n]; ++level) {
      const Node* p = level == 0 ? index->level0_.data() + n * row0
                                 : index->upper_[n].data() + size_t(level - 1) * (o.m + 1);
      if (p[0] > index->MaxDegree(level)) {
        return bad("[HNSW-4]", fmt::format("node {} has {} neighbours on level {}", n, p[0], level));
      }
      for (uint32_t i = 1; i <= p[0]; ++i) {
        if (p[i] >= nodes || index->top_level_[p[i]] < level) {
          return bad("[HNSW-4]", fmt::format("node {} links to {} on level {}", n, p[i], level));
        }
      }
    }
  }
  if (nodes > 0 && (entry >= nodes || max_level < 0 || index->top_level_[entry] != max_level)) {
    return bad("[HNSW-4]", "entry point is not a node of the top level");
  }
  if (nodes == 0 && max_level != -1) return bad("[HNSW-4]", "empty index with levels");
  index->entry_ = entry;
  index->max_level_ = max_level;
  return index;
}

}  // namespace hanshiro::vector
