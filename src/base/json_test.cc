#include "base/json.h"

#include <gtest/gtest.h>

namespace hanshiro::json {
namespace {

TEST(JsonTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(Quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Quote("line\nnext\ttab"), R"("line\nnext\ttab")");
  EXPECT_EQ(Quote(std::string_view("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(Quote(std::string_view("nul\0", 4)), R"("nul\u0000")");
}

TEST(JsonTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(Quote("h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x94\x92"),
            "\"h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x94\x92\"");
  EXPECT_EQ(Quote("\xFF"), "\"\xEF\xBF\xBD\"");
  EXPECT_EQ(Quote("\xC3"), "\"\xEF\xBF\xBD\"");                  // truncated sequence
  EXPECT_EQ(Quote("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");  // overlong
  EXPECT_EQ(Quote("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
}

}  // namespace
}  // namespace hanshiro::json
