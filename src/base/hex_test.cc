#include "base/hex.h"

#include <gtest/gtest.h>

namespace hanshiro {
namespace {

TEST(HexTest, EncodesLowercaseAndDecodesEitherCase) {
  EXPECT_EQ(HexEncode(std::string_view("\x00\x01\xab\xff", 4)), "0001abff");
  std::string out;
  ASSERT_TRUE(HexDecode("0001ABff", &out));
  EXPECT_EQ(out, std::string("\x00\x01\xab\xff", 4));
  ASSERT_TRUE(HexDecode("", &out));
  EXPECT_TRUE(out.empty());
}

TEST(HexTest, RejectsOddLengthAndNonHexDigits) {
  std::string out;
  EXPECT_FALSE(HexDecode("abc", &out));
  EXPECT_FALSE(HexDecode("zz", &out));
  EXPECT_FALSE(HexDecode("0g", &out));
  EXPECT_FALSE(HexDecode(" 0", &out));
  EXPECT_EQ(HexDigitValue('f'), 15);
  EXPECT_EQ(HexDigitValue('G'), -1);
}

}  // namespace
}  // namespace hanshiro
