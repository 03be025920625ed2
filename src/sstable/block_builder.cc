#include "sstable/block_builder.h"

#include <algorithm>

#include "base/coding.h"
#include "hanshiro/status.h"
#include "sstable/format.h"

namespace hanshiro::sstable {

void BlockBuilder::Add(std::string_view key, uint64_t seq, std::string_view value) {
  HANSHIRO_CHECK(key.size() == kKeySize);
  size_t shared = 0;
  if (since_restart_ == restart_interval_) {
    restarts_.push_back(static_cast<uint32_t>(buf_.size()));
    since_restart_ = 0;
  } else if (count_ > 0) {
    const size_t limit = std::min(last_key_.size(), key.size());
    while (shared < limit && last_key_[shared] == key[shared]) ++shared;
  }
  PutVarint32(&buf_, static_cast<uint32_t>(shared));
  PutVarint32(&buf_, static_cast<uint32_t>(key.size() - shared));
  PutVarint32(&buf_, static_cast<uint32_t>(value.size()));
  buf_.append(key.substr(shared));
  PutFixed64(&buf_, seq);
  buf_.append(value);
  last_key_.assign(key);
  ++since_restart_;
  ++count_;
}

std::string_view BlockBuilder::Finish() {
  for (const uint32_t r : restarts_) PutFixed32(&buf_, r);
  PutFixed32(&buf_, static_cast<uint32_t>(restarts_.size()));
  return buf_;
}

void BlockBuilder::Reset() {
  buf_.clear();
  restarts_.assign(1, 0);
  since_restart_ = 0;
  count_ = 0;
  last_key_.clear();
}

}  // namespace hanshiro::sstable
