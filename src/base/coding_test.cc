#include "base/coding.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace hanshiro {
namespace {

TEST(CodingTest, FixedIsLittleEndian) {
  std::string s;
  PutFixed32(&s, 0x04030201u);
  PutFixed64(&s, 0x0807060504030201ull);
  EXPECT_EQ(s, std::string("\x01\x02\x03\x04\x01\x02\x03\x04\x05\x06\x07\x08", 12));
  EXPECT_EQ(DecodeFixed32(s.data()), 0x04030201u);
  EXPECT_EQ(DecodeFixed64(s.data() + 4), 0x0807060504030201ull);
}

TEST(CodingTest, BigEndianSortsLikeNumbers) {
  std::string a;
  std::string b;
  PutBigEndian64(&a, 255);
  PutBigEndian64(&b, 256);
  EXPECT_LT(a, b);
  EXPECT_EQ(DecodeBigEndian64(b.data()), 256u);
  for (const uint64_t v : {uint64_t{0}, uint64_t{0x0102030405060708}, ~uint64_t{0},
                           uint64_t{0x8000000000000001}}) {
    std::string e;
    PutBigEndian64(&e, v);
    EXPECT_EQ(static_cast<uint8_t>(e[0]), v >> 56);  // most significant first
    EXPECT_EQ(static_cast<uint8_t>(e[7]), v & 0xFF);
    EXPECT_EQ(DecodeBigEndian64(e.data()), v);
  }
}

TEST(CodingTest, VarintRoundTripsAtBoundaries) {
  std::vector<uint64_t> values = {0,
                                  1,
                                  127,
                                  128,
                                  16383,
                                  16384,
                                  (1ull << 32) - 1,
                                  1ull << 32,
                                  std::numeric_limits<uint64_t>::max()};
  std::string s;
  for (uint64_t v : values) PutVarint64(&s, v);
  ByteReader r(s);
  for (uint64_t v : values) {
    uint64_t got = 0;
    ASSERT_TRUE(r.ReadVarint64(&got));
    EXPECT_EQ(got, v);
    EXPECT_EQ(VarintLength(v), [&] {
      std::string t;
      PutVarint64(&t, v);
      return t.size();
    }());
  }
  EXPECT_TRUE(r.empty());
}

TEST(CodingTest, VarintRejectsTruncationAndOverflow) {
  uint64_t v = 0;
  ByteReader truncated(std::string_view("\x80\x80", 2));
  EXPECT_FALSE(truncated.ReadVarint64(&v));
  EXPECT_EQ(truncated.offset(), 0u);
  // 11 bytes of continuation: longer than any uint64.
  const std::string eleven(11, '\xff');
  ByteReader too_long(eleven);
  EXPECT_FALSE(too_long.ReadVarint64(&v));
  // Tenth byte 0x02 would set bit 64.
  std::string overflow(9, '\xff');
  overflow.push_back('\x02');
  ByteReader over(overflow);
  EXPECT_FALSE(over.ReadVarint64(&v));
  // Non-minimal: 0 written as two bytes.
  ByteReader padded(std::string_view("\x80\x00", 2));
  EXPECT_FALSE(padded.ReadVarint64(&v));
  // Varint32 rejects values above 2^32 - 1.
  std::string big;
  PutVarint64(&big, 1ull << 32);
  ByteReader r32(big);
  uint32_t v32 = 0;
  EXPECT_FALSE(r32.ReadVarint32(&v32));
  EXPECT_EQ(r32.offset(), 0u);
}

TEST(CodingTest, LengthPrefixedRejectsLengthPastEnd) {
  std::string s;
  PutLengthPrefixed(&s, "hello");
  ByteReader ok(s);
  std::string_view out;
  ASSERT_TRUE(ok.ReadLengthPrefixed(&out));
  EXPECT_EQ(out, "hello");
  ByteReader cut(std::string_view(s).substr(0, s.size() - 1));
  EXPECT_FALSE(cut.ReadLengthPrefixed(&out));
  EXPECT_EQ(cut.offset(), 0u);
}

TEST(CodingTest, ReaderNeverReadsPastEnd) {
  ByteReader r(std::string_view("abc", 3));
  uint32_t v32 = 0;
  uint64_t v64 = 0;
  std::string_view out;
  EXPECT_FALSE(r.ReadFixed32(&v32));
  EXPECT_FALSE(r.ReadFixed64(&v64));
  EXPECT_FALSE(r.ReadBytes(4, &out));
  EXPECT_TRUE(r.ReadBytes(3, &out));
  uint8_t b = 0;
  EXPECT_FALSE(r.ReadU8(&b));
}

}  // namespace
}  // namespace hanshiro
