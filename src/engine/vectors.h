// engine::Vectors: the database's one vector collection, for events and code
// artifacts alike, in vectors/d<dim>-<metric>/ (docs/format/engine.md; the
// chunk files are docs/format/vectors.md).
//
// Crash consistency with the log: rows are added (and removed) in log order
// right after their records enter the memtable; at open the collection keeps
// only rows, and undoes only tombstones, the log acknowledged ([VEC-6],
// [VEC-8]), and the log that is left (every record since the collection's
// last sync) is replayed into it, adding missing rows and redoing removals.
// So after any crash, power cuts included, a vector exists if and only if
// the newest acknowledged version of its value carries it.
//
// The dimension is fixed by the options or by the first vector written; the
// collection's directory is created (durably) before that first record is
// logged. Thread-safety: Check, Add and Search may run concurrently; Add is
// called in log order by one thread at a time.
#ifndef HANSHIRO_ENGINE_VECTORS_H_
#define HANSHIRO_ENGINE_VECTORS_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "hanshiro/env.h"
#include "hanshiro/model.h"
#include "vector/collection.h"

namespace hanshiro::engine {

class Vectors {
 public:
  // Finds the collection under `root` (at most one may exist). dim 0: any.
  static Result<std::unique_ptr<Vectors>> Prepare(Env* env, const std::string& root, uint32_t dim,
                                                  vector::Metric metric);

  // Where the log must be replayed from to catch up (UINT64_MAX: nothing to do).
  uint64_t replay_from() const { return replay_from_; }
  // During the log's replay: remembers the value's vector, or, for a value
  // without one whose id has (or will have) a row, that the row goes.
  Status CollectReplay(uint64_t seq, const Value& value);
  // After the log opened: keeps only acknowledged rows and applies what was
  // collected and is missing, in log order.
  Status FinishOpen(uint64_t acknowledged);

  // Before logging a batch: every vector has the collection's dimension (or
  // fixes it) and finite elements; no id carries two vectors. Names the
  // batch index. May create the collection. Returns how many values carry
  // a vector (Add has no row to add for a batch with none).
  Result<size_t> Check(std::span<const Value> values, uint64_t acknowledged);
  // Applies a logged batch whose first record has `first_seq`, in batch
  // order: a value with a vector replaces its id's row, and each value of
  // `unvectored` (batch indexes, ascending: values without a vector whose id
  // may have a row) removes its id's row. Values the caller gave fresh ids
  // need not be listed: they have no row. A no-op before the first vector.
  Status Add(std::span<const Value> values, uint64_t first_seq, std::span<const size_t> unvectored);
  // Makes every vector added so far durable (msync); thread-safe. Busy
  // while open has not replayed the log into a found collection yet, and an
  // error once an Add failed (so the log keeps every segment until the next
  // open replays the batch).
  Status Sync() const;

  // Null until the first vector.
  const vector::Collection* collection() const { return collection_.load(std::memory_order_acquire); }
  uint32_t dim() const { return dim_.load(std::memory_order_acquire); }
  vector::Metric metric() const { return metric_; }

  static vector::RowMeta MetaFor(const Value& value, uint64_t seq);

 private:
  Vectors(Env* env, std::string root, vector::Metric metric)
      : env_(env), root_(std::move(root)), metric_(metric) {}
  std::string DirFor(uint32_t dim) const;
  Status Create(uint32_t dim, uint64_t acknowledged);
  Status Apply(std::span<const Value> values, uint64_t first_seq, std::span<const size_t> unvectored);

  Env* const env_;
  const std::string root_;
  const vector::Metric metric_;
  std::mutex create_mu_;
  std::atomic<uint32_t> dim_{0};
  std::unique_ptr<vector::Collection> owned_;  // guarded by create_mu_ until published
  std::atomic<vector::Collection*> collection_{nullptr};
  uint64_t replay_from_ = UINT64_MAX;
  // During replay: the collection as found (to know which ids have a row),
  // and what the log's records from replay_from_ on do to it, in log order.
  std::unique_ptr<vector::Collection> found_;
  struct PendingOp {
    vector::RowMeta meta;
    bool remove = false;  // else adds the next dim() floats of pending_rows_
  };
  uint64_t found_next_ = 0;          // found_'s end
  std::atomic<bool> opening_{false};  // a found collection, until FinishOpen
  std::atomic<bool> failed_{false};   // an Add failed
  std::vector<PendingOp> pending_;
  std::set<EventId> pending_ids_;  // ids pending_ adds a row for
  std::vector<float> pending_rows_;
};

}  // namespace hanshiro::engine

#endif  // HANSHIRO_ENGINE_VECTORS_H_
