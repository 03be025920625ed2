#include "base/utf8.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace hanshiro::utf8 {
namespace {

// The same rules, one sequence at a time.
bool ValidBySequences(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

TEST(Utf8Test, ShortAndLongTextsFollowRfc3629) {
  for (const size_t pad : {size_t{0}, kShortBytes - 3, kShortBytes - 2, kShortBytes, size_t{200}}) {
    const std::string a(pad, 'a');
    EXPECT_TRUE(IsValid(a)) << pad;
    EXPECT_TRUE(IsValid(a + "\xC3\xA9")) << pad;            // é
    EXPECT_TRUE(IsValid(a + "\xF0\x9F\x98\x80")) << pad;    // U+1F600
    EXPECT_FALSE(IsValid(a + "\xFF")) << pad;
    EXPECT_FALSE(IsValid(a + "\x80")) << pad;               // a lone continuation byte
    EXPECT_FALSE(IsValid(a + "\xC0\x80")) << pad;           // overlong NUL
    EXPECT_FALSE(IsValid(a + "\xED\xA0\x80")) << pad;       // a surrogate
    EXPECT_FALSE(IsValid(a + "\xF4\x90\x80\x80")) << pad;   // above U+10FFFF
    EXPECT_FALSE(IsValid(a + "\xE2\x82")) << pad;           // cut short
    EXPECT_FALSE(IsValid("\xC3" + a)) << pad;               // lead byte, then ASCII
  }
}

TEST(Utf8Test, AgreesWithTheSequenceRulesOnRandomBytes) {
  // Mostly ASCII with some lead and continuation bytes, lengths on both
  // sides of kShortBytes.
  const std::string alphabet = std::string("abc\x7F") + "\x80\xBF\xC2\xDF\xE0\xED\xEF\xF0\xF4\xF5\xFF";
  std::mt19937_64 rng(7);
  int valid = 0;
  for (int round = 0; round < 20000; ++round) {
    const size_t len = rng() % (2 * kShortBytes + 2);
    std::string s;
    for (size_t i = 0; i < len; ++i) {
      s += rng() % 8 == 0 ? alphabet[rng() % alphabet.size()] : static_cast<char>('a' + rng() % 26);
    }
    ASSERT_EQ(IsValid(s), ValidBySequences(s)) << testing::PrintToString(s);
    valid += IsValid(s) ? 1 : 0;
  }
  EXPECT_GT(valid, 1000);  // both answers were exercised
  EXPECT_LT(valid, 19000);
}

}  // namespace
}  // namespace hanshiro::utf8
