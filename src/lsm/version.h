// lsm::TableMeta, lsm::Version: which tables make up the store at one moment
// (docs/format/manifest.md). A Version is immutable once published: readers
// hold a shared_ptr to the one they started with, so flushes and compactions
// never change what an open iterator sees. Thread-safe (read-only).
#ifndef HANSHIRO_LSM_VERSION_H_
#define HANSHIRO_LSM_VERSION_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hanshiro::lsm {

struct TableMeta {
  uint64_t number = 0;
  int level = 0;          // 0: flushed, may overlap; 1: no overlap within the partition
  int64_t partition = 0;  // start of the time window, Unix ns
  uint64_t file_size = 0;
  uint64_t entries = 0;
  std::string min_key, max_key;  // 25 bytes each
  uint64_t min_seq = 0, max_seq = 0;
  std::array<uint8_t, 16> min_id{}, max_id{};
  int64_t min_time = 0, max_time = 0;

  bool Overlaps(const TableMeta& o) const { return min_key <= o.max_key && o.min_key <= max_key; }
  bool MayHoldKey(std::string_view key) const { return min_key <= key && key <= max_key; }
  bool MayHoldId(std::string_view id) const;

  friend bool operator==(const TableMeta&, const TableMeta&) = default;
};

struct DroppedPartition {
  int64_t partition = 0;
  uint64_t tables = 0, entries = 0, bytes = 0;
  uint64_t min_seq = 0, max_seq = 0;
  int64_t dropped_at_ns = 0;

  friend bool operator==(const DroppedPartition&, const DroppedPartition&) = default;
};

struct Version {
  uint64_t edit = 0;
  int64_t window_ns = 0;
  uint64_t next_table = 1;
  uint64_t wal_position = 0;
  // Level 0 by number (oldest first), then level 1 by (partition, min_key).
  std::vector<TableMeta> tables;
  std::vector<DroppedPartition> dropped;

  uint64_t TotalBytes() const;
  // Puts tables in the order above.
  void Sort();

  friend bool operator==(const Version&, const Version&) = default;
};

constexpr int64_t kHourNs = int64_t{3600} * 1'000'000'000;
constexpr int64_t kSixHoursNs = 6 * kHourNs;
constexpr int64_t kDayNs = 24 * kHourNs;

// The start of the window of width window_ns holding time t (t >= 0).
inline int64_t PartitionOf(int64_t t, int64_t window_ns) { return t - t % window_ns; }

}  // namespace hanshiro::lsm

#endif  // HANSHIRO_LSM_VERSION_H_
