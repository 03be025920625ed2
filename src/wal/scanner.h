// Scanner: walks the segments of a WAL in order and checks everything that
// spans records (docs/format/wal.md [WAL-9]..[WAL-15]): segment numbering and
// the sequence chain across files, sequence order, every group ending in a
// commit record, and each commit record's root against the tree rebuilt from
// the leaves. Recovery and verify both run on it. Not thread-safe.
#ifndef HANSHIRO_WAL_SCANNER_H_
#define HANSHIRO_WAL_SCANNER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hanshiro/env.h"
#include "hanshiro/hash.h"

namespace hanshiro::wal {

struct GroupRecord {
  uint64_t seq = 0;
  uint8_t kind = 0;
  uint64_t offset = 0;  // in `Group::file`
  std::string_view payload;
};

// A committed group: its records (borrowed until the callback returns) and,
// with integrity, the leaf hash of each.
struct Group {
  const std::string* file = nullptr;
  std::span<const GroupRecord> records;
  std::span<const Hash256> leaves;
  uint64_t commit_offset = 0;
};

// Where the scanned leaves go: the ledger at recovery, a fresh tree that is
// compared with the ledger in verify.
class TreeSink {
 public:
  virtual ~TreeSink() = default;
  virtual uint64_t size() const = 0;
  // Appends the leaves of g whose seq >= size() (all of them, in order).
  virtual Status Append(const Group& g, size_t first) = 0;
  virtual Hash256 Root() const = 0;
};

struct TornTail {
  std::string file;
  uint64_t offset = 0;  // where the committed data ends
  uint64_t bytes = 0;   // what follows it
  bool whole_file = false;  // the segment's header itself was torn
};

struct ScanParams {
  bool integrity = true;
  // Leaves with seq >= tree->size() go to the tree; earlier records are
  // checked for order and checksum only.
  TreeSink* tree = nullptr;
  std::function<Status(const Group&)> on_group;
  // Read at most this many bytes of the last segment (verify of a live log).
  uint64_t last_segment_limit = UINT64_MAX;
};

struct ScanResult {
  uint64_t next_seq = 0;       // one past the last committed record
  uint64_t records = 0;        // data records in committed groups
  uint64_t last_commit_end = 0;  // in the last segment
  std::optional<TornTail> torn;  // damage after the last commit of the last segment
  Status error;                // the first break, located
};

// Scans segments `numbers` (ascending) of `dir`. `first_seq` is the sequence
// number the first segment must start at or before (and every later one
// exactly where the previous ended).
ScanResult ScanSegments(Env* env, const std::string& dir, std::span<const uint64_t> numbers,
                        const ScanParams& params);

}  // namespace hanshiro::wal

#endif  // HANSHIRO_WAL_SCANNER_H_
