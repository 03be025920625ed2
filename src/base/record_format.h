// Constants shared by the record encoder and decoder. The format is
// specified in docs/format/record.md; rule tags [REC-n] refer to it.
#ifndef HANSHIRO_BASE_RECORD_FORMAT_H_
#define HANSHIRO_BASE_RECORD_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace hanshiro::record {

constexpr uint8_t kFormatVersion = 1;              // [REC-1]
constexpr size_t kMaxRecordBytes = 64u << 20;      // [REC-2]
constexpr size_t kIdBytes = 16;
constexpr size_t kSha256Bytes = 32;

// Source IP family tags [REC-9].
constexpr uint8_t kIpNone = 0;
constexpr uint8_t kIpV4 = 4;
constexpr uint8_t kIpV6 = 6;

}  // namespace hanshiro::record

#endif  // HANSHIRO_BASE_RECORD_FORMAT_H_
