#include "vector/collection.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "hanshiro/env.h"

namespace hanshiro::vector {
namespace {

constexpr size_t kBlockRows = 256;
// Below this many rows per thread, more threads cost more than they save.
constexpr uint64_t kMinRowsPerThread = 32768;
// From this many rows on, search scans the int8 copy (a quarter of the
// memory traffic) and re-ranks the candidates exactly.
constexpr uint64_t kCompactMinRows = 4096;

std::string ChunkPath(const std::string& dir, uint32_t number) {
  return fmt::format("{}/chunk-{:06d}.vec", dir, number);
}

// How many threads a pass over `rows` rows uses, given up to `threads`.
uint64_t PartsFor(uint64_t rows, int threads) {
  return std::clamp<uint64_t>(std::min<uint64_t>(threads, rows / kMinRowsPerThread), 1,
                              std::max(threads, 1));
}

// Runs part(p) for p in [0, parts): on this thread alone, or one thread each.
template <class Part>
void RunParts(uint64_t parts, const Part& part) {
  if (parts == 1) {
    part(0);
    return;
  }
  std::vector<std::thread> workers;
  for (uint64_t p = 0; p < parts; ++p) workers.emplace_back(part, p);
  for (auto& w : workers) w.join();
}

// Keeps the k smallest hits in a max-heap ordered by operator<.
void Offer(std::vector<Hit>* heap, size_t k, const Hit& hit) {
  if (heap->size() < k) {
    heap->push_back(hit);
    std::push_heap(heap->begin(), heap->end());
  } else if (hit < heap->front()) {
    std::pop_heap(heap->begin(), heap->end());
    heap->back() = hit;
    std::push_heap(heap->begin(), heap->end());
  }
}

}  // namespace

bool Filter::Matches(const RowMeta& m) const {
  return (!kind || m.kind == *kind) && (!event_type || m.event_type == *event_type) &&
         (!host_hash || m.host_hash == *host_hash) &&
         (!time_from_ns || m.time_ns >= *time_from_ns) && (!time_to_ns || m.time_ns < *time_to_ns);
}

Collection::Collection(std::string dir, const Geometry& geometry)
    : dir_(std::move(dir)),
      geometry_(geometry),
      chunks_(new std::atomic<Chunk*>[kMaxChunks]) {
  for (uint32_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr);
}

Collection::~Collection() {
  if (next_chunk_.valid()) next_chunk_.wait();
}

Result<std::unique_ptr<Chunk>> Collection::CreateChunk(uint64_t index) {
  const auto start = std::chrono::steady_clock::now();
  const auto number = static_cast<uint32_t>(index + 1);
  auto created = Chunk::Create(ChunkPath(dir_, number), geometry_, number);
  create_ns_.fetch_add(static_cast<uint64_t>(std::chrono::nanoseconds(
                           std::chrono::steady_clock::now() - start).count()),
                       std::memory_order_relaxed);
  if (created.ok()) chunks_created_.fetch_add(1, std::memory_order_relaxed);
  return created;
}

Status Collection::EnsureChunk(uint64_t index) {
  if (chunk(index) == nullptr) {
    const auto start = std::chrono::steady_clock::now();
    Result<std::unique_ptr<Chunk>> created = Status::NotFound("not created yet");
    if (next_chunk_.valid() && next_chunk_index_ == index) {
      created = next_chunk_.get();
    }
    if (!created.ok()) created = CreateChunk(index);
    append_wait_ns_.fetch_add(static_cast<uint64_t>(std::chrono::nanoseconds(
                                  std::chrono::steady_clock::now() - start).count()),
                              std::memory_order_relaxed);
    HANSHIRO_RETURN_IF_ERROR(created.status());
    chunks_[index].store(created->get(), std::memory_order_release);
    owned_.push_back(std::move(created).value());
  }
  const uint64_t next = index + 1;
  if (next < kMaxChunks && chunk(next) == nullptr && !next_chunk_.valid()) {
    next_chunk_index_ = next;
    next_chunk_ = std::async(std::launch::async, [this, next] { return CreateChunk(next); });
  }
  return Status::OK();
}

template <class Fn>
void Collection::ForEachChunkRange(uint64_t from, uint64_t to, const Fn& fn) const {
  const uint32_t capacity = geometry_.capacity;
  while (from < to) {
    const uint64_t index = from / capacity;
    const uint64_t end = std::min(to, (index + 1) * capacity);
    fn(chunk(index), static_cast<uint32_t>(from - index * capacity),
       static_cast<uint32_t>(end - index * capacity));
    from = end;
  }
}

void Collection::ClearRows(uint64_t from, uint64_t to) {
  ForEachChunkRange(from, to, [](Chunk* c, uint32_t a, uint32_t b) { c->ClearRows(a, b); });
}

GrowthStats Collection::growth() const {
  GrowthStats g;
  g.chunks_created = chunks_created_.load(std::memory_order_relaxed);
  g.create_ns = create_ns_.load(std::memory_order_relaxed);
  g.append_wait_ns = append_wait_ns_.load(std::memory_order_relaxed);
  return g;
}

Result<std::unique_ptr<Collection>> Collection::Open(const std::string& dir, uint32_t dim,
                                                     Metric metric, uint64_t acknowledged,
                                                     uint32_t chunk_capacity) {
  if (dim == 0 || dim > kMaxDim) {
    return Status::InvalidArgument(fmt::format("vector dimension {} is not in 1..{}", dim, kMaxDim));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError(fmt::format("create {}: {}", dir, ec.message()));
  Geometry geometry = Geometry::For(dim, metric);
  if (chunk_capacity != 0) geometry.capacity = std::min(chunk_capacity, kMaxCapacity);
  std::unique_ptr<Collection> c(new Collection(dir, geometry));
  HANSHIRO_RETURN_IF_ERROR(c->Load(acknowledged));
  return c;
}

Status Collection::Load(uint64_t acknowledged) {
  // Chunks are numbered from 1 without gaps; the first chunk fixes the geometry.
  Geometry expected;
  uint64_t kept = 0;
  bool ended = false;  // a row that is not present ends the store [VEC-5]
  for (uint32_t number = 1; number <= kMaxChunks; ++number) {
    const std::string path = ChunkPath(dir_, number);
    if (!std::filesystem::exists(path)) break;
    if (ended) {  // a chunk after the end: its rows are dropped
      std::filesystem::remove(path);
      continue;
    }
    HANSHIRO_ASSIGN_OR_RETURN(auto chunk, Chunk::Open(path, expected, number));
    if (expected.dim == 0) {
      expected = chunk->geometry();
      if (expected.dim != geometry_.dim || expected.metric != geometry_.metric) {
        return Status::InvalidArgument(fmt::format(
            "{}: holds {}-dimensional {} vectors, not {}-dimensional {}", dir_, expected.dim,
            MetricName(expected.metric), geometry_.dim, MetricName(geometry_.metric)));
      }
      geometry_ = expected;  // capacity comes from the files
    }
    uint32_t r = 0;
    for (; r < expected.capacity; ++r) {
      if (!chunk->RowValid(r)) break;
      const RowMeta m = chunk->meta(r);
      if (m.seq < next_seq_ && kept > 0) {
        report_.damage = Status::Corruption(fmt::format(
            "{}: row {} has seq {} after seq {} [VEC-6]", path, r, m.seq, next_seq_ - 1));
        break;
      }
      if (m.seq >= acknowledged) break;  // not acknowledged by the log [VEC-6]
      if (chunk->state(r) == kStateRemoved && chunk->removed_seq(r) >= acknowledged) {
        chunk->SetState(r, kStateLive);  // its removal is not in the log [VEC-8]
        ++report_.revived;
      }
      if (chunk->state(r) == kStateLive && !live_rows_.Insert(m.id, kept)) {
        // An older row of the id is live too: its tombstone did not reach
        // the disk. This newer version replaced it [VEC-7].
        const uint64_t older = *live_rows_.Find(m.id);
        Chunk* holder = older / expected.capacity == number - 1
                            ? chunk.get()  // this one, not published yet
                            : this->chunk(older / expected.capacity);
        holder->SetState(static_cast<uint32_t>(older % expected.capacity), kStateRemoved, m.seq);
        live_rows_.Erase(m.id);
        (void)live_rows_.Insert(m.id, kept);
        ++report_.replaced;
      }
      next_seq_ = m.seq + 1;
      ++kept;
    }
    if (r < expected.capacity) {
      ended = true;
      // Count what is dropped, then clear it so the rows can be written again.
      for (uint32_t q = r; q < expected.capacity; ++q) {
        if (chunk->state(q) != kStateEmpty) ++report_.dropped;
      }
      chunk->ClearFrom(r);
    }
    chunks_[number - 1].store(chunk.get(), std::memory_order_release);
    owned_.push_back(std::move(chunk));
  }
  rows_.store(kept, std::memory_order_release);
  report_.rows = kept;
  report_.live = live_rows_.size();
  report_.next_seq = next_seq_;
  return Status::OK();
}

uint64_t Collection::live() const {
  std::shared_lock lock(ids_mu_);
  return live_rows_.size() - pending_;
}

std::optional<uint64_t> Collection::FindRow(const EventId& id) const {
  const std::optional<uint64_t> row = live_rows_.Find(id);
  if (row && *row >= rows_.load(std::memory_order_acquire)) return std::nullopt;  // not published
  return row;
}

Status Collection::Add(const RowMeta& meta, std::span<const float> vec) {
  if (vec.size() != geometry_.dim) {
    return Status::InvalidArgument(
        fmt::format("vector has {} elements; the collection's dimension is {}", vec.size(),
                    geometry_.dim));
  }
  return AddBatch({&meta, 1}, vec);
}

Status Collection::AddBatch(std::span<const RowMeta> metas, std::span<const float> vectors) {
  const uint32_t dim = geometry_.dim;
  if (vectors.size() != metas.size() * dim) {
    return Status::InvalidArgument(fmt::format(
        "{} floats for {} vectors of dimension {}", vectors.size(), metas.size(), dim));
  }
  std::lock_guard lock(write_mu_);
  uint64_t seq = next_seq_;
  for (size_t i = 0; i < metas.size(); ++i) {
    if (metas[i].seq < seq) {
      return Status::InvalidArgument(fmt::format(
          "vector {}: seq {} is not above the previous one ({})", i, metas[i].seq, seq - 1));
    }
    seq = metas[i].seq + 1;
  }
  const uint64_t first = rows_.load(std::memory_order_relaxed);
  if ((first + metas.size() + geometry_.capacity - 1) / geometry_.capacity > kMaxChunks) {
    return Status::InvalidArgument("vector store is full");
  }
  // The ids go in first, one probe each: a present id (live, or earlier in
  // this batch) is found by the same probe that would insert it. Until the
  // rows are published they point at rows readers do not see (FindRow).
  {
    std::unique_lock ids(ids_mu_);
    live_rows_.Reserve(live_rows_.size() + metas.size());
    constexpr size_t kAhead = 16;
    for (size_t i = 0; i < std::min(kAhead, metas.size()); ++i) live_rows_.Prefetch(metas[i].id);
    for (size_t i = 0; i < metas.size(); ++i) {
      if (i + kAhead < metas.size()) live_rows_.Prefetch(metas[i + kAhead].id);
      if (!live_rows_.Insert(metas[i].id, first + i)) {
        const bool in_batch = *live_rows_.Find(metas[i].id) >= first;
        for (size_t j = 0; j < i; ++j) live_rows_.Erase(metas[j].id);
        return Status::InvalidArgument(
            in_batch ? "vector id " + metas[i].id.ToString() + " appears twice in the batch"
                     : fmt::format("vector {}: id {} is already present", i,
                                   metas[i].id.ToString()));
      }
    }
    pending_ = metas.size();
  }
  const bool normalize = geometry_.metric == Metric::kCosine;
  for (size_t i = 0; i < metas.size(); ++i) {
    const uint64_t row = first + i;
    const uint64_t index = row / geometry_.capacity;
    const uint32_t local = static_cast<uint32_t>(row % geometry_.capacity);
    // A failure drops the rows this batch wrote before it: they are not
    // published, but their state is live in the file. Finiteness is checked
    // as each row is written (WriteRow).
    Status s = EnsureChunk(index);
    // The caller's vectors are read once, two rows ahead of their use.
    if (i + 2 < metas.size()) {
      const char* next = reinterpret_cast<const char*>(vectors.data() + (i + 2) * dim);
      for (size_t b = 0; b < size_t{dim} * 4; b += 64) __builtin_prefetch(next + b);
    }
    if (s.ok()) {
      const size_t bad = chunk(index)->WriteRow(local, metas[i], vectors.data() + i * dim, normalize);
      if (bad < dim) {
        s = Status::InvalidArgument(fmt::format("vector {}: element {} is not finite", i, bad));
      }
    }
    if (!s.ok()) {
      ClearRows(first, row);
      std::unique_lock ids(ids_mu_);
      for (const RowMeta& m : metas) live_rows_.Erase(m.id);
      pending_ = 0;
      return s;
    }
  }
  next_seq_ = seq;
  std::unique_lock ids(ids_mu_);
  pending_ = 0;
  rows_.store(first + metas.size(), std::memory_order_release);  // publish
  return Status::OK();
}

Status Collection::Remove(const EventId& id, uint64_t removed_seq) {
  std::lock_guard lock(write_mu_);
  std::unique_lock ids(ids_mu_);
  const std::optional<uint64_t> row = FindRow(id);
  if (!row) return Status::NotFound("no vector for " + id.ToString());
  chunk(*row / geometry_.capacity)
      ->SetState(static_cast<uint32_t>(*row % geometry_.capacity), kStateRemoved, removed_seq);
  live_rows_.Erase(id);
  return Status::OK();
}

bool Collection::Contains(const EventId& id) const {
  std::shared_lock ids(ids_mu_);
  return FindRow(id).has_value();
}

std::optional<uint64_t> Collection::LiveSeq(const EventId& id) const {
  std::optional<uint64_t> row;
  {
    std::shared_lock ids(ids_mu_);
    row = FindRow(id);
  }
  if (!row) return std::nullopt;
  return MetaAt(*row).seq;
}

Result<std::vector<float>> Collection::Get(const EventId& id) const {
  uint64_t row;
  {
    std::shared_lock ids(ids_mu_);
    const std::optional<uint64_t> found = FindRow(id);
    if (!found) return Status::NotFound("no vector for " + id.ToString());
    row = *found;
  }
  const float* p = chunk(row / geometry_.capacity)->row(static_cast<uint32_t>(row % geometry_.capacity));
  return std::vector<float>(p, p + geometry_.dim);
}

void Collection::ScanRange(const float* query, uint64_t begin, uint64_t end, size_t k,
                           const Filter& filter, std::vector<Hit>* heap) const {
  float dist[kBlockRows];
  const bool filtered = !filter.empty();
  for (uint64_t row = begin; row < end;) {
    const Chunk* c = chunk(row / geometry_.capacity);
    const uint32_t local = static_cast<uint32_t>(row % geometry_.capacity);
    const uint32_t n = static_cast<uint32_t>(
        std::min<uint64_t>({kBlockRows, end - row, geometry_.capacity - local}));
    DistanceMany(geometry_.metric, query, c->row(local), geometry_.stride, n, geometry_.dim, dist);
    for (uint32_t i = 0; i < n; ++i) {
      // Only rows that would enter the heap pay for the metadata checks.
      if (heap->size() == k && !(Hit{{}, dist[i], 0, row + i} < heap->front())) continue;
      if (c->state(local + i) != kStateLive) continue;
      const RowMeta m = c->meta(local + i);
      if (filtered && !filter.Matches(m)) continue;
      Offer(heap, k, Hit{m.id, dist[i], m.seq, row + i});
    }
    row += n;
  }
}

void Collection::ScanCompact(const float* query, uint64_t begin, uint64_t end, size_t k,
                             const Filter& filter, std::vector<Hit>* bounds,
                             std::vector<Candidate>* candidates) const {
  // With int8 rows, each distance has a lower and an upper bound
  // (Int8Bounds); a row can be in the top k only if its lower bound is at
  // most the k-th smallest upper bound, so those rows are kept for exact
  // re-ranking.
  const uint32_t dim = geometry_.dim;
  const float qq = Dot(query, query, dim);
  const float qn = NormUpperBound(query, dim);
  float dots[kBlockRows], lower[kBlockRows], upper[kBlockRows];
  for (uint64_t row = begin; row < end;) {
    const Chunk* c = chunk(row / geometry_.capacity);
    const uint32_t local = static_cast<uint32_t>(row % geometry_.capacity);
    const uint32_t n = static_cast<uint32_t>(
        std::min<uint64_t>({kBlockRows, end - row, geometry_.capacity - local}));
    DotManyInt8(query, c->compact_row(local), geometry_.stride, n, dim, dots);
    Int8Bounds(geometry_.metric, qn, qq, dim, dots, c->scales(local), c->errors(local),
               c->norms(local), n, lower, upper);
    for (uint32_t i = 0; i < n; ++i) {
      if (bounds->size() == k && lower[i] > bounds->front().distance) continue;
      if (c->state(local + i) != kStateLive) continue;
      if (!filter.empty() && !filter.Matches(c->meta(local + i))) continue;
      Offer(bounds, k, Hit{{}, upper[i], 0, row + i});
      candidates->push_back({lower[i], row + i});
    }
    row += n;
  }
}

void Collection::BuildCompact(uint64_t n, int threads) const {
  if (compact_rows_.load(std::memory_order_acquire) >= n) return;
  std::lock_guard lock(compact_mu_);
  const uint64_t from = compact_rows_.load(std::memory_order_relaxed);
  if (from >= n) return;  // another search built it meanwhile
  const uint64_t parts = PartsFor(n - from, threads);
  RunParts(parts, [&](uint64_t p) {
    ForEachChunkRange(from + (n - from) * p / parts, from + (n - from) * (p + 1) / parts,
                      [](Chunk* c, uint32_t a, uint32_t b) { c->BuildCompact(a, b); });
  });
  compact_rows_.store(n, std::memory_order_release);
}

Result<std::vector<Hit>> Collection::Search(std::span<const float> query, size_t k,
                                            const Filter& filter, int threads) const {
  if (query.size() != geometry_.dim) {
    return Status::InvalidArgument(fmt::format(
        "query has {} elements; the collection's dimension is {}", query.size(), geometry_.dim));
  }
  if (const size_t bad = FirstNonFinite(query.data(), query.size()); bad < query.size()) {
    return Status::InvalidArgument(fmt::format("query element {} is not finite", bad));
  }
  std::vector<Hit> result;
  if (k == 0) return result;
  const std::vector<float> q = PrepareQuery(query);
  const uint64_t n = rows();
  const uint64_t parts = PartsFor(n, threads);
  const bool compact = n >= kCompactMinRows;
  if (compact) BuildCompact(n, threads);
  std::vector<std::vector<Hit>> heaps(parts);
  std::vector<std::vector<Candidate>> candidates(parts);
  auto scan = [&](uint64_t p) {
    const uint64_t begin = n * p / parts, end = n * (p + 1) / parts;
    if (compact) {
      ScanCompact(q.data(), begin, end, k, filter, &heaps[p], &candidates[p]);
    } else {
      ScanRange(q.data(), begin, end, k, filter, &heaps[p]);
    }
  };
  RunParts(parts, scan);
  for (const auto& h : heaps) {
    for (const Hit& hit : h) Offer(&result, k, hit);
  }
  if (compact) {
    // result holds the k smallest upper bounds: its largest is the bar that
    // every true top-k row's lower bound clears. Re-rank those exactly.
    const float bar = result.size() < k ? INFINITY : result.front().distance;
    result.clear();
    for (const auto& list : candidates) {
      for (const Candidate& c : list) {
        if (c.lower > bar) continue;
        const Chunk* ch = chunk(c.row / geometry_.capacity);
        const uint32_t local = static_cast<uint32_t>(c.row % geometry_.capacity);
        const RowMeta m = ch->meta(local);
        Offer(&result, k,
              Hit{m.id, Distance(geometry_.metric, q.data(), ch->row(local), geometry_.dim), m.seq,
                  c.row});
      }
    }
  }
  std::sort(result.begin(), result.end());
  return result;
}

std::vector<float> Collection::PrepareQuery(std::span<const float> query) const {
  std::vector<float> q(query.begin(), query.end());
  if (geometry_.metric == Metric::kCosine) Normalize(q.data(), q.size());
  return q;
}

Status Collection::Sync() {
  // Every row added before this call is in these chunks; msync runs without
  // the write lock, so appends go on meanwhile (chunks are never freed while
  // the collection is open).
  std::vector<Chunk*> chunks;
  {
    std::lock_guard lock(write_mu_);
    for (auto& c : owned_) chunks.push_back(c.get());
  }
  for (Chunk* c : chunks) HANSHIRO_RETURN_IF_ERROR(c->Sync());
  // And the directory, so the chunk files created since the last sync keep
  // their names after a power cut (msync covers only their contents).
  return Env::Default()->SyncDir(dir_);
}

}  // namespace hanshiro::vector
