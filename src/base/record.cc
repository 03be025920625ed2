#include "base/record.h"

#include <simdjson.h>

#include <cmath>
#include <cstring>

#include "base/coding.h"
#include "base/record_format.h"

namespace hanshiro::record {
namespace {

// ---------------------------------------------------------------------------
// Rules shared by Validate and Decode. Each returns nullptr when the rule
// holds, or why it does not.

const char* CheckTime(int64_t t) { return t < 0 ? "time is negative" : nullptr; }  // [REC-5]

const char* CheckText(std::string_view s) {  // [REC-6]
  return simdjson::validate_utf8(s.data(), s.size()) ? nullptr : "not valid UTF-8";
}

const char* CheckNonEmptyText(std::string_view s) {
  return s.empty() ? "empty" : CheckText(s);
}

const char* CheckCustomTypeName(std::string_view name) {  // [REC-8]
  if (name.empty()) return "custom event type name is empty";
  if (name.size() > kMaxCustomEventTypeBytes) return "custom event type name is over 128 bytes";
  if (const char* why = CheckText(name)) return why;
  if (EventType::FromName(name).code != EventTypeCode::kCustom) {
    return "custom event type name is the name of a named type";
  }
  return nullptr;
}

const char* CheckVector(const std::vector<float>& v) {  // [REC-12]
  if (v.size() > kMaxVectorDim) return "dimension over 4096";
  for (float x : v) {
    if (!std::isfinite(x)) return "element is not finite";
  }
  return nullptr;
}

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
    v.Check("event.type", code == 0 || code > kMaxNamedEventTypeCode ? "unknown type code" : nullptr);
    v.Check("event.type", e.type.custom_name.empty() ? nullptr : "named type with a custom name");
  }
  v.Check("event.source.host", CheckText(e.source.host));
  v.Check("event.source.collector", CheckText(e.source.collector));
  const auto format = static_cast<uint8_t>(e.source.format);
  v.Check("event.source.format",
          format == 0 || format > kMaxIngestionFormat ? "unknown ingestion format" : nullptr);
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
  v.Check("code.vector", CheckVector(c.vector));
  return v.status();
}

Status ValidateIndex(const IndexEntry& x) {
  Validator v;
  v.Check("index.time_ns", CheckTime(x.time_ns));
  v.Check("index.field", CheckNonEmptyText(x.field));
  v.Check("index.value", CheckText(x.value));
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
    PutFixed32(out, bits);
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

// Names a field for error messages: "event.metadata" [3] ".key". Rendered
// only when something fails, so decoding valid records builds no strings.
struct Field {
  Field(const char* name) : name(name) {}  // NOLINT(google-explicit-constructor)
  Field(const char* name, int64_t index, const char* suffix = "")
      : name(name), index(index), suffix(suffix) {}
  std::string str() const {
    std::string out(name);
    if (index >= 0) {
      out += '[';
      out += std::to_string(index);
      out += ']';
    }
    out += suffix;
    return out;
  }
  Field With(const char* new_suffix) const { return Field(name, index, new_suffix); }

  const char* name;
  int64_t index = -1;
  const char* suffix = "";
};

// Reads fields from untrusted bytes; every failure names the field and the
// offset where it starts.
class FieldReader {
 public:
  explicit FieldReader(std::string_view in) : r_(in) {}

  Status Fail(const Field& field, size_t offset, std::string_view why) const {
    return Status::Corruption("record: " + field.str() + " at offset " + std::to_string(offset) +
                              ": " + std::string(why));
  }
  Status Truncated(const Field& field) const { return Fail(field, r_.offset(), "truncated"); }

  Status U8(const Field& field, uint8_t* v) { return r_.ReadU8(v) ? Status() : Truncated(field); }

  Status Id(const Field& field, EventId* id) {
    std::string_view raw;
    if (!r_.ReadBytes(kIdBytes, &raw)) return Truncated(field);
    *id = EventId::DecodeFrom(raw.data());
    return Status();
  }

  Status Time(const Field& field, int64_t* t) {
    const size_t at = r_.offset();
    uint64_t raw = 0;
    if (!r_.ReadFixed64(&raw)) return Truncated(field);
    *t = static_cast<int64_t>(raw);
    if (const char* why = CheckTime(*t)) return Fail(field, at, why);
    return Status();
  }

  Status Fixed64(const Field& field, uint64_t* v) {
    return r_.ReadFixed64(v) ? Status() : Truncated(field);
  }

  Status Varint(const Field& field, uint64_t* v) {
    const size_t at = r_.offset();
    if (r_.ReadVarint64(v)) return Status();
    return r_.remaining() >= kMaxVarint64Bytes ? Fail(field, at, "malformed varint")
                                               : Truncated(field);
  }

  // A length-prefixed byte string, copied into *out; *at is where it starts.
  Status Bytes(const Field& field, std::string* out, size_t* at) {
    *at = r_.offset();
    uint64_t n = 0;
    HANSHIRO_RETURN_IF_ERROR(Varint(field.With(" length"), &n));
    std::string_view bytes;
    if (n > r_.remaining() || !r_.ReadBytes(static_cast<size_t>(n), &bytes)) {
      return Fail(field, *at, "length " + std::to_string(n) + " exceeds the " +
                                  std::to_string(r_.remaining()) + " bytes left");
    }
    out->assign(bytes.data(), bytes.size());
    return Status();
  }

  // A length-prefixed UTF-8 string that satisfies `rule`.
  Status Text(const Field& field, std::string* out,
              const char* (*rule)(std::string_view) = CheckText) {
    size_t at = 0;
    HANSHIRO_RETURN_IF_ERROR(Bytes(field, out, &at));
    if (const char* why = rule(*out)) return Fail(field, at, why);
    return Status();
  }

  // An element count, bounded by the bytes left so no count can make the
  // decoder allocate more than the input could hold [REC-4].
  Status Count(const Field& field, size_t min_element_bytes, size_t* n) {
    const size_t at = r_.offset();
    uint64_t count = 0;
    HANSHIRO_RETURN_IF_ERROR(Varint(field, &count));
    if (count > r_.remaining() / min_element_bytes) {
      return Fail(field, at, "count " + std::to_string(count) + " exceeds what the " +
                                 std::to_string(r_.remaining()) + " bytes left can hold");
    }
    *n = static_cast<size_t>(count);
    return Status();
  }

  Status Texts(const char* field, std::vector<std::string>* out) {
    size_t n = 0;
    HANSHIRO_RETURN_IF_ERROR(Count(Field(field, -1, " count"), 1, &n));
    out->resize(n);
    for (size_t i = 0; i < n; ++i) {
      HANSHIRO_RETURN_IF_ERROR(Text(Field(field, static_cast<int64_t>(i)), &(*out)[i]));
    }
    return Status();
  }

  Status Ids(const char* field, std::vector<EventId>* out) {
    size_t n = 0;
    HANSHIRO_RETURN_IF_ERROR(Count(Field(field, -1, " count"), kIdBytes, &n));
    out->resize(n);
    for (size_t i = 0; i < n; ++i) {
      HANSHIRO_RETURN_IF_ERROR(Id(Field(field, static_cast<int64_t>(i)), &(*out)[i]));
    }
    return Status();
  }

  Status Vector(const char* field, std::vector<float>* out) {
    const size_t at = r_.offset();
    size_t dim = 0;
    HANSHIRO_RETURN_IF_ERROR(Count(Field(field, -1, " dimension"), 4, &dim));
    if (dim > kMaxVectorDim) return Fail(field, at, "dimension over 4096");
    out->resize(dim);
    for (size_t i = 0; i < dim; ++i) {
      uint32_t bits = 0;
      r_.ReadFixed32(&bits);  // cannot fail: Count checked that 4 * dim bytes remain
      std::memcpy(&(*out)[i], &bits, sizeof(bits));
    }
    if (const char* why = CheckVector(*out)) return Fail(field, at, why);
    return Status();
  }

  Status IpField(const Field& field, std::optional<IpAddress>* ip) {
    const size_t at = r_.offset();
    uint8_t family = 0;
    HANSHIRO_RETURN_IF_ERROR(U8(field, &family));
    if (family == kIpNone) {
      ip->reset();
      return Status();
    }
    if (family != kIpV4 && family != kIpV6) {  // [REC-9]
      return Fail(field, at, "unknown address family " + std::to_string(family));
    }
    std::string_view raw;
    if (!r_.ReadBytes(family == kIpV4 ? 4 : 16, &raw)) return Truncated(field);
    if (family == kIpV4) {
      std::array<uint8_t, 4> b;
      std::memcpy(b.data(), raw.data(), b.size());
      *ip = IpAddress::V4(b);
    } else {
      std::array<uint8_t, 16> b;
      std::memcpy(b.data(), raw.data(), b.size());
      *ip = IpAddress::V6(b);
    }
    return Status();
  }

  Status Sha256(const Field& field, std::array<uint8_t, 32>* out) {
    std::string_view raw;
    if (!r_.ReadBytes(kSha256Bytes, &raw)) return Truncated(field);
    std::memcpy(out->data(), raw.data(), kSha256Bytes);
    return Status();
  }

  size_t offset() const { return r_.offset(); }
  size_t remaining() const { return r_.remaining(); }

 private:
  ByteReader r_;
};

Status DecodeEventType(FieldReader& r, EventType* type) {
  const size_t at = r.offset();
  uint8_t code = 0;
  HANSHIRO_RETURN_IF_ERROR(r.U8("event.type", &code));
  type->code = static_cast<EventTypeCode>(code);
  type->custom_name.clear();
  if (type->code == EventTypeCode::kCustom) {
    return r.Text("event.type name", &type->custom_name, CheckCustomTypeName);
  }
  if (code == 0 || code > kMaxNamedEventTypeCode) {  // [REC-7]
    return r.Fail("event.type", at, "unknown type code " + std::to_string(code));
  }
  return Status();
}

Status DecodeMetadata(FieldReader& r, std::map<std::string, std::string>* metadata) {
  size_t n = 0;
  HANSHIRO_RETURN_IF_ERROR(r.Count(Field("event.metadata", -1, " count"), 2, &n));
  metadata->clear();
  std::string key;
  std::string value;
  for (size_t i = 0; i < n; ++i) {
    const Field key_field("event.metadata", static_cast<int64_t>(i), ".key");
    const size_t at = r.offset();
    HANSHIRO_RETURN_IF_ERROR(r.Text(key_field, &key, CheckNonEmptyText));
    if (!metadata->empty() && key <= metadata->rbegin()->first) {  // [REC-11]
      return r.Fail(key_field, at, "keys not in strictly ascending byte order");
    }
    HANSHIRO_RETURN_IF_ERROR(r.Text(key_field.With(".value"), &value));
    metadata->emplace_hint(metadata->end(), std::move(key), std::move(value));
  }
  return Status();
}

Status DecodeEvent(FieldReader& r, Event* e) {
  HANSHIRO_RETURN_IF_ERROR(r.Id("event.id", &e->id));
  HANSHIRO_RETURN_IF_ERROR(r.Time("event.event_time_ns", &e->event_time_ns));
  HANSHIRO_RETURN_IF_ERROR(r.Time("event.ingest_time_ns", &e->ingest_time_ns));
  HANSHIRO_RETURN_IF_ERROR(DecodeEventType(r, &e->type));
  HANSHIRO_RETURN_IF_ERROR(r.Text("event.source.host", &e->source.host));
  HANSHIRO_RETURN_IF_ERROR(r.IpField("event.source.ip", &e->source.ip));
  HANSHIRO_RETURN_IF_ERROR(r.Text("event.source.collector", &e->source.collector));
  const size_t at = r.offset();
  uint8_t format = 0;
  HANSHIRO_RETURN_IF_ERROR(r.U8("event.source.format", &format));
  if (format == 0 || format > kMaxIngestionFormat) {  // [REC-10]
    return r.Fail("event.source.format", at, "unknown ingestion format " + std::to_string(format));
  }
  e->source.format = static_cast<IngestionFormat>(format);
  size_t raw_at = 0;
  HANSHIRO_RETURN_IF_ERROR(r.Bytes("event.raw_data", &e->raw_data, &raw_at));
  HANSHIRO_RETURN_IF_ERROR(DecodeMetadata(r, &e->metadata));
  return r.Vector("event.vector", &e->vector);
}

Status DecodeCode(FieldReader& r, CodeArtifact* c) {
  HANSHIRO_RETURN_IF_ERROR(r.Id("code.id", &c->id));
  HANSHIRO_RETURN_IF_ERROR(r.Time("code.first_seen_ns", &c->first_seen_ns));
  HANSHIRO_RETURN_IF_ERROR(r.Sha256("code.sha256", &c->sha256));
  size_t at = r.offset();
  uint8_t file_type = 0;
  HANSHIRO_RETURN_IF_ERROR(r.U8("code.file_type", &file_type));
  if (file_type > kMaxFileType) {  // [REC-13]
    return r.Fail("code.file_type", at, "unknown file type " + std::to_string(file_type));
  }
  c->file_type = static_cast<FileType>(file_type);
  HANSHIRO_RETURN_IF_ERROR(r.Varint("code.size_bytes", &c->size_bytes));
  at = r.offset();
  uint64_t caps = 0;
  HANSHIRO_RETURN_IF_ERROR(r.Fixed64("code.capabilities", &caps));
  if (caps & ~kAllCapabilityBits) {  // [REC-14]
    return r.Fail("code.capabilities", at, "unknown capability bit");
  }
  c->capabilities = Capabilities(caps);
  HANSHIRO_RETURN_IF_ERROR(r.Texts("code.file_names", &c->file_names));
  HANSHIRO_RETURN_IF_ERROR(r.Texts("code.imports", &c->imports));
  HANSHIRO_RETURN_IF_ERROR(r.Texts("code.strings", &c->strings));
  HANSHIRO_RETURN_IF_ERROR(r.Ids("code.related_log_ids", &c->related_log_ids));
  return r.Vector("code.vector", &c->vector);
}

Status DecodeIndex(FieldReader& r, IndexEntry* x) {
  HANSHIRO_RETURN_IF_ERROR(r.Id("index.id", &x->id));
  HANSHIRO_RETURN_IF_ERROR(r.Time("index.time_ns", &x->time_ns));
  HANSHIRO_RETURN_IF_ERROR(r.Text("index.field", &x->field, CheckNonEmptyText));
  HANSHIRO_RETURN_IF_ERROR(r.Text("index.value", &x->value));
  return r.Ids("index.refs", &x->refs);
}

}  // namespace

Status Validate(const Value& value) {
  switch (KindOf(value)) {
    case ValueKind::kLog: return ValidateEvent(std::get<Event>(value));
    case ValueKind::kCode: return ValidateCode(std::get<CodeArtifact>(value));
    case ValueKind::kIndex: return ValidateIndex(std::get<IndexEntry>(value));
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
  if (out->size() - start > kMaxRecordBytes) {
    out->resize(start);
    return Status::InvalidArgument("record: encoding exceeds " + std::to_string(kMaxRecordBytes) +
                                   " bytes");
  }
  return Status();
}

Result<Value> Decode(std::string_view bytes) {
  if (bytes.size() > kMaxRecordBytes) {
    return Status::Corruption("record: size " + std::to_string(bytes.size()) + " exceeds the " +
                              std::to_string(kMaxRecordBytes) + "-byte limit");
  }
  FieldReader r(bytes);
  uint8_t version = 0;
  uint8_t kind = 0;
  HANSHIRO_RETURN_IF_ERROR(r.U8("version", &version));
  if (version != kFormatVersion) {
    return r.Fail("version", 0, "unsupported record format version " + std::to_string(version));
  }
  HANSHIRO_RETURN_IF_ERROR(r.U8("kind", &kind));
  Value value;
  Status s;
  switch (kind) {  // [REC-3]
    case static_cast<uint8_t>(ValueKind::kLog):
      s = DecodeEvent(r, &value.emplace<Event>());
      break;
    case static_cast<uint8_t>(ValueKind::kCode):
      s = DecodeCode(r, &value.emplace<CodeArtifact>());
      break;
    case static_cast<uint8_t>(ValueKind::kIndex):
      s = DecodeIndex(r, &value.emplace<IndexEntry>());
      break;
    default:
      return r.Fail("kind", 1, "unknown value kind " + std::to_string(kind));
  }
  HANSHIRO_RETURN_IF_ERROR(s);
  if (r.remaining() != 0) {  // [REC-15]
    return r.Fail("end", r.offset(), std::to_string(r.remaining()) + " trailing bytes");
  }
  return value;
}

}  // namespace hanshiro::record
