// The RocksDB peer of the ingest benchmark (Debian's librocksdb-dev), in its
// own translation unit. Same keys and record bytes as ours, WAL on.
#ifndef HANSHIRO_CLI_BENCH_ROCKSDB_H_
#define HANSHIRO_CLI_BENCH_ROCKSDB_H_

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "hanshiro/status.h"

namespace hanshiro::cli {

class RocksPeer {
 public:
  // Null (with *why set) when RocksDB is not built in or fails to open.
  static std::unique_ptr<RocksPeer> Open(const std::string& dir, bool sync,
                                         size_t write_buffer_bytes, std::string* why);
  virtual ~RocksPeer() = default;
  // One WriteBatch of (key, value) pairs; sync per WriteOptions.
  virtual Status Write(std::span<const std::pair<std::string_view, std::string_view>> kvs) = 0;
  static bool available();
};

}  // namespace hanshiro::cli

#endif  // HANSHIRO_CLI_BENCH_ROCKSDB_H_
