#include "server/wire.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/coding.h"
#include "base/record.h"
#include "base/record_format.h"

namespace hanshiro::server::wire {

Result<std::vector<Value>> DecodeRequest(std::string_view body, ValueKind kind) {
  if (body.size() < kMagic.size() + 4 || body.substr(0, kMagic.size()) != kMagic) {
    return Status::InvalidArgument("binary body: does not start with HSWIRE01 [WIRE-1]");
  }
  ByteReader r(body.substr(kMagic.size()));
  uint32_t count = 0;
  (void)r.ReadFixed32(&count);
  if (count == 0 || count > kMaxCount) {
    return Status::InvalidArgument(fmt::format("binary body: count {} is not 1..{} [WIRE-1]", count, kMaxCount));
  }
  std::vector<Value> values;
  values.reserve(std::min<size_t>(count, r.remaining() / 4));  // a 12-byte body cannot claim 100000
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t length = 0;
    std::string_view bytes;
    if (!r.ReadFixed32(&length) || length > record::kMaxRecordBytes || !r.ReadBytes(length, &bytes)) {
      return Status::InvalidArgument(fmt::format("binary body: record {} runs past the body [WIRE-2]", i));
    }
    auto value = record::Decode(bytes);
    if (!value.ok()) {
      return Status::InvalidArgument(fmt::format("binary body: record {}: {} [WIRE-3]", i, value.status().message()));
    }
    if (KindOf(*value) != kind) {
      return Status::InvalidArgument(fmt::format("binary body: record {} is a {}, not a {} [WIRE-3]", i,
                                                 ValueKindName(KindOf(*value)), ValueKindName(kind)));
    }
    values.push_back(std::move(value).value());
  }
  if (!r.empty()) return Status::InvalidArgument("binary body: bytes after the last record [WIRE-2]");
  return values;
}

std::string EncodeRequest(const std::vector<std::string>& records) {
  std::string out(kMagic);
  PutFixed32(&out, static_cast<uint32_t>(records.size()));
  for (const std::string& rec : records) {
    PutFixed32(&out, static_cast<uint32_t>(rec.size()));
    out += rec;
  }
  return out;
}

std::string EncodeResponse(const std::vector<EventId>& ids) {
  std::string out(kMagic);
  PutFixed32(&out, static_cast<uint32_t>(ids.size()));
  for (const EventId& id : ids) {
    char b[16];
    id.EncodeTo(b);
    out.append(b, 16);
  }
  return out;
}

}  // namespace hanshiro::server::wire
