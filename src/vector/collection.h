// vector::Collection: the vectors of one dimension and metric, in chunk files
// under one directory (docs/format/vectors.md), with exact top-k search.
//
// Rows are appended in sequence-number order and never move; a removal marks
// the row's tombstone. Search scans rows with the SIMD kernels, applies the
// filter inside the scan (so all k results match it), keeps a bounded heap of
// the k best, and splits large stores across threads. Large stores are
// scanned in an in-memory int8 copy (a quarter of the memory traffic) with error
// bounds, and the rows that could be in the top k are re-ranked with the
// exact kernel: the answer is the same as the full-precision scan's. Appends
// do not write that copy: the first such scan builds it, and each later one
// extends it over the rows added since, so a store searched only through an
// index, or rarely, does not pay for it.
//
// Thread-safety: Add and Remove take an internal writer lock; Search, Get and
// the counters may run concurrently with them and see every row added before
// they started.
#ifndef HANSHIRO_VECTOR_COLLECTION_H_
#define HANSHIRO_VECTOR_COLLECTION_H_

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "vector/chunk.h"
#include "vector/id_map.h"

namespace hanshiro::vector {

// Which rows a search may return. Unset fields match everything; the time
// range is [time_from_ns, time_to_ns).
struct Filter {
  std::optional<uint8_t> kind;
  std::optional<uint16_t> event_type;
  std::optional<uint64_t> host_hash;
  std::optional<int64_t> time_from_ns;
  std::optional<int64_t> time_to_ns;

  bool empty() const {
    return !kind && !event_type && !host_hash && !time_from_ns && !time_to_ns;
  }
  bool Matches(const RowMeta& m) const;
};

struct Hit {
  EventId id;
  float distance = 0;  // smaller is closer (distance.h)
  uint64_t seq = 0;
  uint64_t row = 0;
  friend bool operator<(const Hit& a, const Hit& b) {
    return a.distance != b.distance ? a.distance < b.distance : a.row < b.row;
  }
};

struct OpenReport {
  uint64_t rows = 0;          // rows kept
  uint64_t live = 0;          // of which not removed
  uint64_t dropped = 0;       // rows dropped: invalid, or not acknowledged by the log
  uint64_t revived = 0;       // tombstones undone: their removal not acknowledged [VEC-8]
  uint64_t replaced = 0;      // older live rows of an id tombstoned [VEC-7]
  uint64_t next_seq = 0;      // one past the highest sequence number kept
  Status damage;              // why rows were dropped, when it was damage
};

// How the store grew: chunk files created (each pre-faulted) and the time
// appends spent waiting for one, which is when creation is slower than
// filling.
struct GrowthStats {
  uint64_t chunks_created = 0;
  uint64_t create_ns = 0;       // summed over the creations
  uint64_t append_wait_ns = 0;  // appends waiting for a chunk
};

class Collection {
 public:
  // Opens the collection in `dir` (created when missing), keeping the rows
  // whose sequence number is below `acknowledged` (the log's size) and the
  // valid prefix of rows ([VEC-5], [VEC-6]), and undoing tombstones whose
  // removing record is not below it ([VEC-8]). dim and metric must match an
  // existing collection.
  // chunk_capacity (rows per chunk file) is for tests; 0 picks ~64 MiB files.
  static Result<std::unique_ptr<Collection>> Open(const std::string& dir, uint32_t dim,
                                                  Metric metric, uint64_t acknowledged,
                                                  uint32_t chunk_capacity = 0);
  ~Collection();

  const Geometry& geometry() const { return geometry_; }
  const OpenReport& open_report() const { return report_; }

  // Appends a vector. InvalidArgument for a wrong dimension, a non-finite
  // element, a sequence number not above the last one, or an id already live.
  Status Add(const RowMeta& meta, std::span<const float> vec);
  // Appends metas.size() vectors (vectors holds them one after another), all
  // or none: an InvalidArgument names a bad entry (the first of its kind).
  // Readers see the whole batch at once.
  Status AddBatch(std::span<const RowMeta> metas, std::span<const float> vectors);
  // Tombstones the live row of `id`, naming the log record that removed it
  // (a newer version of the value; [VEC-8]); NotFound when there is none.
  Status Remove(const EventId& id, uint64_t removed_seq);
  // The stored vector (unit length for cosine collections).
  Result<std::vector<float>> Get(const EventId& id) const;
  // Whether `id` has a live row.
  bool Contains(const EventId& id) const;
  // The sequence number of the live row of `id`, if any.
  std::optional<uint64_t> LiveSeq(const EventId& id) const;

  uint64_t rows() const { return rows_.load(std::memory_order_acquire); }
  GrowthStats growth() const;
  uint64_t live() const;

  // The k nearest live rows that match `filter`, nearest first (ties by row).
  // threads > 1 splits the scan. InvalidArgument for a wrong dimension or a
  // non-finite element.
  Result<std::vector<Hit>> Search(std::span<const float> query, size_t k,
                                  const Filter& filter = {}, int threads = 1) const;

  // msync of every chunk, then fsync of the directory: every row added before
  // the call is durable after, in a file that keeps its name. Appends may run
  // meanwhile.
  Status Sync();

  // Row access for indexes built over this collection (hnsw.h).
  // REQUIRES: row < rows()
  const float* RowData(uint64_t row) const {
    return chunk(row / geometry_.capacity)->row(static_cast<uint32_t>(row % geometry_.capacity));
  }
  bool IsLive(uint64_t row) const {
    return chunk(row / geometry_.capacity)->state(static_cast<uint32_t>(row % geometry_.capacity)) ==
           kStateLive;
  }
  RowMeta MetaAt(uint64_t row) const {
    return chunk(row / geometry_.capacity)->meta(static_cast<uint32_t>(row % geometry_.capacity));
  }
  // The query as search uses it (scaled to unit length for cosine).
  std::vector<float> PrepareQuery(std::span<const float> query) const;

 private:
  Collection(std::string dir, const Geometry& geometry);
  Status Load(uint64_t acknowledged);
  // Makes chunk `index` exist (waiting for the background creation if it is
  // under way) and starts creating the next one, so it has the whole time
  // this one takes to fill.
  Status EnsureChunk(uint64_t index);
  // Chunk::Create, counted in the growth stats. Runs on any thread.
  Result<std::unique_ptr<Chunk>> CreateChunk(uint64_t index);
  // fn(chunk, local_from, local_to) for each chunk's part of rows [from, to).
  // REQUIRES: those chunks exist.
  template <class Fn>
  void ForEachChunkRange(uint64_t from, uint64_t to, const Fn& fn) const;
  // Zeroes the rows [from, to) of chunks that exist (rows not published).
  void ClearRows(uint64_t from, uint64_t to);
  // The published row of `id`. REQUIRES: ids_mu_ held.
  std::optional<uint64_t> FindRow(const EventId& id) const;
  Chunk* chunk(uint64_t index) const { return chunks_[index].load(std::memory_order_acquire); }
  void ScanRange(const float* query, uint64_t begin, uint64_t end, size_t k, const Filter& filter,
                 std::vector<Hit>* heap) const;
  struct Candidate {
    float lower;  // lower bound of the row's exact distance
    uint64_t row;
  };
  void ScanCompact(const float* query, uint64_t begin, uint64_t end, size_t k,
                   const Filter& filter, std::vector<Hit>* bounds,
                   std::vector<Candidate>* candidates) const;
  // Extends the int8 copy over rows [0, n) (published rows), on up to
  // `threads` threads.
  void BuildCompact(uint64_t n, int threads) const;

  const std::string dir_;
  Geometry geometry_;  // set before any reader exists; fixed afterwards
  std::unique_ptr<std::atomic<Chunk*>[]> chunks_;  // published, never moved
  std::vector<std::unique_ptr<Chunk>> owned_;      // guarded by write_mu_
  std::atomic<uint64_t> rows_{0};
  OpenReport report_;

  std::mutex write_mu_;
  uint64_t next_seq_ = 0;                          // guarded by write_mu_
  mutable std::shared_mutex ids_mu_;
  IdMap live_rows_;  // id -> row; guarded by ids_mu_
  // Ids of the batch being added, in live_rows_ before their rows are
  // published; guarded by ids_mu_.
  size_t pending_ = 0;
  // The next chunk, created in the background as soon as the last one is in
  // use, so appends do not wait for a new file's pages.
  std::future<Result<std::unique_ptr<Chunk>>> next_chunk_;  // guarded by write_mu_
  uint64_t next_chunk_index_ = 0;                           // guarded by write_mu_
  // Rows [0, compact_rows_) have their int8 copy; extended under
  // compact_mu_ (the copy lives in the chunks, written only there).
  mutable std::mutex compact_mu_;
  mutable std::atomic<uint64_t> compact_rows_{0};
  std::atomic<uint64_t> chunks_created_{0};
  std::atomic<uint64_t> create_ns_{0};
  std::atomic<uint64_t> append_wait_ns_{0};
};

}  // namespace hanshiro::vector

#endif  // HANSHIRO_VECTOR_COLLECTION_H_
