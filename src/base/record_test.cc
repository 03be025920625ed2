#include "base/record.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

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

TEST(RecordTest, ReportsSpecificViolations) {
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

TEST(RecordTest, MetadataKeysOutOfOrderAreCorruption) {
  Event e = MinimalEvent();
  e.metadata = {{"a", "1"}, {"b", "2"}};
  std::string bytes = EncodeOrDie(e);
  // Swap the single-byte keys "a" and "b" in place.
  const size_t a = bytes.find("\x01" "a" "\x01" "1");
  const size_t b = bytes.find("\x01" "b" "\x01" "2");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  std::swap(bytes[a + 1], bytes[b + 1]);
  ExpectCorrupt(bytes, "event.metadata[1].key");
  ExpectCorrupt(bytes, "strictly ascending");
}

TEST(RecordTest, HugeCountsAreRejectedBeforeAllocating) {
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

TEST(RecordTest, OversizedInputIsCorruption) {
  const std::string big(kMaxRecordBytes + 1, '\x01');
  ExpectCorrupt(big, "exceeds the 67108864-byte limit");
}

TEST(RecordTest, NonFiniteVectorElementIsCorruption) {
  Event e = MinimalEvent();
  e.vector = {1.0f};
  std::string bytes = EncodeOrDie(e);
  const float inf = std::numeric_limits<float>::infinity();
  std::memcpy(&bytes[bytes.size() - 4], &inf, 4);
  ExpectCorrupt(bytes, "event.vector");
  ExpectCorrupt(bytes, "not finite");
}

}  // namespace
}  // namespace hanshiro::record
