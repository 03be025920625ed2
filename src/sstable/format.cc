#include "sstable/format.h"

#include <cstring>

#include <fmt/format.h>

#include "base/coding.h"
#include "base/crc32c.h"

namespace hanshiro::sstable {

namespace {

void PutHandle(std::string* out, const BlockHandle& h) {
  PutFixed64(out, h.offset);
  PutFixed64(out, h.size);
}

BlockHandle GetHandle(const char* p) { return {DecodeFixed64(p), DecodeFixed64(p + 8)}; }

bool ValidPrefix(std::string_view key) {
  const auto prefix = static_cast<uint8_t>(key[0]);
  return prefix >= 1 && prefix <= 3;
}

}  // namespace

std::string TableName(uint64_t number) { return fmt::format("table {:06d}", number); }
std::string TableFileName(uint64_t number) { return fmt::format("{:06d}.sst", number); }

void Footer::EncodeTo(std::string* out) const {
  const size_t start = out->size();
  out->append(kMagic);
  PutFixed32(out, kVersion);
  PutFixed32(out, id_block_entries);
  PutFixed64(out, entries);
  PutFixed64(out, data_blocks);
  out->append(min_key);
  out->append(max_key);
  PutFixed64(out, static_cast<uint64_t>(min_time));
  PutFixed64(out, static_cast<uint64_t>(max_time));
  PutFixed64(out, min_seq);
  PutFixed64(out, max_seq);
  out->append(reinterpret_cast<const char*>(min_id.data()), kIdSize);
  out->append(reinterpret_cast<const char*>(max_id.data()), kIdSize);
  PutHandle(out, ids);
  PutHandle(out, id_index);
  PutHandle(out, filter);
  PutHandle(out, index);
  out->append(24, '\0');
  PutFixed32(out, crc32c::Mask(crc32c::Value(out->data() + start, out->size() - start)));
  HANSHIRO_CHECK(out->size() - start == kFooterSize);
}

Result<Footer> Footer::Decode(std::string_view b, std::string_view where) {
  auto bad = [&](std::string_view what) {
    return Status::Corruption(fmt::format("{}: footer: {}", where, what));
  };
  if (b.size() != kFooterSize) return bad("file shorter than a footer [SST-1]");
  const char* p = b.data();
  if (b.substr(0, 8) != kMagic) return bad("bad magic (not a table, or truncated) [SST-1]");
  if (DecodeFixed32(p + 8) != kVersion) {
    return bad(fmt::format("unsupported version {} [SST-1]", DecodeFixed32(p + 8)));
  }
  if (crc32c::Unmask(DecodeFixed32(p + 234)) != crc32c::Value(p, 234)) {
    return bad("checksum mismatch [SST-1]");
  }
  for (size_t i = 210; i < 234; ++i) {
    if (p[i] != 0) return bad("reserved bytes not zero [SST-1]");
  }
  Footer f;
  f.id_block_entries = DecodeFixed32(p + 12);
  f.entries = DecodeFixed64(p + 16);
  f.data_blocks = DecodeFixed64(p + 24);
  f.min_key.assign(p + 32, kKeySize);
  f.max_key.assign(p + 57, kKeySize);
  f.min_time = static_cast<int64_t>(DecodeFixed64(p + 82));
  f.max_time = static_cast<int64_t>(DecodeFixed64(p + 90));
  f.min_seq = DecodeFixed64(p + 98);
  f.max_seq = DecodeFixed64(p + 106);
  std::memcpy(f.min_id.data(), p + 114, kIdSize);
  std::memcpy(f.max_id.data(), p + 130, kIdSize);
  f.ids = GetHandle(p + 146);
  f.id_index = GetHandle(p + 162);
  f.filter = GetHandle(p + 178);
  f.index = GetHandle(p + 194);
  if (f.id_block_entries == 0) return bad("id_block_entries is 0 [SST-3]");
  if (f.entries == 0 || f.data_blocks == 0) return bad("no entries [SST-3]");
  if (f.min_key > f.max_key || f.min_seq > f.max_seq || f.min_time > f.max_time ||
      f.min_id > f.max_id) {
    return bad("a min/max range is reversed [SST-6]");
  }
  if (!ValidPrefix(f.min_key) || !ValidPrefix(f.max_key)) return bad("key prefix [SST-6]");
  return f;
}

}  // namespace hanshiro::sstable
