#include "hanshiro/options.h"

#include <string>

namespace hanshiro {

Options Options::HighPerformance() {
  Options o;
  o.sync_on_write = false;
  o.max_batch_size = 2000;
  o.group_commit_delay_us = 500;
  o.wal_file_size = 2ull << 30;
  o.memtable_max_entries = 2'000'000;
  o.memtable_max_bytes = size_t{1} << 30;
  o.compression = Compression::kNone;
  o.block_size = 128 << 10;
  o.bloom_bits_per_key = 10;
  o.index_interval = 256;
  o.flush_interval_ms = 120'000;
  o.compaction_interval_ms = 600'000;
  o.target_file_size = 256ull << 20;
  o.block_cache_size = size_t{256} << 20;
  return o;
}

Options Options::Balanced() { return Options(); }

Options Options::MaxDurability() {
  Options o;
  o.sync_on_write = true;
  o.max_batch_size = 100;
  o.group_commit_delay_us = 0;
  o.wal_file_size = 64ull << 20;
  o.memtable_max_entries = 100'000;
  o.memtable_max_bytes = size_t{64} << 20;
  o.compression = Compression::kSnappy;
  o.block_size = 16 << 10;
  o.flush_interval_ms = 10'000;
  o.compaction_interval_ms = 60'000;
  return o;
}

Result<Options> Options::FromPresetName(std::string_view name) {
  if (name == "high-performance") return HighPerformance();
  if (name == "balanced") return Balanced();
  if (name == "max-durability") return MaxDurability();
  return Status::InvalidArgument("unknown preset '" + std::string(name) +
                                 "' (expected high-performance, balanced or max-durability)");
}

}  // namespace hanshiro
