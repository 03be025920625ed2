// Minimal JSON output helpers: string escaping per RFC 8259.
#ifndef HANSHIRO_BASE_JSON_H_
#define HANSHIRO_BASE_JSON_H_

#include <string>
#include <string_view>

namespace hanshiro::json {

// Appends s as a quoted JSON string. Control characters become \uXXXX; bytes
// that are not valid UTF-8 become U+FFFD so the output is always valid JSON.
void AppendString(std::string* out, std::string_view s);
std::string Quote(std::string_view s);

}  // namespace hanshiro::json

#endif  // HANSHIRO_BASE_JSON_H_
