// Constants and rule checks shared by the record encoder (record.cc) and
// decoder (record_decode.cc). The format is specified in
// docs/format/record.md; rule tags [REC-n] refer to it.
#ifndef HANSHIRO_BASE_RECORD_FORMAT_H_
#define HANSHIRO_BASE_RECORD_FORMAT_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "base/utf8.h"
#include "hanshiro/model.h"

namespace hanshiro::record {

constexpr uint8_t kFormatVersion = 1;          // [REC-1]
constexpr size_t kMaxRecordBytes = 16u << 20;  // [REC-2]
constexpr size_t kMaxListElements = 65'536;    // [REC-4]
constexpr size_t kIdBytes = 16;
constexpr size_t kSha256Bytes = 32;

// Source IP family tags [REC-9].
constexpr uint8_t kIpNone = 0;
constexpr uint8_t kIpV4 = 4;
constexpr uint8_t kIpV6 = 6;

// Each check returns nullptr when its rule holds, or why it does not.

inline const char* CheckTime(int64_t t) {  // [REC-5]
  return t < 0 ? "time is negative" : nullptr;
}

inline const char* CheckText(std::string_view s) {  // [REC-6]
  return utf8::IsValid(s) ? nullptr : "not valid UTF-8";
}

inline const char* CheckNonEmptyText(std::string_view s) {  // [REC-11], [REC-17]
  return s.empty() ? "empty" : CheckText(s);
}

inline const char* CheckListSize(size_t n) {  // [REC-4]
  return n > kMaxListElements ? "more than 65536 elements" : nullptr;
}

inline const char* CheckCustomTypeName(std::string_view name) {  // [REC-8]
  if (name.empty()) return "custom event type name is empty";
  if (name.size() > kMaxCustomEventTypeBytes) return "custom event type name is over 128 bytes";
  if (const char* why = CheckText(name)) return why;
  if (EventType::FromName(name).code != EventTypeCode::kCustom) {
    return "custom event type name is the name of a named type";
  }
  return nullptr;
}

inline bool IsNegativeZero(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return bits == 0x80000000u;
}

// One stored vector element [REC-12]. Values being encoded may hold -0.0:
// the encoder writes it as +0.0, so values that compare equal encode alike.
inline const char* CheckVectorElement(float x, bool allow_negative_zero) {
  if (!std::isfinite(x)) return "not finite";
  if (!allow_negative_zero && IsNegativeZero(x)) return "negative zero";
  return nullptr;
}

inline const char* CheckVector(const std::vector<float>& v) {  // [REC-12]
  if (v.size() > kMaxVectorDim) return "dimension over 4096";
  for (float x : v) {
    if (const char* why = CheckVectorElement(x, /*allow_negative_zero=*/true)) return why;
  }
  return nullptr;
}

}  // namespace hanshiro::record

#endif  // HANSHIRO_BASE_RECORD_FORMAT_H_
