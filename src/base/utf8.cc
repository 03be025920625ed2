#include "base/utf8.h"

#include <simdjson.h>

#include <cstdint>

namespace hanshiro::utf8 {

bool IsValid(std::string_view s) {
  // Most texts are short and ASCII (host names, collectors, field values):
  // for them an OR of the bytes costs less than simdjson's dispatch.
  if (s.size() <= kShortBytes) {
    uint8_t high = 0;
    for (const char c : s) high |= static_cast<uint8_t>(c);
    if (high < 0x80) return true;
  }
  return simdjson::validate_utf8(s.data(), s.size());
}

size_t SequenceLength(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  auto cont = [&](size_t k) {
    return i + k < s.size() && (static_cast<uint8_t>(s[i + k]) & 0xC0) == 0x80;
  };
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    const auto b1 = static_cast<uint8_t>(s[i + 1]);
    if (b0 == 0xE0 && b1 < 0xA0) return 0;  // overlong
    if (b0 == 0xED && b1 > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const auto b1 = static_cast<uint8_t>(s[i + 1]);
    if (b0 == 0xF0 && b1 < 0x90) return 0;  // overlong
    if (b0 == 0xF4 && b1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace hanshiro::utf8
