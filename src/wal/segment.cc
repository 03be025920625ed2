#include "wal/segment.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "base/coding.h"
#include "base/crc32c.h"

namespace hanshiro::wal {
namespace {

constexpr size_t kReadChunk = 1 << 20;

uint32_t RecordCrc(const char* record, size_t payload_size) {
  return crc32c::Value(record + kCrcSize, kRecordHeaderSize - kCrcSize + payload_size);
}

}  // namespace

std::string SegmentFileName(const std::string& dir, uint64_t number) {
  return JoinPath(dir, fmt::format("{:06d}.wal", number));
}

uint64_t ParseSegmentFileName(std::string_view name) {
  if (name.size() < 10 || !name.ends_with(".wal")) return 0;
  uint64_t n = 0;
  for (char c : name.substr(0, name.size() - 4)) {
    if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10) return 0;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  return n;
}

std::string EncodeSegmentHeader(const SegmentHeader& header) {
  std::string out(kSegmentMagic);
  PutFixed32(&out, kSegmentVersion);
  PutFixed32(&out, header.hash_algorithm);
  PutFixed64(&out, header.number);
  PutFixed64(&out, header.first_seq);
  out.append(header.root.view());
  PutFixed32(&out, crc32c::Mask(crc32c::Value(out)));
  return out;
}

void AppendRecord(std::string* out, uint64_t seq, uint8_t kind, std::string_view payload) {
  const size_t start = out->size();
  out->resize(start + kRecordHeaderSize);
  char* p = out->data() + start;
  EncodeFixed64(p + kCrcSize, seq);
  p[kKindOffset] = static_cast<char>(kind);
  EncodeFixed32(p + kLengthOffset, static_cast<uint32_t>(payload.size()));
  out->append(payload);
  p = out->data() + start;
  EncodeFixed32(p, crc32c::Mask(RecordCrc(p, payload.size())));
}

Result<std::unique_ptr<SegmentReader>> SegmentReader::Open(Env* env, const std::string& path,
                                                           uint64_t limit) {
  HANSHIRO_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(path));
  HANSHIRO_ASSIGN_OR_RETURN(auto file, env->NewRandomAccessFile(path));
  std::unique_ptr<SegmentReader> r(new SegmentReader(std::move(file), path, std::min(size, limit)));
  HANSHIRO_ASSIGN_OR_RETURN(bool whole, r->Ensure(0, kSegmentHeaderSize));
  if (!whole) return Status::NotFound(path + ": shorter than a segment header");
  std::string_view h(r->At(0), kSegmentHeaderSize);
  if (h.find_first_not_of('\0') == std::string_view::npos) {
    // The header is fsynced before any record is written, so zeros there
    // are a torn creation only when nothing follows them.
    if (size == kSegmentHeaderSize) return Status::NotFound(path + ": header is all zero bytes");
    return Status::Corruption(path +
                              ": header is all zero bytes but records follow, at offset 0 [WAL-1]");
  }
  if (h.substr(0, kSegmentMagic.size()) != kSegmentMagic) {
    return Status::Corruption(path + ": not a WAL segment (bad magic) at offset 0 [WAL-1]");
  }
  const uint32_t crc = crc32c::Unmask(DecodeFixed32(h.data() + kSegmentHeaderSize - 4));
  if (crc != crc32c::Value(h.data(), kSegmentHeaderSize - 4)) {
    return Status::Corruption(path + ": segment header checksum mismatch at offset 0 [WAL-2]");
  }
  if (DecodeFixed32(h.data() + 8) != kSegmentVersion) {
    return Status::Corruption(path + ": unsupported segment version [WAL-3]");
  }
  SegmentHeader& hd = r->header_;
  hd.hash_algorithm = DecodeFixed32(h.data() + 12);
  hd.number = DecodeFixed64(h.data() + 16);
  hd.first_seq = DecodeFixed64(h.data() + 24);
  std::memcpy(hd.root.bytes.data(), h.data() + 32, Hash256::kSize);
  if (hd.hash_algorithm != kHashNone && hd.hash_algorithm != kHashBlake3) {
    return Status::Corruption(path + ": unknown hash algorithm [WAL-3]");
  }
  return r;
}

Result<bool> SegmentReader::Ensure(uint64_t pos, size_t n) {
  if (pos + n > size_) return false;
  if (pos >= buf_start_ && pos + n <= buf_start_ + buf_.size()) return true;
  const size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(n, kReadChunk), size_ - pos));
  buf_.resize(want);
  std::string_view got;
  HANSHIRO_RETURN_IF_ERROR(file_->Read(pos, want, &got, buf_.data()));
  if (got.size() != want) {
    return Status::IOError(fmt::format("{}: short read at offset {}", path_, pos));
  }
  if (got.data() != buf_.data()) std::memmove(buf_.data(), got.data(), want);
  buf_start_ = pos;
  return true;
}

SegmentReader::Outcome SegmentReader::Next(RecordView* record, std::string* why) {
  if (pos_ == size_) return Outcome::kEnd;
  auto have = Ensure(pos_, kRecordHeaderSize);
  if (!have.ok()) {
    *why = have.status().ToString();
    return Outcome::kBad;
  }
  if (!*have) return Outcome::kTruncated;
  const char* p = At(pos_);
  const uint32_t length = DecodeFixed32(p + kLengthOffset);
  if (length > kMaxPayloadBytes) {
    *why = fmt::format("record length {} exceeds the limit {} [WAL-6]", length, kMaxPayloadBytes);
    return Outcome::kBad;
  }
  have = Ensure(pos_, kRecordHeaderSize + length);
  if (!have.ok()) {
    *why = have.status().ToString();
    return Outcome::kBad;
  }
  if (!*have) return Outcome::kTruncated;
  p = At(pos_);
  if (crc32c::Unmask(DecodeFixed32(p)) != RecordCrc(p, length)) {
    *why = "record checksum mismatch [WAL-5]";
    return Outcome::kBad;
  }
  const uint8_t kind = static_cast<uint8_t>(p[kKindOffset]);
  if (!IsLeafKind(kind) && kind != static_cast<uint8_t>(Kind::kCommit)) {
    *why = fmt::format("unknown record kind {} [WAL-8]", kind);
    return Outcome::kBad;
  }
  record->offset = pos_;
  record->seq = DecodeFixed64(p + kCrcSize);
  record->kind = kind;
  record->payload = {p + kRecordHeaderSize, length};
  record->leaf_input = {p + kCrcSize, kRecordHeaderSize - kCrcSize + length};
  pos_ += kRecordHeaderSize + length;
  return Outcome::kRecord;
}

Result<bool> SegmentReader::CommitRecordAfter(uint64_t damaged) {
  // Every byte after the damage is a candidate: a damaged length field must
  // not hide the committed records behind it. The price: a commit record
  // forged inside an event's payload, in a record a crash then tears, makes
  // that crash look like corruption. That fails safe (the log opens
  // read-only, saying where), where skipping by a length field could drop
  // acknowledged records silently.
  const uint8_t commit = static_cast<uint8_t>(Kind::kCommit);
  for (uint64_t pos = damaged + 1; pos + kRecordHeaderSize <= size_; ++pos) {
    HANSHIRO_ASSIGN_OR_RETURN(bool have, Ensure(pos, kRecordHeaderSize));
    if (!have) break;
    const char* p = At(pos);
    const uint32_t length = DecodeFixed32(p + kLengthOffset);
    if (static_cast<uint8_t>(p[kKindOffset]) != commit ||
        (length != 0 && length != Hash256::kSize)) {
      continue;
    }
    HANSHIRO_ASSIGN_OR_RETURN(have, Ensure(pos, kRecordHeaderSize + length));
    if (!have) break;
    p = At(pos);
    if (crc32c::Unmask(DecodeFixed32(p)) == RecordCrc(p, length)) return true;
  }
  return false;
}

}  // namespace hanshiro::wal
