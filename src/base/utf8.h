// UTF-8 validity (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF), in one place for every module.
#ifndef HANSHIRO_BASE_UTF8_H_
#define HANSHIRO_BASE_UTF8_H_

#include <cstddef>
#include <string_view>

namespace hanshiro::utf8 {

// Whole-string check: SIMD (via simdjson), except that a string of at most
// kShortBytes ASCII bytes is accepted by a plain loop.
constexpr size_t kShortBytes = 64;
bool IsValid(std::string_view s);

// Length (1-4) of the valid sequence that starts at s[i], or 0 when the bytes
// there are not valid UTF-8. REQUIRES: i < s.size()
size_t SequenceLength(std::string_view s, size_t i);

}  // namespace hanshiro::utf8

#endif  // HANSHIRO_BASE_UTF8_H_
