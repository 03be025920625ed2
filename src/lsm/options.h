// lsm::Options: everything a store is opened with. Fields marked "fixed at
// creation" are recorded on disk and the stored value wins on reopen.
#ifndef HANSHIRO_LSM_OPTIONS_H_
#define HANSHIRO_LSM_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <functional>

#include "base/clock.h"
#include "hanshiro/env.h"
#include "lsm/version.h"
#include "sstable/table_builder.h"

namespace hanshiro::lsm {

// env and clock are borrowed and must outlive the store.
struct Options {
  Env* env = Env::Default();
  Clock* clock = Clock::System();  // retention ages and flush intervals

  // The write-ahead log (wal::Options).
  bool sync_on_write = true;
  size_t max_batch_size = 2000;
  uint64_t group_commit_delay_us = 0;
  uint64_t wal_file_size = 64ull << 20;
  // After a flush, log segments whose records are all in tables are removed
  // (their leaves stay in the ledger). When the apply hook feeds another
  // store (the engine's vector store), this is called first, from the
  // background thread, when a segment is due to go: it makes durable what
  // the hook applied so far (every record in the flushed tables was
  // applied). An error keeps the segments.
  std::function<Status()> sync_applied;
  bool integrity = true;  // fixed at creation

  // The memtable turns immutable and is flushed at either limit.
  size_t memtable_max_entries = 1'000'000;
  size_t memtable_max_bytes = size_t{256} << 20;

  // Tables.
  sstable::TableOptions table;
  uint64_t target_file_size = 64ull << 20;  // flush and compaction cut tables here
  size_t block_cache_size = size_t{64} << 20;
  int max_open_files = 512;  // open-table cache: file descriptors for tables

  // Background work; 0 turns a timer off.
  uint64_t flush_interval_ms = 0;        // flush a non-empty memtable this old
  uint64_t compaction_interval_ms = 0;   // look for compaction and retention work
  int l0_compaction_trigger = 4;         // level-0 tables in a partition that start one
  // A flush of a large memtable (DB::kParallelFlushMinEntries records or
  // more) writes its two halves in two threads.
  bool parallel_flush = true;
  // Nice levels the background thread rises for each flush, and the split
  // flush's helper thread with it (Linux setpriority, per thread; 0 to 19):
  // writers wait for a flush once the next memtable is full, so it should
  // not share the cores evenly with them. Raising priority needs
  // CAP_SYS_NICE or RLIMIT_NICE; where it is refused, the threads keep the
  // nice value they were started with. 0 leaves priorities alone.
  int flush_priority_boost = 5;

  // Time partitions (fixed at creation): kHourNs, kSixHoursNs or kDayNs.
  int64_t partition_window_ns = kHourNs;
  // Drop whole partitions whose window ended longer ago than this; 0 keeps all.
  int64_t retention_ns = 0;
};

}  // namespace hanshiro::lsm

#endif  // HANSHIRO_LSM_OPTIONS_H_
