// Constants shared by the WAL writer and readers (docs/format/wal.md).
#ifndef HANSHIRO_WAL_WAL_FORMAT_H_
#define HANSHIRO_WAL_WAL_FORMAT_H_

#include <cstdint>
#include <string_view>

#include "base/record_format.h"
#include "integrity/ledger_format.h"

namespace hanshiro::wal {

constexpr std::string_view kSegmentMagic = "HSWALSEG";
constexpr uint32_t kSegmentVersion = 1;
constexpr uint32_t kHashNone = 0;
constexpr uint32_t kHashBlake3 = integrity::kHashBlake3;  // one id for every file
constexpr size_t kSegmentHeaderSize = 68;

// Record: masked crc32c (4) | seq (8) | kind (1) | length (4) | payload.
constexpr size_t kRecordHeaderSize = 17;
constexpr size_t kCrcSize = 4;
constexpr size_t kKindOffset = 12;
constexpr size_t kLengthOffset = 13;
constexpr uint32_t kMaxPayloadBytes = record::kMaxRecordBytes;

// Record kinds. 1..15 are leaves of the integrity tree (data records).
enum class Kind : uint8_t {
  kLog = 1,
  kCode = 2,
  kIndex = 3,
  kCommit = 0x10,  // ends a commit group; seq = tree size, payload = root (or empty)
};
constexpr uint8_t kMinLeafKind = 1;
constexpr uint8_t kMaxLeafKind = 15;
inline bool IsLeafKind(uint8_t kind) { return kind >= kMinLeafKind && kind <= kMaxLeafKind; }

}  // namespace hanshiro::wal

#endif  // HANSHIRO_WAL_WAL_FORMAT_H_
