#include "base/record.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "base/coding.h"
#include "base/record_format.h"
#include "base/record_test_util.h"

namespace hanshiro::record {
namespace {

using hanshiro::testing::FullArtifact;
using hanshiro::testing::FullEvent;
using hanshiro::testing::FullIndexEntry;
using hanshiro::testing::MinimalEvent;
using hanshiro::testing::SampleValues;

std::string EncodeOrDie(const Value& v) {
  std::string out;
  Status s = Encode(v, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Replaces the only occurrence of `from` in `bytes` with `to`.
std::string Patch(const std::string& bytes, std::string_view from, std::string_view to) {
  const size_t at = bytes.find(from);
  EXPECT_NE(at, std::string::npos) << "pattern not found";
  EXPECT_EQ(bytes.find(from, at + 1), std::string::npos) << "pattern not unique";
  std::string out = bytes;
  out.replace(at, from.size(), to);
  return out;
}

void ExpectRoundTrip(const Value& v) {
  const std::string bytes = EncodeOrDie(v);
  auto decoded = Decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(*decoded == v);
  EXPECT_EQ(EncodeOrDie(*decoded), bytes);  // canonical: one value, one encoding
}

TEST(RecordTest, RoundTripsEverySampleValue) {
  for (const Value& v : SampleValues()) ExpectRoundTrip(v);
}

TEST(RecordTest, RoundTripsEveryEventTypeFormatAndAddressFamily) {
  Event e = FullEvent();
  for (uint8_t t = 1; t <= kMaxNamedEventTypeCode; ++t) {
    e.type = EventType::Named(static_cast<EventTypeCode>(t));
    ExpectRoundTrip(e);
  }
  for (uint8_t f = 1; f <= kMaxIngestionFormat; ++f) {
    e.source.format = static_cast<IngestionFormat>(f);
    ExpectRoundTrip(e);
  }
  e.source.ip = *IpAddress::Parse("2001:db8::dead:beef");
  ExpectRoundTrip(e);
  e.source.ip.reset();
  ExpectRoundTrip(e);
}

TEST(RecordTest, RoundTripsMaximalValues) {
  Event e = FullEvent();
  e.id = EventId(UINT64_MAX, UINT64_MAX);
  e.event_time_ns = std::numeric_limits<int64_t>::max();
  e.ingest_time_ns = std::numeric_limits<int64_t>::max();
  e.type = EventType::Custom(std::string(kMaxCustomEventTypeBytes, 'x'));
  e.raw_data = std::string(1 << 20, '\xab');
  for (int i = 0; i < 1000; ++i) e.metadata["key" + std::to_string(i)] = std::string(100, 'v');
  e.vector.assign(kMaxVectorDim, -0.0f);
  e.vector.back() = std::numeric_limits<float>::max();
  e.vector.front() = std::numeric_limits<float>::denorm_min();
  ExpectRoundTrip(e);

  CodeArtifact c = FullArtifact();
  c.size_bytes = UINT64_MAX;
  c.capabilities = Capabilities(kAllCapabilityBits);
  c.file_type = static_cast<FileType>(kMaxFileType);
  c.strings.assign(5000, "s");
  ExpectRoundTrip(c);
}

// Random valid values of every kind: text mixing 1- to 4-byte UTF-8
// sequences, random bytes, lists and vectors of random sizes.
class RandomValues {
 public:
  explicit RandomValues(uint64_t seed) : rng_(seed) {}

  Value Next() {
    switch (Below(3)) {
      case 0:
        return NextEvent();
      case 1:
        return NextArtifact();
      default:
        return NextIndexEntry();
    }
  }

 private:
  uint64_t Below(uint64_t n) { return rng_() % n; }
  int64_t Time() { return static_cast<int64_t>(rng_() >> 1); }
  EventId Id() { return EventId(rng_(), rng_()); }

  std::string Text(size_t max_chars) {
    static const char* const kPieces[] = {
        "a", "Z", "0", " ", "\"", "\\", "\n", "\xC3\xA9", "\xE6\x9D\xB1", "\xF0\x9F\x94\x92"};
    std::string s;
    for (size_t n = Below(max_chars + 1); n > 0; --n) s += kPieces[Below(std::size(kPieces))];
    return s;
  }
  std::string Bytes(size_t max) {
    std::string s(Below(max + 1), '\0');
    for (char& c : s) c = static_cast<char>(rng_());
    return s;
  }
  std::vector<std::string> Texts() {
    std::vector<std::string> v(Below(5));
    for (auto& s : v) s = Text(12);
    return v;
  }
  std::vector<EventId> Ids() {
    std::vector<EventId> v(Below(5));
    for (auto& id : v) id = Id();
    return v;
  }
  std::vector<float> Vector() {
    std::vector<float> v(Below(3) == 0 ? 0 : Below(64));
    std::uniform_real_distribution<float> d(-1e6f, 1e6f);
    for (float& x : v) x = d(rng_);
    return v;
  }

  Event NextEvent() {
    Event e;
    e.id = Id();
    e.event_time_ns = Time();
    e.ingest_time_ns = Time();
    e.type = Below(4) == 0 ? EventType::Custom(std::string("Custom") + Text(8))
                           : EventType::Named(static_cast<EventTypeCode>(1 + Below(13)));
    e.source.host = Text(20);
    if (Below(2) == 0) e.source.ip = IpAddress::V4({10, 0, 0, static_cast<uint8_t>(rng_())});
    e.source.collector = Text(10);
    e.source.format = static_cast<IngestionFormat>(1 + Below(kMaxIngestionFormat));
    e.raw_data = Bytes(300);
    for (size_t n = Below(6); n > 0; --n) e.metadata[std::string("k") + Text(6)] = Text(16);
    e.vector = Vector();
    return e;
  }

  CodeArtifact NextArtifact() {
    CodeArtifact c;
    c.id = Id();
    c.first_seen_ns = Time();
    for (auto& b : c.sha256) b = static_cast<uint8_t>(rng_());
    c.file_type = static_cast<FileType>(Below(kMaxFileType + 1));
    c.size_bytes = rng_();
    c.capabilities = Capabilities(rng_() & kAllCapabilityBits);
    c.file_names = Texts();
    c.imports = Texts();
    c.strings = Texts();
    c.related_log_ids = Ids();
    c.vector = Vector();
    return c;
  }

  IndexEntry NextIndexEntry() {
    IndexEntry x;
    x.id = Id();
    x.time_ns = Time();
    x.field = std::string("f") + Text(10);
    x.value = Text(30);
    x.refs = Ids();
    return x;
  }

  std::mt19937_64 rng_;
};

TEST(RecordTest, RoundTripsRandomValues) {
  RandomValues values(20261124);
  for (int i = 0; i < 3000; ++i) {
    SCOPED_TRACE(i);
    ExpectRoundTrip(values.Next());
  }
}

TEST(RecordTest, LayoutStartsWithVersionKindIdAndTime) {
  const Event e = FullEvent();
  const std::string bytes = EncodeOrDie(e);
  ASSERT_GT(bytes.size(), 34u);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), kFormatVersion);
  EXPECT_EQ(static_cast<uint8_t>(bytes[1]), static_cast<uint8_t>(ValueKind::kLog));
  EXPECT_EQ(EventId::DecodeFrom(bytes.data() + 2), e.id);
  EXPECT_EQ(static_cast<int64_t>(DecodeFixed64(bytes.data() + 18)), e.event_time_ns);
  EXPECT_EQ(static_cast<int64_t>(DecodeFixed64(bytes.data() + 26)), e.ingest_time_ns);
}

// ---------------------------------------------------------------------------
// Validation (writes): InvalidArgument naming the field.

void ExpectInvalid(const Value& v, const std::string& field) {
  std::string out = "untouched";
  Status s = Encode(v, &out);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find(field), std::string::npos) << s.message();
  EXPECT_EQ(out, "untouched");
}

TEST(RecordTest, EncodeRejectsInvalidValuesNamingTheField) {
  Event e = FullEvent();
  e.event_time_ns = -1;
  ExpectInvalid(e, "event.event_time_ns");

  e = FullEvent();
  e.source.host = "bad\xff";
  ExpectInvalid(e, "event.source.host");

  e = FullEvent();
  e.metadata[""] = "x";
  ExpectInvalid(e, "event.metadata key");

  e = FullEvent();
  e.metadata["k"] = "\xc3";
  ExpectInvalid(e, "event.metadata['k']");

  e = FullEvent();
  e.type = EventType::Custom("DNSQuery");
  ExpectInvalid(e, "named type");

  e = FullEvent();
  e.type = EventType::Custom("");
  ExpectInvalid(e, "event.type");

  e = FullEvent();
  e.type = EventType::Custom(std::string(kMaxCustomEventTypeBytes + 1, 'x'));
  ExpectInvalid(e, "event.type");

  e = FullEvent();
  e.type.code = static_cast<EventTypeCode>(200);
  ExpectInvalid(e, "event.type");

  e = FullEvent();
  e.source.format = static_cast<IngestionFormat>(0);
  ExpectInvalid(e, "event.source.format");

  e = FullEvent();
  e.vector[1] = std::nanf("");
  ExpectInvalid(e, "event.vector");

  e = FullEvent();
  e.vector.assign(kMaxVectorDim + 1, 1.0f);
  ExpectInvalid(e, "event.vector");

  CodeArtifact c = FullArtifact();
  c.capabilities = Capabilities(1ull << 40);
  ExpectInvalid(c, "code.capabilities");

  c = FullArtifact();
  c.imports.push_back("\xed\xa0\x80");  // UTF-16 surrogate
  ExpectInvalid(c, "code.imports[2]");

  IndexEntry x = FullIndexEntry();
  x.field.clear();
  ExpectInvalid(x, "index.field");
}

// ---------------------------------------------------------------------------
// Decoding untrusted bytes: Corruption naming the field.

void ExpectCorrupt(std::string_view bytes, const std::string& needle) {
  auto r = Decode(bytes);
  ASSERT_FALSE(r.ok()) << "decoded corrupt bytes";
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().message();
}

TEST(RecordTest, EveryTruncationIsCorruption) {
  for (const Value& v : SampleValues()) {
    const std::string bytes = EncodeOrDie(v);
    for (size_t n = 0; n < bytes.size(); ++n) {
      auto r = Decode(std::string_view(bytes).substr(0, n));
      ASSERT_FALSE(r.ok()) << "prefix of " << n << "/" << bytes.size() << " bytes decoded";
      ASSERT_TRUE(r.status().IsCorruption()) << r.status().ToString();
      ASSERT_NE(r.status().message().rfind("record: ", 0), std::string::npos);
    }
  }
}

// Flipping any bit either is detected, or yields a different valid value
// whose canonical encoding is exactly the flipped bytes (e.g. a flipped bit
// inside raw_data). Never a crash, never a silently re-shaped value.
TEST(RecordTest, EveryBitFlipIsDetectedOrCanonical) {
  for (const Value& v : SampleValues()) {
    const std::string bytes = EncodeOrDie(v);
    size_t detected = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string flipped = bytes;
        flipped[i] = static_cast<char>(flipped[i] ^ (1 << bit));
        auto r = Decode(flipped);
        if (!r.ok()) {
          ASSERT_TRUE(r.status().IsCorruption()) << r.status().ToString();
          ++detected;
          continue;
        }
        std::string again;
        ASSERT_TRUE(Encode(*r, &again).ok());
        ASSERT_EQ(again, flipped) << "byte " << i << " bit " << bit;
      }
    }
    EXPECT_GT(detected, 0u);
  }
}

TEST(RecordTest, ReportsSpecificViolations) {  // [REC-1], [REC-3], [REC-15], [REC-5], [REC-7]
  std::string bytes = EncodeOrDie(FullEvent());

  std::string wrong_version = bytes;
  wrong_version[0] = 2;
  ExpectCorrupt(wrong_version, "unsupported record format version 2");

  std::string wrong_kind = bytes;
  wrong_kind[1] = 9;
  ExpectCorrupt(wrong_kind, "unknown value kind 9");

  ExpectCorrupt(bytes + "x", "1 trailing bytes");

  std::string negative_time = bytes;
  negative_time[18 + 7] = static_cast<char>(0x80);
  ExpectCorrupt(negative_time, "event.event_time_ns at offset 18: time is negative");

  std::string bad_type = bytes;
  bad_type[34] = 14;
  ExpectCorrupt(bad_type, "event.type at offset 34: unknown type code 14");
}

TEST(RecordTest, MetadataKeysOutOfOrderAreCorruption) {  // [REC-11]
  Event e = MinimalEvent();
  e.metadata = {{"a", "1"}, {"b", "2"}};
  std::string bytes = EncodeOrDie(e);
  // Swap the single-byte keys "a" and "b" in place.
  const size_t a = bytes.find(
      "\x01"
      "a"
      "\x01"
      "1");
  const size_t b = bytes.find(
      "\x01"
      "b"
      "\x01"
      "2");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  std::swap(bytes[a + 1], bytes[b + 1]);
  ExpectCorrupt(bytes, "event.metadata[1].key");
  ExpectCorrupt(bytes, "strictly ascending");
  // A repeated key is out of order too.
  const std::string dup = Patch(EncodeOrDie(e),
                                "\x01"
                                "b"
                                "\x01"
                                "2",
                                "\x01"
                                "a"
                                "\x01"
                                "2");
  ExpectCorrupt(dup, "event.metadata[1].key");
}

TEST(RecordTest, HugeCountsAreRejectedBeforeAllocating) {  // [REC-4], [REC-12]
  // An index entry whose refs count claims 2^60 ids.
  IndexEntry x = FullIndexEntry();
  x.refs.clear();
  std::string bytes = EncodeOrDie(x);
  ASSERT_EQ(bytes.back(), '\0');  // refs count 0
  bytes.pop_back();
  PutVarint64(&bytes, 1ull << 60);
  ExpectCorrupt(bytes, "index.refs count");

  // A vector dimension beyond 4096 with the bytes to back it.
  Event e = MinimalEvent();
  std::string ev = EncodeOrDie(e);
  ASSERT_EQ(ev.back(), '\0');  // dimension 0
  ev.pop_back();
  PutVarint64(&ev, kMaxVectorDim + 1);
  ev.append(4 * (kMaxVectorDim + 1), '\0');
  ExpectCorrupt(ev, "dimension over 4096");

  // A string length far past the end.
  IndexEntry y = FullIndexEntry();
  std::string ix = EncodeOrDie(y);
  const size_t field_at = 2 + 16 + 8;
  std::string patched = ix.substr(0, field_at);
  PutVarint64(&patched, 1ull << 40);
  patched += ix.substr(field_at + 1);
  ExpectCorrupt(patched, "index.field at offset 26: length 1099511627776 exceeds");
}

TEST(RecordTest, OversizedInputIsCorruption) {  // [REC-2]
  const std::string big(kMaxRecordBytes + 1, '\x01');
  ExpectCorrupt(big, "record: size at offset 0: 16777217 bytes exceeds the 16777216-byte limit");
}

TEST(RecordTest, EncodeRefusesOversizedRecordAndWritesNothing) {  // [REC-2]
  Event e = MinimalEvent();
  e.raw_data.assign(kMaxRecordBytes, 'x');
  std::string out = "keep";
  Status s = Encode(e, &out);
  ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
  EXPECT_NE(s.message().find("exceeds 16777216 bytes"), std::string::npos) << s.message();
  EXPECT_EQ(out, "keep");
}

TEST(RecordTest, EncodeRefusesListsOverTheLimit) {  // [REC-4]
  IndexEntry x = FullIndexEntry();
  x.refs.assign(kMaxListElements + 1, EventId(1, 1));
  ExpectInvalid(x, "index.refs: more than 65536 elements");
  CodeArtifact c = FullArtifact();
  c.strings.assign(kMaxListElements + 1, "");
  ExpectInvalid(c, "code.strings: more than 65536 elements");
  x.refs.assign(kMaxListElements, EventId(1, 1));
  ExpectRoundTrip(x);
}

// -0.0 == +0.0, so both must encode alike: the encoder writes +0.0 and the
// decoder refuses the bits of -0.0.
TEST(RecordTest, NegativeZeroEncodesAsPositiveZeroAndIsRefusedOnDecode) {  // [REC-12]
  Event neg = MinimalEvent();
  neg.vector = {-0.0f, 1.0f};
  Event pos = MinimalEvent();
  pos.vector = {0.0f, 1.0f};
  const std::string bytes = EncodeOrDie(neg);
  EXPECT_EQ(bytes, EncodeOrDie(pos));
  std::string patched = bytes;
  patched[patched.size() - 5] = static_cast<char>(0x80);  // high byte of element 0
  ExpectCorrupt(patched, "event.vector[0] at offset 64: negative zero");
}

// One broken rule at a time, each reported with its field and offset.
TEST(RecordTest, EachRuleNamesFieldAndOffset) {
  Event e = MinimalEvent();
  e.type = EventType::Custom("DNSQuerx");
  e.source.host = "hq";
  e.source.ip = IpAddress::V4({10, 0, 0, 1});
  e.source.collector = "cz";
  const std::string ev = EncodeOrDie(e);
  // Layout: 0 version, 1 kind, 2 id, 18 time, 26 time, 34 type 0xff,
  // 35 name (9 bytes), 44 host (3), 47 ip (5), 52 collector (3), 55 format.
  ASSERT_EQ(static_cast<uint8_t>(ev[34]), 0xff);
  ASSERT_EQ(ev.substr(44, 3), "\x02hq");
  ASSERT_EQ(ev[47], '\x04');
  ASSERT_EQ(static_cast<uint8_t>(ev[55]), static_cast<uint8_t>(IngestionFormat::kRaw));

  struct Case {
    const char* rule;
    std::string bytes;
    std::string message;
  };
  std::string format_zero = ev;
  format_zero[55] = 0;
  std::string ip_tag = ev;
  ip_tag[47] = 5;
  const std::string non_minimal = Patch(ev, "\x02hq", std::string("\x82\x00hq", 4));

  CodeArtifact c = FullArtifact();
  const std::string code = EncodeOrDie(c);
  // 0 version, 1 kind, 2 id, 18 time, 26 sha256, 58 file type, 59 size varint.
  std::string file_type = code;
  file_type[58] = 7;
  std::string caps = code;
  const size_t caps_at = 59 + VarintLength(c.size_bytes);
  caps[caps_at + 2] = 0x10;  // bit 20

  IndexEntry x = FullIndexEntry();
  x.field = "f";
  const std::string ix = EncodeOrDie(x);
  const std::string empty_field = ix.substr(0, 26) + '\0' + ix.substr(28);
  std::string too_many = ix.substr(0, ix.size() - 1 - 3 * 16);
  PutVarint64(&too_many, kMaxListElements + 1);

  const Case cases[] = {
      {"REC-6", Patch(ev, "\x02hq", "\x02h\xff"),
       "event.source.host at offset 44: not valid UTF-8"},
      {"REC-8", Patch(ev, "DNSQuerx", "DNSQuery"),
       "event.type name at offset 35: custom event type name is the name of a named type"},
      {"REC-9", ip_tag, "event.source.ip at offset 47: unknown address family 5"},
      {"REC-10", format_zero, "event.source.format at offset 55: unknown ingestion format 0"},
      {"REC-13", file_type, "code.file_type at offset 58: unknown file type 7"},
      {"REC-14", caps,
       "code.capabilities at offset " + std::to_string(caps_at) + ": unknown capability bit"},
      {"REC-16", non_minimal, "event.source.host length at offset 44: malformed varint"},
      {"REC-17", empty_field, "index.field at offset 26: empty"},
      {"REC-4", too_many,
       "index.refs count at offset " + std::to_string(too_many.size() - 3) +
           ": more than 65536 elements"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rule);
    ExpectCorrupt(c.bytes, c.message);
  }
}

TEST(RecordTest, OverlongVarintIsMalformedNotTruncated) {  // [REC-16]
  IndexEntry x = FullIndexEntry();
  const std::string ix = EncodeOrDie(x);
  // The field length (offset 26) replaced by ten continuation bytes.
  const std::string overlong = ix.substr(0, 26) + std::string(10, '\x80') + ix.substr(27);
  ExpectCorrupt(overlong, "index.field length at offset 26: malformed varint");
}

TEST(RecordTest, TruncatedVarintIsReportedAsTruncation) {
  Event e = MinimalEvent();
  e.vector.assign(200, 1.0f);  // dimension 200 needs a two-byte varint
  const std::string bytes = EncodeOrDie(e);
  const size_t dim_at = bytes.size() - 200 * 4 - 2;
  ExpectCorrupt(std::string_view(bytes).substr(0, dim_at + 1),
                "event.vector dimension at offset " + std::to_string(dim_at) + ": truncated");
}

TEST(RecordTest, NonFiniteVectorElementIsCorruption) {  // [REC-12]
  Event e = MinimalEvent();
  e.vector = {1.0f};
  std::string bytes = EncodeOrDie(e);
  const float inf = std::numeric_limits<float>::infinity();
  std::memcpy(&bytes[bytes.size() - 4], &inf, 4);
  ExpectCorrupt(bytes,
                "event.vector[0] at offset " + std::to_string(bytes.size() - 4) + ": not finite");
}

}  // namespace
}  // namespace hanshiro::record
