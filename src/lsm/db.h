// lsm::DB: the log-structured store of records — the write-ahead log (with
// its integrity tree), memtables, tables, the manifest, and a background
// thread that flushes, compacts and applies retention.
//
// Files under `dir`: wal/ and integrity/ (wal::Log), tables/NNNNNN.sst
// (docs/format/sstable.md) and MANIFEST (docs/format/manifest.md).
//
// Writes go to the log first (one total order: a record's sequence number is
// its WAL position and tree leaf), then into the memtable. A full memtable
// turns immutable and is flushed while a new one takes writes; when the
// immutable one is still being flushed, writers wait (a stall, counted in
// stats()) rather than fail. Each flush cuts tables at time-partition
// boundaries and installs a manifest recording the WAL position below which
// every record is in a table; recovery replays the log from there. Partitions
// are compacted on their own: tables of disjoint key ranges move to level 1
// without being rewritten, overlapping ones are merged (streaming, constant
// memory). Compaction keeps every version of a key — each is a leaf of the
// integrity tree — and drops only exact duplicates; reads return the newest.
// Retention drops whole partitions and logs that it did.
//
// Crash safety: tables and their directory are synced before the manifest
// that lists them is installed (temp, sync, rename, directory sync); replaced
// tables are deleted only afterwards; files no manifest lists are deleted at
// open. So a crash at any instant leaves a store that opens with every
// acknowledged write.
//
// Thread-safe: any number of threads may write and read at once. After a
// background error (a failed flush or compaction) writes return that error.
// Iterators must not outlive the store.
#ifndef HANSHIRO_LSM_DB_H_
#define HANSHIRO_LSM_DB_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/id_generator.h"
#include "lsm/mem.h"
#include "lsm/options.h"
#include "lsm/table_cache.h"
#include "lsm/version.h"
#include "sstable/block_cache.h"
#include "sstable/iterator.h"
#include "wal/log.h"

namespace hanshiro::lsm {

struct Stats {
  uint64_t writes = 0;  // records written since open
  uint64_t memtable_entries = 0, memtable_bytes = 0, immutable_bytes = 0;
  uint64_t flushes = 0, flush_bytes = 0, flush_us = 0;
  uint64_t log_segments_removed = 0;  // after flushes
  uint64_t compactions = 0, trivial_moves = 0;
  uint64_t compaction_bytes_read = 0, compaction_bytes_written = 0, compaction_us = 0;
  uint64_t stalls = 0, stall_us = 0;
  uint64_t retention_drops = 0;  // partitions dropped
  uint64_t tables = 0, level0_tables = 0, table_bytes = 0, open_tables = 0;
  uint64_t block_cache_bytes = 0, block_cache_hits = 0, block_cache_misses = 0;
  uint64_t wal_position = 0;  // of the installed manifest
};

// Sees the log's records from `from` on while the store opens (for what
// lives beside the store and must catch up with the log, like vectors).
struct ReplayHook {
  uint64_t from = UINT64_MAX;
  std::function<Status(uint64_t seq, uint8_t kind, std::string_view record)> fn;
};

// A thread that runs one job at a time for a flush (defined in db.cc).
class FlushHelper;

class DB {
 public:
  // Memtables with at least this many records are flushed in two halves at
  // once (Options::parallel_flush).
  static constexpr size_t kParallelFlushMinEntries = size_t{1} << 16;

  static Result<std::unique_ptr<DB>> Open(const Options& options, const std::string& dir,
                                          const ReplayHook& hook = {});
  // Closes (see Close) when not closed yet.
  ~DB();
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;

  // Runs once a batch is in the memtable, with its first sequence number;
  // batches are applied in sequence-number order, one at a time.
  using ApplyFn = std::function<void(uint64_t first_seq)>;

  // Logs the records as one commit group and adds them to the memtable;
  // returns the first sequence number once acknowledged (per sync_on_write).
  // Batches enter the memtable in sequence-number order; `apply`, when set,
  // runs right after (in that order too), so what it does follows the log's
  // order (the vector store's rows, say). InvalidArgument naming the record
  // for a bad key or a kind mismatch.
  Result<uint64_t> Write(std::span<const WriteRecord> records, const ApplyFn& apply = nullptr);

  // The newest record under key: OK, NotFound, or a read error.
  Status Get(std::string_view key, std::string* record, uint64_t* seq = nullptr) const;
  // The storage key of the record with this id (16 bytes, big-endian), or
  // nullopt. O(log n) per table that can hold the id.
  Result<std::optional<std::string>> FindKey(std::string_view id) const;

  // The newest version of every key in [lower, upper) (empty: unbounded), as
  // of now; later writes may or may not be seen. fill_cache = false keeps a
  // long scan out of the block cache.
  std::unique_ptr<sstable::Iterator> NewIterator(std::string lower = {}, std::string upper = {},
                                                 bool fill_cache = false) const;
  // Every stored version with seq >= min_seq, exact duplicates collapsed
  // (for verify, incremental work and tests). Tables holding only older
  // records are not read.
  std::unique_ptr<sstable::Iterator> NewInternalIterator(uint64_t min_seq = 0) const;

  // Turns the memtable into tables and waits until the manifest says so.
  Status Flush();
  // Runs every compaction that is possible now and waits for it.
  Status Compact();
  // Drops the partitions retention allows now; waits. The drop is logged as
  // an index record (field "retention") and recorded in the manifest.
  Status ApplyRetention();

  // Flushes nothing; stops the background thread and closes the log (which
  // syncs and signs a final checkpoint). Acknowledged writes are in the log.
  // After a Busy (no memory), calling it again closes the log; otherwise a
  // second call returns OK.
  Status Close();

  Stats stats() const;
  // Whether a write now would wait for a flush (the memtable is full and
  // the previous one is still being flushed).
  bool WouldStall() const;
  std::shared_ptr<const Version> current() const;
  // Every record below this sequence number is in a memtable or a table
  // (the log may have committed more, still being applied).
  uint64_t applied() const;
  wal::Log* log() const { return log_.get(); }
  const wal::RecoveryReport& recovery() const { return log_->recovery(); }
  const std::string& dir() const { return dir_; }

 private:
  // What a read sees: the memtables and the version, taken together.
  struct ReadState {
    std::shared_ptr<const Mem> mem, imm;
    std::shared_ptr<const Version> version;
  };
  ReadState Snapshot() const;

  DB(const Options& options, std::string dir);
  Status OpenFiles(const ReplayHook& hook);
  Status RemoveOrphans();
  Status Replay(uint64_t seq, uint8_t kind, std::string_view payload, uint64_t mem_from,
                const ReplayHook& hook);
  Result<uint64_t> WriteInternal(std::span<const WriteRecord> records, bool may_stall,
                                 const ApplyFn& apply);

  // Makes room in the memtable; waits while another switch is in progress.
  // REQUIRES: lock holds mu_
  Status MakeRoom(std::unique_lock<std::mutex>& lock, bool may_stall);
  // Turns mem_ into imm_ once no write is in flight.
  // REQUIRES: lock holds mu_; imm_ is null
  void SwitchMemtable(std::unique_lock<std::mutex>& lock);
  bool MemFull() const;

  void BackgroundLoop();
  Status FlushImmutable();
  // Removes the log segments below in_tables_below (after sync_applied).
  void RemoveLogSegments(uint64_t in_tables_below);
  // Writes `it`'s entries from where it stands up to `limit` (exclusive;
  // empty: to the end) as tables of `level`: cut at kind and partition
  // changes and at the target size (never between versions of a key). The
  // caller syncs the tables directory. The background thread and
  // its flush helper, at once.
  Status WriteTables(sstable::Iterator* it, std::string_view limit, int level,
                     std::vector<TableMeta>* out, uint64_t* bytes);
  // Writes a memtable's records as level-0 tables, a large one in two
  // halves at once.
  Status WriteMemTables(const std::shared_ptr<Mem>& mem, std::vector<TableMeta>* out,
                        uint64_t* bytes);
  // *complete is false when it stopped early for a pending flush.
  Status RunCompactions(bool force, bool* complete);
  // Deletes the files of replaced tables no reader can reach any more (or
  // all of them, at close). Background thread (or Close) only.
  void DeleteObsoleteTables(bool all);
  Status RunRetention();
  // Installs `next` (the manifest, then in memory) and deletes `obsolete`.
  // Background thread only.
  Status InstallVersion(std::shared_ptr<Version> next, const std::vector<uint64_t>& obsolete);
  // Waits until the background thread has finished a request made now.
  Status RunInBackground(uint64_t* requested, const uint64_t* done);

  const Options options_;
  const std::string dir_;
  const std::string tables_dir_;
  // Declared before anything holding a memtable: destroyed after them.
  memtable::BlockPool pool_;  // one memtable's worth of arena blocks, for the next
  std::unique_ptr<wal::Log> log_;
  sstable::BlockCache block_cache_;
  std::unique_ptr<TableCache> table_cache_;
  IdGenerator ids_;

  mutable std::mutex mu_;
  std::mutex close_mu_;  // one Close at a time
  std::condition_variable cv_;     // state changes: switches, flushes, requests
  std::shared_ptr<Mem> mem_;       // guarded by mu_
  std::shared_ptr<Mem> imm_;       // guarded by mu_; being flushed
  uint64_t imm_wal_position_ = 0;  // guarded by mu_: every record below is in imm_ or tables
  std::shared_ptr<const Version> version_;  // guarded by mu_
  int inflight_ = 0;               // guarded by mu_: writes between the log and the memtable
  bool switching_ = false;         // guarded by mu_
  bool shutting_down_ = false;     // guarded by mu_
  Status bg_error_;                // guarded by mu_; sticky
  // Requests and completions, as counters (guarded by mu_).
  uint64_t compact_requested_ = 0, compact_done_ = 0;
  uint64_t retention_requested_ = 0, retention_done_ = 0;
  uint64_t switches_ = 0, flushed_ = 0;  // memtables made immutable / flushed
  Stats stats_;                    // guarded by mu_ (counters)
  // Replaced tables waiting for the versions that list them to go; oldest
  // first. Background thread (and Close) only.
  struct PendingDelete {
    std::weak_ptr<const Version> version;
    std::vector<uint64_t> tables;
  };
  std::vector<PendingDelete> pending_deletes_;
  mutable std::mutex write_mu_;    // one memtable writer at a time
  // Writers waiting for their turn to link their batch, by the batch's
  // first sequence number; each is woken alone, when the batch before it
  // is in. Guarded by write_mu_.
  struct Turn {
    uint64_t first;
    std::condition_variable* cv;
  };
  std::vector<Turn> turns_;
  uint64_t applied_ = 0;           // guarded by write_mu_: records below are in a memtable
  std::atomic<uint64_t> next_table_{1};
  // Writes a flush's upper half; made by the first flush that splits and
  // kept (a thread per flush would leave a malloc arena per flush behind).
  // Background thread (and Close, once it stopped) only.
  std::unique_ptr<FlushHelper> flush_helper_;
  std::thread bg_;
};

}  // namespace hanshiro::lsm

#endif  // HANSHIRO_LSM_DB_H_
