// hanshiro::Options: how a database is opened, and the three presets.
//
// A preset is a starting point: take one and override fields one by one.
//
//   auto options = hanshiro::Options::Balanced();
//   options.retention_days = 30;
//
// Fields marked "fixed at creation" are recorded in the data directory; on
// reopen the stored choice wins. A value type.
#ifndef HANSHIRO_OPTIONS_H_
#define HANSHIRO_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "hanshiro/env.h"

namespace hanshiro {

// Per-block compression of tables. Serialized: values are fixed.
enum class Compression : uint8_t { kNone = 0, kSnappy = 1, kLz4 = 2, kZstd = 3 };
enum class PartitionWindow : uint8_t { kHourly, kSixHourly, kDaily };
enum class VectorMetric : uint8_t { kCosine, kInnerProduct, kL2 };

struct Options {
  // File access (borrowed; must outlive the database). Null: Env::Default().
  Env* env = nullptr;

  // --- Durability and the write-ahead log
  // Acknowledge a write only once its commit group is fsynced.
  bool sync_on_write = true;
  // Most records in one commit group (a larger batch is a group alone), and
  // how long a group waits for more. With sync on, one fsync covers every
  // group ready when the leader writes (up to 16), each with its commit record.
  size_t max_batch_size = 100;
  uint64_t group_commit_delay_us = 10'000;
  uint64_t wal_file_size = 256ull << 20;
  // The integrity tree (leaf hashes, signed checkpoints); fixed at creation.
  bool integrity = true;

  // --- Memtable: it turns immutable and is flushed at either limit.
  size_t memtable_max_entries = 500'000;
  size_t memtable_max_bytes = size_t{256} << 20;

  // --- Tables
  Compression compression = Compression::kSnappy;
  size_t block_size = 64 << 10;
  int bloom_bits_per_key = 10;
  uint32_t index_interval = 256;  // ids per id block: the sampling of the id index
  size_t block_cache_size = size_t{128} << 20;
  int max_open_files = 512;
  uint64_t target_file_size = 64ull << 20;
  uint64_t flush_interval_ms = 60'000;       // 0: only on size
  uint64_t compaction_interval_ms = 300'000;  // 0: only on table counts

  // --- Time partitions and retention
  PartitionWindow partition_window = PartitionWindow::kHourly;  // fixed at creation
  uint32_t retention_days = 0;  // drop partitions older than this; 0 keeps everything

  // --- Vectors: one collection for events and code artifacts. 0 takes the
  // dimension of the first vector written; fixed once chosen.
  uint32_t vector_dim = 0;
  VectorMetric vector_metric = VectorMetric::kCosine;

  // --- Correlation: cosine similarity at or above which a log and an
  // artifact are linked.
  float correlation_threshold = 0.85f;

  // Sync off, 2000-record groups, 500 µs group delay, 2 GB WAL files, a
  // 2M-entry / 1 GB memtable, no compression, 128 KB blocks, 10 bloom bits
  // per key, index interval 256, 120 s flush and 600 s compaction intervals.
  static Options HighPerformance();
  // Sync on, 100-record groups, 10 ms delay, moderate sizes, Snappy.
  static Options Balanced();
  // Sync on, no batching delay, small groups and memtables.
  static Options MaxDurability();
  // "high-performance", "balanced" or "max-durability".
  static Result<Options> FromPresetName(std::string_view name);
};

}  // namespace hanshiro

#endif  // HANSHIRO_OPTIONS_H_
