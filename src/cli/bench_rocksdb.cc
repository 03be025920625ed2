#include "cli/bench_rocksdb.h"

#ifdef HANSHIRO_HAVE_ROCKSDB
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#endif

namespace hanshiro::cli {

#ifdef HANSHIRO_HAVE_ROCKSDB

namespace {

class Peer final : public RocksPeer {
 public:
  Peer(rocksdb::DB* db, bool sync) : db_(db) { options_.sync = sync; }
  ~Peer() override { delete db_; }
  Status Write(std::span<const std::pair<std::string_view, std::string_view>> kvs) override {
    rocksdb::WriteBatch batch;
    for (const auto& [k, v] : kvs) {
      batch.Put(rocksdb::Slice(k.data(), k.size()), rocksdb::Slice(v.data(), v.size()));
    }
    rocksdb::Status s = db_->Write(options_, &batch);
    return s.ok() ? Status::OK() : Status::IOError("rocksdb: " + s.ToString());
  }

 private:
  rocksdb::DB* db_;
  rocksdb::WriteOptions options_;
};

}  // namespace

bool RocksPeer::available() { return true; }

std::unique_ptr<RocksPeer> RocksPeer::Open(const std::string& dir, bool sync,
                                           size_t write_buffer_bytes, std::string* why) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.IncreaseParallelism(2);
  o.write_buffer_size = write_buffer_bytes;
  o.max_write_buffer_number = 2;
  o.compression = rocksdb::kNoCompression;  // as the high-performance preset
  o.enable_pipelined_write = true;
  // As ours: tables are written around the page cache (the log is not).
  o.use_direct_io_for_flush_and_compaction = true;
  // Its commit groups stay at the default 1 MiB: 16 MiB, closer to ours,
  // made it slower with sync on (more CPU per event), not faster.
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &db);
  if (!s.ok()) {
    *why = s.ToString();
    return nullptr;
  }
  return std::make_unique<Peer>(db, sync);
}

#else

bool RocksPeer::available() { return false; }

std::unique_ptr<RocksPeer> RocksPeer::Open(const std::string&, bool, size_t, std::string* why) {
  *why = "librocksdb-dev is not installed";
  return nullptr;
}

#endif

}  // namespace hanshiro::cli
