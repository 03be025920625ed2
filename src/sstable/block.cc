#include "sstable/block.h"

#include <cstring>

#include <fmt/format.h>

#include "base/coding.h"
#include "sstable/format.h"

namespace hanshiro::sstable {

Result<std::shared_ptr<const Block>> Block::Create(std::string contents, std::string where) {
  auto bad = [&](std::string_view what) {
    return Status::Corruption(fmt::format("{}: {} [SST-8]", where, what));
  };
  if (contents.size() < 8) return bad("shorter than a restart array");
  const uint32_t r = DecodeFixed32(contents.data() + contents.size() - 4);
  if (r == 0 || r > (contents.size() - 4) / 4) return bad(fmt::format("restart count {}", r));
  const auto restarts_offset = static_cast<uint32_t>(contents.size() - 4 - 4 * size_t{r});
  uint32_t prev = 0;
  for (uint32_t i = 0; i < r; ++i) {
    const uint32_t off = DecodeFixed32(contents.data() + restarts_offset + 4 * i);
    if ((i == 0 && off != 0) || (i > 0 && off <= prev) || off >= restarts_offset) {
      return bad(fmt::format("restart {} at offset {} out of order or outside the entries", i, off));
    }
    prev = off;
  }
  return std::shared_ptr<const Block>(
      new Block(std::move(contents), std::move(where), restarts_offset, r));
}

std::shared_ptr<const Block> Block::CreateRaw(std::string contents, std::string where) {
  const auto end = static_cast<uint32_t>(contents.size());
  return std::shared_ptr<const Block>(new Block(std::move(contents), std::move(where), end, 0));
}

uint32_t Block::Iterator::RestartOffset(uint32_t i) const {
  return DecodeFixed32(block_->contents_.data() + block_->restarts_offset_ + 4 * i);
}

void Block::Iterator::Corrupt(std::string_view what, uint32_t offset) {
  valid_ = false;
  status_ = Status::Corruption(
      fmt::format("{}: entry at block offset {}: {} [SST-9]", block_->where_, offset, what));
}

bool Block::Iterator::ParseAt(uint32_t offset, bool at_restart) {
  if (!status_.ok()) return false;
  if (offset >= block_->restarts_offset_) {
    valid_ = false;
    return false;
  }
  ByteReader r(std::string_view(block_->contents_.data() + offset, block_->restarts_offset_ - offset));
  uint32_t shared = 0, non_shared = 0, value_len = 0;
  std::string_view delta, value;
  uint64_t seq = 0;
  if (!r.ReadVarint32(&shared) || !r.ReadVarint32(&non_shared) || !r.ReadVarint32(&value_len) ||
      !r.ReadBytes(non_shared, &delta) || !r.ReadFixed64(&seq) || !r.ReadBytes(value_len, &value)) {
    Corrupt("runs past the end of the entries", offset);
    return false;
  }
  if (shared + uint64_t{non_shared} != kKeySize || ((at_restart || !valid_) && shared != 0)) {
    Corrupt(fmt::format("bad key lengths (shared {}, non-shared {})", shared, non_shared), offset);
    return false;
  }
  char key[kKeySize];
  std::memcpy(key, key_, shared);
  std::memcpy(key + shared, delta.data(), non_shared);
  const auto prefix = static_cast<uint8_t>(key[0]);
  if (prefix < 1 || prefix > 3) {
    Corrupt(fmt::format("key prefix {:#04x}", prefix), offset);
    return false;
  }
  if (valid_) {
    const int cmp = std::memcmp(key, key_, kKeySize);
    if (cmp < 0 || (cmp == 0 && seq >= seq_)) {
      Corrupt("key out of order", offset);
      return false;
    }
  }
  std::memcpy(key_, key, kKeySize);
  seq_ = seq;
  value_ = value;
  next_ = offset + static_cast<uint32_t>(r.offset());
  valid_ = true;
  return true;
}

bool Block::Iterator::ParseRestart(uint32_t i) {
  valid_ = false;
  restart_ = i;
  return ParseAt(RestartOffset(i), true);
}

void Block::Iterator::SeekToFirst() {
  HANSHIRO_CHECK(block_->restarts_ > 0);
  ParseRestart(0);
}

void Block::Iterator::Next() {
  HANSHIRO_CHECK(valid_);
  const bool at_restart =
      restart_ + 1 < block_->restarts_ && RestartOffset(restart_ + 1) == next_;
  if (at_restart) ++restart_;
  ParseAt(next_, at_restart);
}

void Block::Iterator::Seek(std::string_view target) {
  // The last restart point whose key < target, then forward.
  HANSHIRO_CHECK(block_->restarts_ > 0);
  uint32_t lo = 0, hi = block_->restarts_ - 1;
  while (lo < hi) {
    const uint32_t mid = (lo + hi + 1) / 2;
    if (!ParseRestart(mid)) {
      if (status_.ok()) Corrupt("restart point past the entries", RestartOffset(mid));
      return;
    }
    if (key() < target) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  if (!ParseRestart(lo)) return;
  while (valid_ && key() < target) Next();
}

}  // namespace hanshiro::sstable
