// record::Decode: untrusted bytes to a Value, checking every rule of
// docs/format/record.md and naming the field and offset of the first broken one.
#include <algorithm>
#include <cstring>

#include "base/coding.h"
#include "base/record.h"
#include "base/record_format.h"

namespace hanshiro::record {
namespace {

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
    // Failed: truncated when no final byte (high bit clear) is left to end it;
    // otherwise too long, overflowing or not minimal [REC-16].
    std::string_view rest;
    (void)ByteReader(r_).ReadBytes(std::min(r_.remaining(), kMaxVarint64Bytes), &rest);
    const bool ended = rest.size() == kMaxVarint64Bytes ||
                       std::any_of(rest.begin(), rest.end(),
                                   [](char c) { return (static_cast<uint8_t>(c) & 0x80) == 0; });
    return ended ? Fail(field, at, "malformed varint (overlong, overflowing or not minimal)")
                 : Truncated(field);
  }

  // A length-prefixed byte string, copied into *out; *at is where it starts.
  Status Bytes(const Field& field, std::string* out, size_t* at) {
    *at = r_.offset();
    uint64_t n = 0;
    HANSHIRO_RETURN_IF_ERROR(Varint(field.With(" length"), &n));
    std::string_view bytes;
    if (n > r_.remaining() || !r_.ReadBytes(static_cast<size_t>(n), &bytes)) {
      return Fail(field, *at,
                  "length " + std::to_string(n) + " exceeds the " + std::to_string(r_.remaining()) +
                      " bytes left");
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

  // An element count, bounded by the list limit and by the bytes left, so no
  // count can make the decoder allocate much more than the input [REC-4].
  Status Count(const Field& field, size_t min_element_bytes, size_t* n) {
    const size_t at = r_.offset();
    uint64_t count = 0;
    HANSHIRO_RETURN_IF_ERROR(Varint(field, &count));
    if (const char* why = CheckListSize(count)) return Fail(field, at, why);
    if (count > r_.remaining() / min_element_bytes) {
      return Fail(field, at,
                  "count " + std::to_string(count) + " exceeds what the " +
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

  Status Vector(const Field& field, std::vector<float>* out) {
    const size_t at = r_.offset();
    size_t dim = 0;
    HANSHIRO_RETURN_IF_ERROR(Count(field.With(" dimension"), 4, &dim));
    if (dim > kMaxVectorDim) return Fail(field, at, "dimension over 4096");  // [REC-12]
    out->resize(dim);
    for (size_t i = 0; i < dim; ++i) {
      const size_t element_at = r_.offset();
      uint32_t bits = 0;
      (void)r_.ReadFixed32(&bits);  // cannot fail: Count checked that 4 * dim bytes remain
      float& x = (*out)[i];
      std::memcpy(&x, &bits, sizeof(bits));
      const char* why = CheckVectorElement(x, /*allow_negative_zero=*/false);
      if (why != nullptr) return Fail(Field(field.name, static_cast<int64_t>(i)), element_at, why);
    }
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
  HANSHIRO_RETURN_IF_ERROR(r.Count(Field("event.metadata", -1, " count"), 3, &n));
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
  HANSHIRO_RETURN_IF_ERROR(r.Text("index.field", &x->field, CheckNonEmptyText));  // [REC-17]
  HANSHIRO_RETURN_IF_ERROR(r.Text("index.value", &x->value));
  return r.Ids("index.refs", &x->refs);
}

}  // namespace

Result<Value> Decode(std::string_view bytes) {
  FieldReader r(bytes);
  if (bytes.size() > kMaxRecordBytes) {  // [REC-2]
    return r.Fail("size", 0,
                  std::to_string(bytes.size()) + " bytes exceeds the " +
                      std::to_string(kMaxRecordBytes) + "-byte limit");
  }
  uint8_t version = 0;
  uint8_t kind = 0;
  HANSHIRO_RETURN_IF_ERROR(r.U8("version", &version));
  if (version != kFormatVersion) {  // [REC-1]
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
