// sstable::BlockBuilder: builds the contents of one data block (entries with
// keys prefix-compressed against the previous key, and restart points every
// `restart_interval` entries; docs/format/sstable.md). Not thread-safe.
#ifndef HANSHIRO_SSTABLE_BLOCK_BUILDER_H_
#define HANSHIRO_SSTABLE_BLOCK_BUILDER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hanshiro::sstable {

class BlockBuilder {
 public:
  explicit BlockBuilder(int restart_interval = 16) : restart_interval_(restart_interval) {}

  // REQUIRES: key is 25 bytes and (key, seq) follows the previous entry in
  // internal order.
  void Add(std::string_view key, uint64_t seq, std::string_view value);
  // The finished contents; valid until Reset.
  std::string_view Finish();
  void Reset();

  bool empty() const { return count_ == 0; }
  size_t SizeEstimate() const { return buf_.size() + restarts_.size() * 4 + 4; }
  std::string_view last_key() const { return last_key_; }

 private:
  const int restart_interval_;
  std::string buf_;
  std::vector<uint32_t> restarts_{0};
  std::string last_key_;
  int since_restart_ = 0;
  size_t count_ = 0;
};

}  // namespace hanshiro::sstable

#endif  // HANSHIRO_SSTABLE_BLOCK_BUILDER_H_
