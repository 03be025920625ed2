#include "sstable/table_builder.h"

#include <algorithm>
#include <cstring>

#include "base/coding.h"
#include "base/crc32c.h"
#include "sstable/compression.h"

namespace hanshiro::sstable {

namespace {

// An id entry's place in the sort: its id as two big-endian words (so
// integer order is byte order) and where the entry is.
struct IdOrder {
  uint64_t hi;
  uint64_t lo;
  uint64_t at;  // byte offset of the entry
};

int64_t KeyTime(std::string_view key) {
  return static_cast<int64_t>(DecodeBigEndian64(key.data() + 1));
}

}  // namespace

TableBuilder::TableBuilder(const TableOptions& options, WritableFile* file)
    : options_(options),
      file_(file),
      block_(options.restart_interval),
      bloom_(options.bloom_bits_per_key) {
  footer_.id_block_entries = options.index_interval;
}

Status TableBuilder::Add(std::string_view key, uint64_t seq, std::string_view value) {
  HANSHIRO_RETURN_IF_ERROR(status_);
  HANSHIRO_CHECK(key.size() == kKeySize);
  const std::string_view id = key.substr(9, kIdSize);
  const int64_t time = KeyTime(key);
  if (footer_.entries == 0) {
    footer_.min_key.assign(key);
    footer_.min_time = footer_.max_time = time;
    footer_.min_seq = footer_.max_seq = seq;
    std::memcpy(footer_.min_id.data(), id.data(), kIdSize);
    std::memcpy(footer_.max_id.data(), id.data(), kIdSize);
  } else {
    footer_.min_time = std::min(footer_.min_time, time);
    footer_.max_time = std::max(footer_.max_time, time);
    footer_.min_seq = std::min(footer_.min_seq, seq);
    footer_.max_seq = std::max(footer_.max_seq, seq);
    if (std::memcmp(id.data(), footer_.min_id.data(), kIdSize) < 0) {
      std::memcpy(footer_.min_id.data(), id.data(), kIdSize);
    }
    if (std::memcmp(id.data(), footer_.max_id.data(), kIdSize) > 0) {
      std::memcpy(footer_.max_id.data(), id.data(), kIdSize);
    }
  }
  // The id entry: id | prefix | key time.
  const size_t at = ids_.size();
  ids_.resize(at + kIdEntrySize);
  std::memcpy(ids_.data() + at, id.data(), kIdSize);
  std::memcpy(ids_.data() + at + kIdSize, key.data(), 9);
  if (last_key_ != key) bloom_.Add(id);
  last_key_.assign(key);

  block_.Add(key, seq, value);
  ++footer_.entries;
  if (block_.SizeEstimate() >= options_.block_size) return FlushDataBlock();
  return Status::OK();
}

Status TableBuilder::WriteBlock(std::string_view stored, Compression type, BlockHandle* handle) {
  char trailer[kBlockTrailerSize];
  trailer[0] = static_cast<char>(type);
  uint32_t crc = crc32c::Value(stored);
  crc = crc32c::Extend(crc, trailer, 1);
  EncodeFixed32(trailer + 1, crc32c::Mask(crc));
  *handle = {offset_, stored.size()};
  status_ = file_->Append(stored);
  if (status_.ok()) status_ = file_->Append(std::string_view(trailer, kBlockTrailerSize));
  offset_ += stored.size() + kBlockTrailerSize;
  return status_;
}

Status TableBuilder::WriteRaw(std::string_view contents, BlockHandle* handle) {
  return WriteBlock(contents, Compression::kNone, handle);
}

Status TableBuilder::FlushDataBlock() {
  if (block_.empty()) return Status::OK();
  const std::string last(block_.last_key());
  const std::string_view raw = block_.Finish();
  BlockHandle handle;
  if (options_.compression == Compression::kNone) {
    HANSHIRO_RETURN_IF_ERROR(WriteBlock(raw, Compression::kNone, &handle));
  } else {
    compressed_.clear();
    const Compression type = CompressBlock(options_.compression, raw, &compressed_);
    HANSHIRO_RETURN_IF_ERROR(WriteBlock(compressed_, type, &handle));
  }
  index_.append(last);
  PutFixed64(&index_, handle.offset);
  PutFixed32(&index_, static_cast<uint32_t>(handle.size));
  ++footer_.data_blocks;
  block_.Reset();
  return Status::OK();
}

Status TableBuilder::WriteIdSection() {
  // Entries sort by their bytes (id, then prefix and time). Comparing the id
  // as two integers, and the rest only on equal ids, is several times
  // cheaper than comparing 25 bytes.
  const uint64_t entries = footer_.entries;
  const char* raw = ids_.data();
  std::vector<IdOrder> order(entries);
  for (uint64_t i = 0; i < entries; ++i) {
    const char* e = raw + i * kIdEntrySize;
    order[i] = {DecodeBigEndian64(e), DecodeBigEndian64(e + 8), i * kIdEntrySize};
  }
  auto less = [raw](const IdOrder& a, const IdOrder& b) {
    if (a.hi != b.hi) return a.hi < b.hi;
    if (a.lo != b.lo) return a.lo < b.lo;
    return std::memcmp(raw + a.at + kIdSize, raw + b.at + kIdSize, kIdEntrySize - kIdSize) < 0;
  };
  std::vector<char> sorted;
  if (!std::is_sorted(order.begin(), order.end(), less)) {
    std::sort(order.begin(), order.end(), less);
    sorted.resize(ids_.size());
    for (uint64_t i = 0; i < entries; ++i) {
      std::memcpy(sorted.data() + i * kIdEntrySize, raw + order[i].at, kIdEntrySize);
    }
    raw = sorted.data();
  }
  // Versions of one key share an id entry; the format wants one per entry,
  // so duplicates stay (they are adjacent and equal).
  std::string first_ids;
  const uint64_t start = offset_;
  for (uint64_t i = 0; i < entries; i += options_.index_interval) {
    const uint64_t n = std::min<uint64_t>(options_.index_interval, entries - i);
    const std::string_view bytes(raw + i * kIdEntrySize, n * kIdEntrySize);
    first_ids.append(bytes.substr(0, kIdSize));
    BlockHandle ignored;
    HANSHIRO_RETURN_IF_ERROR(WriteRaw(bytes, &ignored));
  }
  footer_.ids = {start, offset_ - start};
  return WriteRaw(first_ids, &footer_.id_index);
}

Status TableBuilder::Finish() {
  HANSHIRO_CHECK(footer_.entries > 0);
  HANSHIRO_RETURN_IF_ERROR(FlushDataBlock());
  footer_.max_key = last_key_;
  HANSHIRO_RETURN_IF_ERROR(WriteIdSection());
  std::string filter;
  bloom_.Finish(&filter);
  HANSHIRO_RETURN_IF_ERROR(WriteRaw(filter, &footer_.filter));
  HANSHIRO_RETURN_IF_ERROR(WriteRaw(index_, &footer_.index));
  std::string footer;
  footer_.EncodeTo(&footer);
  status_ = file_->Append(footer);
  offset_ += footer.size();
  if (status_.ok()) status_ = file_->Sync();
  if (status_.ok()) status_ = file_->Close();
  return status_;
}

}  // namespace hanshiro::sstable
