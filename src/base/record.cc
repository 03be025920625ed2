#include "base/record.h"

#include <cstring>

#include "base/coding.h"
#include "base/record_format.h"

namespace hanshiro::record {
namespace {

// ---------------------------------------------------------------------------
// Validate

class Validator {
 public:
  Status status() const { return status_; }

  void Check(std::string_view field, const char* why) {
    if (why != nullptr && status_.ok()) {
      status_ = Status::InvalidArgument(std::string(field) + ": " + why);
    }
  }
  void Texts(std::string_view field, const std::vector<std::string>& items) {
    Check(field, CheckListSize(items.size()));
    for (size_t i = 0; i < items.size(); ++i) {
      if (const char* why = CheckText(items[i])) {
        Check(std::string(field) + "[" + std::to_string(i) + "]", why);
      }
    }
  }

 private:
  Status status_;
};

Status ValidateEvent(const Event& e) {
  Validator v;
  v.Check("event.event_time_ns", CheckTime(e.event_time_ns));
  v.Check("event.ingest_time_ns", CheckTime(e.ingest_time_ns));
  const auto code = static_cast<uint8_t>(e.type.code);
  if (e.type.code == EventTypeCode::kCustom) {
    v.Check("event.type", CheckCustomTypeName(e.type.custom_name));
  } else {
    v.Check("event.type",
            code == 0 || code > kMaxNamedEventTypeCode ? "unknown type code" : nullptr);
    v.Check("event.type", e.type.custom_name.empty() ? nullptr : "named type with a custom name");
  }
  v.Check("event.source.host", CheckText(e.source.host));
  v.Check("event.source.collector", CheckText(e.source.collector));
  const auto format = static_cast<uint8_t>(e.source.format);
  v.Check("event.source.format",
          format == 0 || format > kMaxIngestionFormat ? "unknown ingestion format" : nullptr);
  v.Check("event.metadata", CheckListSize(e.metadata.size()));
  for (const auto& [key, value] : e.metadata) {
    if (const char* why = CheckNonEmptyText(key)) v.Check("event.metadata key '" + key + "'", why);
    if (const char* why = CheckText(value)) v.Check("event.metadata['" + key + "']", why);
  }
  v.Check("event.vector", CheckVector(e.vector));
  return v.status();
}

Status ValidateCode(const CodeArtifact& c) {
  Validator v;
  v.Check("code.first_seen_ns", CheckTime(c.first_seen_ns));
  v.Check("code.file_type",
          static_cast<uint8_t>(c.file_type) > kMaxFileType ? "unknown file type" : nullptr);
  v.Check("code.capabilities",
          (c.capabilities.bits() & ~kAllCapabilityBits) != 0 ? "unknown capability bit" : nullptr);
  v.Texts("code.file_names", c.file_names);
  v.Texts("code.imports", c.imports);
  v.Texts("code.strings", c.strings);
  v.Check("code.related_log_ids", CheckListSize(c.related_log_ids.size()));
  v.Check("code.vector", CheckVector(c.vector));
  return v.status();
}

Status ValidateIndex(const IndexEntry& x) {
  Validator v;
  v.Check("index.time_ns", CheckTime(x.time_ns));
  v.Check("index.field", CheckNonEmptyText(x.field));
  v.Check("index.value", CheckText(x.value));
  v.Check("index.refs", CheckListSize(x.refs.size()));
  return v.status();
}

// ---------------------------------------------------------------------------
// Encode

void PutId(std::string* out, const EventId& id) {
  char buf[kIdBytes];
  id.EncodeTo(buf);
  out->append(buf, sizeof(buf));
}

void PutTime(std::string* out, int64_t t) { PutFixed64(out, static_cast<uint64_t>(t)); }

void PutIds(std::string* out, const std::vector<EventId>& ids) {
  PutVarint64(out, ids.size());
  for (const EventId& id : ids) PutId(out, id);
}

void PutTexts(std::string* out, const std::vector<std::string>& items) {
  PutVarint64(out, items.size());
  for (const std::string& s : items) PutLengthPrefixed(out, s);
}

void PutVector(std::string* out, const std::vector<float>& v) {
  PutVarint64(out, v.size());
  for (float x : v) {
    uint32_t bits;
    std::memcpy(&bits, &x, sizeof(bits));
    PutFixed32(out, IsNegativeZero(x) ? 0u : bits);  // [REC-12]
  }
}

void EncodeEvent(const Event& e, std::string* out) {
  PutId(out, e.id);
  PutTime(out, e.event_time_ns);
  PutTime(out, e.ingest_time_ns);
  out->push_back(static_cast<char>(e.type.code));
  if (e.type.code == EventTypeCode::kCustom) PutLengthPrefixed(out, e.type.custom_name);
  PutLengthPrefixed(out, e.source.host);
  if (!e.source.ip) {
    out->push_back(static_cast<char>(kIpNone));
  } else {
    const bool v4 = e.source.ip->family() == IpAddress::Family::kV4;
    out->push_back(static_cast<char>(v4 ? kIpV4 : kIpV6));
    out->append(e.source.ip->bytes());
  }
  PutLengthPrefixed(out, e.source.collector);
  out->push_back(static_cast<char>(e.source.format));
  PutLengthPrefixed(out, e.raw_data);
  PutVarint64(out, e.metadata.size());
  for (const auto& [key, value] : e.metadata) {
    PutLengthPrefixed(out, key);
    PutLengthPrefixed(out, value);
  }
  PutVector(out, e.vector);
}

void EncodeCode(const CodeArtifact& c, std::string* out) {
  PutId(out, c.id);
  PutTime(out, c.first_seen_ns);
  out->append(reinterpret_cast<const char*>(c.sha256.data()), c.sha256.size());
  out->push_back(static_cast<char>(c.file_type));
  PutVarint64(out, c.size_bytes);
  PutFixed64(out, c.capabilities.bits());
  PutTexts(out, c.file_names);
  PutTexts(out, c.imports);
  PutTexts(out, c.strings);
  PutIds(out, c.related_log_ids);
  PutVector(out, c.vector);
}

void EncodeIndex(const IndexEntry& x, std::string* out) {
  PutId(out, x.id);
  PutTime(out, x.time_ns);
  PutLengthPrefixed(out, x.field);
  PutLengthPrefixed(out, x.value);
  PutIds(out, x.refs);
}

// ---------------------------------------------------------------------------
// Decode

}  // namespace

Status Validate(const Value& value) {
  switch (KindOf(value)) {
    case ValueKind::kLog:
      return ValidateEvent(std::get<Event>(value));
    case ValueKind::kCode:
      return ValidateCode(std::get<CodeArtifact>(value));
    case ValueKind::kIndex:
      return ValidateIndex(std::get<IndexEntry>(value));
  }
  return Status::InvalidArgument("unknown value kind");
}

Status Encode(const Value& value, std::string* out) {
  HANSHIRO_RETURN_IF_ERROR(Validate(value));
  const size_t start = out->size();
  out->push_back(static_cast<char>(kFormatVersion));
  out->push_back(static_cast<char>(KindOf(value)));
  if (const auto* e = std::get_if<Event>(&value)) {
    EncodeEvent(*e, out);
  } else if (const auto* c = std::get_if<CodeArtifact>(&value)) {
    EncodeCode(*c, out);
  } else {
    EncodeIndex(std::get<IndexEntry>(value), out);
  }
  if (out->size() - start > kMaxRecordBytes) {  // [REC-2]
    out->resize(start);
    return Status::InvalidArgument("record: encoding exceeds " + std::to_string(kMaxRecordBytes) +
                                   " bytes");
  }
  return Status();
}

}  // namespace hanshiro::record
