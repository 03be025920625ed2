// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every
// WAL record and table block. From 256 bytes on, Intel ISA-L's crc32_iscsi
// (carry-less multiply folding, dispatched on the CPU); below, the SSE4.2
// crc32 instruction when the CPU has it (chosen once at start-up), three
// independent lanes at a time, and a slicing-by-8 table otherwise.
// Thread-safe.
#ifndef HANSHIRO_BASE_CRC32C_H_
#define HANSHIRO_BASE_CRC32C_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hanshiro::crc32c {

// CRC32C of concat(A, data) where init_crc is the CRC32C of A.
uint32_t Extend(uint32_t init_crc, const char* data, size_t n);

inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view data) { return Extend(0, data.data(), data.size()); }

// The portable implementation, exposed so tests can compare both paths.
uint32_t ExtendPortable(uint32_t init_crc, const char* data, size_t n);

// A CRC stored next to the data it covers is masked, so that computing the
// CRC of a string that contains embedded CRCs stays well distributed.
constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  const uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace hanshiro::crc32c

#endif  // HANSHIRO_BASE_CRC32C_H_
