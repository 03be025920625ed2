#include "base/json.h"

#include <cstdint>

#include "base/utf8.h"

namespace hanshiro::json {

void AppendString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    const auto b = static_cast<uint8_t>(c);
    if (b >= 0x80) {
      const size_t n = utf8::SequenceLength(s, i);
      if (n == 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD
        ++i;
      } else {
        out->append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (b < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[b >> 4]);
          out->push_back(kHex[b & 0xf]);
        } else {
          out->push_back(c);
        }
    }
    ++i;
  }
  out->push_back('"');
}

std::string Quote(std::string_view s) {
  std::string out;
  AppendString(&out, s);
  return out;
}

}  // namespace hanshiro::json
