#include "base/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace hanshiro::crc32c {
namespace {

// RFC 3720 (iSCSI) appendix B.4 test vectors, through both implementations.
TEST(Crc32cTest, MatchesRfc3720Vectors) {
  char buf[32];
  auto check = [&](uint32_t expected) {
    EXPECT_EQ(Value(buf, sizeof(buf)), expected);
    EXPECT_EQ(ExtendPortable(0, buf, sizeof(buf)), expected);
  };
  std::memset(buf, 0, sizeof(buf));
  check(0x8a9136aau);
  std::memset(buf, 0xff, sizeof(buf));
  check(0x62a8ab43u);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(i);
  check(0x46dd794eu);
  for (int i = 0; i < 32; ++i) buf[i] = static_cast<char>(31 - i);
  check(0x113fdb5cu);
}

TEST(Crc32cTest, MatchesCheckValue) {
  EXPECT_EQ(Value("123456789"), 0xe3069283u);
  EXPECT_EQ(ExtendPortable(0, "123456789", 9), 0xe3069283u);
}

TEST(Crc32cTest, HardwareAndPortableAgreeOnEveryLengthAndAlignment) {
  std::mt19937 rng(7);
  std::string data(300, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t n = 0; n + offset <= data.size(); n += 7) {
      ASSERT_EQ(Value(data.data() + offset, n), ExtendPortable(0, data.data() + offset, n))
          << "offset " << offset << " length " << n;
    }
  }
}

// Below 256 bytes the hardware path splits buffers into three interleaved
// lanes of 64 bytes and joins them; from 256 bytes on ISA-L folds blocks of
// 256. Every length around those sizes, and long inputs, must still give the
// plain CRC, from any starting value.
TEST(Crc32cTest, InterleavedLanesAgreeWithPortableAroundEveryBlockSize) {
  std::mt19937 rng(11);
  std::string data(3 * 3 * 2048 + 400, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 2 * 3 * 256 + 17; ++n) lengths.push_back(n);
  for (size_t block : {size_t{3 * 2048}, size_t{2 * 3 * 2048}}) {
    for (size_t n = block - 200; n <= block + 200; ++n) lengths.push_back(n);
  }
  lengths.push_back(data.size() - 3);
  for (size_t n : lengths) {
    for (uint32_t init : {0u, 0xdeadbeefu}) {
      // From an odd offset, so no lane starts aligned.
      ASSERT_EQ(Extend(init, data.data() + 3, n), ExtendPortable(init, data.data() + 3, n))
          << "length " << n << " init " << init;
    }
  }
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  const std::string a = "hello ";
  const std::string b = "world";
  EXPECT_EQ(Extend(Value(a), b.data(), b.size()), Value(a + b));
}

TEST(Crc32cTest, MaskRoundTripsAndChangesValue) {
  const uint32_t crc = Value("foo");
  EXPECT_NE(Mask(crc), crc);
  EXPECT_NE(Mask(Mask(crc)), crc);
  EXPECT_EQ(Unmask(Mask(crc)), crc);
  EXPECT_EQ(Unmask(Unmask(Mask(Mask(crc)))), crc);
}

}  // namespace
}  // namespace hanshiro::crc32c
