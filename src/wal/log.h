// wal::Log: the tamper-evident write-ahead log (docs/format/wal.md,
// docs/format/ledger.md, docs/format/checkpoint.md).
//
// Every record gets a sequence number = its WAL position = its leaf in the
// integrity tree. Writers queue; the writer at the front leads a commit
// group: the records of every ready writer behind it (up to max_batch_size),
// then one commit record carrying the tree root, in one append to the
// current segment, fsynced when sync_on_write. Sequence numbers are handed
// out as writers arrive, so each writer encodes and hashes its own records
// in parallel with the group in flight; the leader only does the tree nodes
// and the I/O.
//
// Files under `dir`: wal/NNNNNN.wal segments, integrity/ledger/level-LL.tiles,
// integrity/CHECKPOINT (latest signed tree head) and integrity/signing.key.
//
// Open recovers: it trusts the latest signed checkpoint (size N) after
// checking it against the ledger, replays the WAL from N on (rebuilding the
// ledger past N and checking every commit root), truncates a torn tail (a
// crash mid-append: reported, not tampering) and starts a new segment. A
// break before the tail (bad checksum, wrong sequence, root mismatch) is
// reported located; the log then opens read-only: every write returns that
// error until an operator repairs the directory. After any write or fsync
// failure, every later write returns that error too (sticky). Running out of
// memory is one too, except for a batch's own buffer, which is allocated
// before the batch has a place in the log: that batch alone gets Busy.
//
// Thread-safe: any number of threads may call Write, WriteBatch, Checkpoint,
// Prove and Verify at once.
#ifndef HANSHIRO_WAL_LOG_H_
#define HANSHIRO_WAL_LOG_H_

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>

#include "hanshiro/env.h"
#include "integrity/checkpoint.h"
#include "integrity/ledger.h"
#include "wal/scanner.h"

namespace hanshiro::wal {

struct Options {
  Env* env = Env::Default();
  // Acknowledge a write only after its group is fsynced.
  bool sync_on_write = true;
  // Most records in one commit group (a larger single batch still goes alone).
  size_t max_batch_size = 2000;
  // How long a leader waits for more writers when its group is not full.
  uint64_t group_commit_delay_us = 0;
  // A new segment starts once the current one reaches this size.
  uint64_t max_file_size = 64ull << 20;
  // Leaf hashes, tree heads, ledger and checkpoints. Fixed when the log is
  // created: a log written with integrity cannot be opened without it.
  bool integrity = true;
};

struct Entry {
  uint8_t kind = 1;  // 1..15 (wal_format.h: Log, Code, Index, ...)
  std::string_view payload;
};

struct RecoveryReport {
  uint64_t checkpoint_size = 0;  // where replay started (signed tree head)
  uint64_t tree_size = 0;        // records in the log after recovery
  uint64_t replayed = 0;         // records delivered to the replay callback
  std::optional<TornTail> torn;  // a crash's partial write, truncated
  Status broken;                 // a break before the tail: the log refuses writes
};

struct VerifyReport {
  bool intact() const { return error.ok(); }
  uint64_t records = 0;    // records recomputed from WAL bytes
  uint64_t log_start = 0;  // the first segment's first seq: leaves below come from the ledger
  uint64_t tree_size = 0;  // size verified
  Hash256 root;            // recomputed root at tree_size
  uint64_t ledger_entries_checked = 0;
  std::optional<integrity::Checkpoint> checkpoint;  // checked against the recomputed tree
  std::optional<TornTail> torn;  // a torn tail (crash, not tampering)
  Status error;                  // the first break, located
};

// Counters since Open (monotonic).
struct LogStats {
  uint64_t groups = 0;      // commit groups written
  uint64_t records = 0;     // data records written
  uint64_t syncs = 0;       // fsyncs of commit groups (one may cover several)
  uint64_t sync_us = 0;     // time spent in them
  uint64_t bytes = 0;       // WAL bytes written
};

class Log {
 public:
  // Called during Open for every committed record with seq >= replay_from.
  using ReplayFn = std::function<Status(uint64_t seq, uint8_t kind, std::string_view payload)>;

  static Result<std::unique_ptr<Log>> Open(const Options& options, const std::string& dir,
                                           uint64_t replay_from = 0,
                                           const ReplayFn& replay = nullptr);
  // Closes (see Close) when not closed yet.
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Appends one record; returns its sequence number once acknowledged.
  Result<uint64_t> Write(uint8_t kind, std::string_view payload);
  // Appends records with consecutive sequence numbers in one commit group;
  // returns the first. InvalidArgument (naming the entry) for an empty batch,
  // a bad kind or an oversized payload, and Busy when there is no memory for
  // the batch's buffer; nothing is written then.
  Result<uint64_t> WriteBatch(std::span<const Entry> entries);

  // Makes everything written durable and signs the current tree head
  // (integrity/CHECKPOINT). InvalidArgument without integrity.
  Result<integrity::Checkpoint> Checkpoint();
  // Makes every record acknowledged so far durable (an fsync of the live
  // segment; earlier ones were synced when they were closed), without
  // signing a checkpoint.
  Status Sync();
  // The latest signed tree head, if any.
  std::optional<integrity::Checkpoint> LatestCheckpoint() const;
  // An inclusion proof for record `seq` against the latest checkpoint
  // (signing a new one when the latest does not cover seq).
  Result<integrity::InclusionProof> Prove(uint64_t seq);
  // A proof that the tree of `old_checkpoint` is a prefix of the current one
  // (signing a new checkpoint when needed). IntegrityBroken when the old
  // checkpoint is not signed by this log's key.
  Result<integrity::ConsistencyProof> ProveConsistency(const integrity::Checkpoint& old_checkpoint);

  // The leaf hash the ledger holds for record `seq` (< size()). Integrity
  // only; thread-safe.
  Result<Hash256> StoredLeaf(uint64_t seq) const;
  // The leaf hash of a record, computed from its bytes as the log does.
  static Hash256 RecordLeaf(uint64_t seq, uint8_t kind, std::string_view payload);

  // Recomputes every leaf and node from the stored bytes and compares with
  // the commit records, the ledger and the latest checkpoint. `progress`, if
  // set, hears (records checked, records in the log) after groups now and then.
  VerifyReport Verify(const std::function<void(uint64_t done, uint64_t total)>& progress = nullptr);

  // Removes the oldest segments whose every record is below `seq` and below
  // the latest signed checkpoint; never the segment being written. For the
  // caller to say when records are durable elsewhere (tables, vector store):
  // the ledger keeps their leaves, so proofs and Verify still cover them.
  // `before`, if set, runs once before the first removal (only when one is
  // due); its error keeps every segment. Returns how many went; 0 while a
  // Verify runs (it reads the segments).
  Result<size_t> RemoveSegmentsBelow(uint64_t seq, const std::function<Status()>& before = nullptr);

  // Syncs, signs a final checkpoint and closes the files; later writes fail.
  Status Close();

  const RecoveryReport& recovery() const { return recovery_; }
  LogStats stats() const;
  // Records committed (= the tree size).
  uint64_t size() const { return committed_.load(std::memory_order_acquire); }
  // OK, or the sticky error every write now returns.
  Status health() const;
  // Whether Close succeeded (a Busy one leaves the log open, to be closed again).
  bool closed() const;
  // The checkpoint signing key (all zero without integrity).
  const integrity::PublicKey& public_key() const { return public_key_; }
  const std::string& dir() const { return dir_; }

 private:
  struct Writer;
  Log(const Options& options, std::string dir);
  Status Recover(uint64_t replay_from, const ReplayFn& replay);
  Status LoadCheckpoint(uint64_t* trusted);
  // Sets *start to the index in `numbers` of the last segment starting at or
  // before `target`, and start_seq_ to its first sequence number.
  Status FindReplayStart(const std::vector<uint64_t>& numbers, uint64_t target, size_t* start);
  Status StartSegment(uint64_t number);
  Result<integrity::Checkpoint> SignAndStore();
  // Encodes w's records and hashes their leaves into w->buf and w->nodes.
  // The caller reserved w->buf; throws std::bad_alloc if memory runs out.
  void Prepare(Writer* w) const;
  Writer* AcquireWriter();
  // AcquireWriter, or Busy when there is no memory for a writer.
  Result<Writer*> TryAcquireWriter();
  // Returns a writer that was not submitted to the pool.
  void ReleaseWriter(Writer* w);
  // Why a data group failed: the sticky error, or else the log was closed.
  // REQUIRES: mu_ held.
  Status GroupFailure() const;
  // Runs w through the queue and returns it to the pool.
  Result<uint64_t> Submit(Writer* w, std::optional<integrity::Checkpoint>* checkpoint);
  // Writes the groups writers[0, ends[0]), [ends[0], ends[1]), ... each with
  // its commit record, then syncs (or flushes) once.
  Status CommitGroups(std::span<Writer* const> writers, std::span<const size_t> ends);
  Status Rotate();
  Status TruncateTornTail(const TornTail& torn);
  Status RunControl(Writer* w);

  const Options options_;
  const std::string dir_;
  const std::string wal_dir_;
  const std::string integrity_dir_;
  std::unique_ptr<FileLock> lock_;
  std::optional<integrity::SigningKey> key_;
  integrity::PublicKey public_key_{};
  std::unique_ptr<integrity::Ledger> ledger_;
  RecoveryReport recovery_;
  uint64_t start_seq_ = 0;  // where recovery's replay started

  // Leader-only state (touched only by the thread leading a group).
  std::unique_ptr<WritableFile> file_;
  uint64_t segment_number_ = 0;
  uint64_t segment_bytes_ = 0;
  uint64_t cache_released_ = 0;  // segment bytes handed to DropCacheBefore
  std::string commit_buf_;
  uint64_t group_sync_us_ = 0;  // how long the last group's fsync took
  uint64_t group_bytes_ = 0;    // what the last group wrote
  LogStats stats_;              // guarded by mu_

  mutable std::mutex mu_;
  std::deque<Writer*> queue_;           // guarded by mu_
  std::vector<std::unique_ptr<Writer>> writers_;  // guarded by mu_; the pool
  std::vector<Writer*> free_writers_;   // guarded by mu_
  uint64_t next_seq_ = 0;               // guarded by mu_
  Status error_;                        // guarded by mu_; sticky
  bool closed_ = false;                 // guarded by mu_
  std::array<size_t, 8> recent_groups_{};  // guarded by mu_: records per recent round
  uint64_t rounds_ = 0;                 // guarded by mu_: CommitGroups calls
  size_t recent_max_group_records_ = 0;  // guarded by mu_
  uint64_t last_sync_us_ = 0;           // guarded by mu_
  std::optional<integrity::Checkpoint> checkpoint_;  // guarded by mu_
  // What verify may read: the live segment's committed bytes.
  uint64_t committed_segment_ = 0;      // guarded by mu_
  uint64_t committed_segment_bytes_ = 0;  // guarded by mu_
  std::atomic<uint64_t> committed_{0};
  // Verify holds it shared while it reads the segments; removal, exclusive.
  std::shared_mutex segments_mu_;
};

}  // namespace hanshiro::wal

#endif  // HANSHIRO_WAL_LOG_H_
