#include "base/crc32c.h"

#include <algorithm>
#include <array>
#include <cstring>

#include <isa-l/crc.h>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace hanshiro::crc32c {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;

using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
    t[0][i] = crc;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
  return t;
}

constexpr Tables kTables = MakeTables();

// The register after feeding `bytes` zero bytes to register `crc` (no
// pre- or post-inversion). Linear in crc over GF(2).
constexpr uint32_t ShiftBitwise(uint32_t crc, size_t bytes) {
  for (size_t i = 0; i < bytes * 8; ++i) crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
  return crc;
}

// The same shift as four table lookups, one per byte of the register: the
// CRC register of a || b is Shift(reg(a), |b|) ^ reg(0, b), which lets
// three lanes of the crc32 instruction run at once and be joined after.
using ShiftTable = std::array<std::array<uint32_t, 256>, 4>;

constexpr ShiftTable MakeShiftTable(size_t bytes) {
  std::array<uint32_t, 32> basis{};
  for (int bit = 0; bit < 32; ++bit) basis[bit] = ShiftBitwise(uint32_t{1} << bit, bytes);
  ShiftTable t{};
  for (int k = 0; k < 4; ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t v = 0;
      for (int bit = 0; bit < 8; ++bit) {
        if (b & (1u << bit)) v ^= basis[8 * k + bit];
      }
      t[k][b] = v;
    }
  }
  return t;
}

inline uint32_t Shift(const ShiftTable& t, uint32_t crc) {
  return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}

// From this length on, ISA-L's crc32_iscsi is used: it folds 256-byte blocks
// with carry-less multiplies and runs about twice as fast as the crc32
// instruction on long inputs (BM_Crc32c, 4 KiB: 92 against 180 ns), but is
// slower below it. Shorter inputs (records, row metadata) use three
// interleaved lanes of 64 bytes of the crc32 instruction.
constexpr size_t kFoldFrom = 256;
constexpr size_t kShortLane = 64;
constexpr ShiftTable kShiftShort = MakeShiftTable(kShortLane);

uint32_t ExtendFolded(uint32_t init_crc, const char* data, size_t n) {
  // crc32_iscsi takes and returns the register without the inversions, and
  // an int length.
  uint32_t reg = ~init_crc;
  while (n > 0) {
    const size_t piece = std::min<size_t>(n, size_t{1} << 30);
    reg = crc32_iscsi(reinterpret_cast<unsigned char*>(const_cast<char*>(data)),
                      static_cast<int>(piece), reg);
    data += piece;
    n -= piece;
  }
  return ~reg;
}

#if defined(__x86_64__)
// One unaligned little-endian word. Not coding.h's DecodeFixed64: its
// byte loop is not merged into one load inside this sse4.2 function, which
// made the CRC three times slower.
inline uint64_t Load64(const char* p) {
  uint64_t word;
  std::memcpy(&word, p, 8);
  return word;
}

// Consumes whole blocks of three lanes of `lane` bytes from *data.
__attribute__((target("sse4.2"))) inline uint64_t ThreeLanes(uint64_t crc, const char** data,
                                                             size_t* n, size_t lane,
                                                             const ShiftTable& shift) {
  while (*n >= 3 * lane) {
    const char* a = *data;
    const char* b = a + lane;
    const char* c = b + lane;
    uint64_t crc1 = 0;
    uint64_t crc2 = 0;
    for (size_t i = 0; i < lane; i += 8) {
      crc = _mm_crc32_u64(crc, Load64(a + i));
      crc1 = _mm_crc32_u64(crc1, Load64(b + i));
      crc2 = _mm_crc32_u64(crc2, Load64(c + i));
    }
    crc = Shift(shift, Shift(shift, static_cast<uint32_t>(crc)) ^ static_cast<uint32_t>(crc1)) ^
          static_cast<uint32_t>(crc2);
    *data += 3 * lane;
    *n -= 3 * lane;
  }
  return crc;
}

__attribute__((target("sse4.2"))) uint32_t ExtendSse42(uint32_t init_crc, const char* data,
                                                       size_t n) {
  uint64_t crc = ~init_crc;
  crc = ThreeLanes(crc, &data, &n, kShortLane, kShiftShort);
  while (n >= 8) {
    crc = _mm_crc32_u64(crc, Load64(data));
    data += 8;
    n -= 8;
  }
  auto crc32 = static_cast<uint32_t>(crc);
  if (n >= 4) {
    uint32_t word;
    std::memcpy(&word, data, 4);
    crc32 = _mm_crc32_u32(crc32, word);
    data += 4;
    n -= 4;
  }
  while (n > 0) {
    crc32 = _mm_crc32_u8(crc32, static_cast<uint8_t>(*data++));
    --n;
  }
  return ~crc32;
}

bool DetectSse42() { return __builtin_cpu_supports("sse4.2"); }
#else
bool DetectSse42() { return false; }
#endif

const bool kHaveSse42 = DetectSse42();

}  // namespace

uint32_t ExtendPortable(uint32_t init_crc, const char* data, size_t n) {
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  uint32_t crc = ~init_crc;
  while (n >= 8) {
    uint32_t lo;
    uint32_t hi;
    std::memcpy(&lo, p, 4);  // little-endian host (static_assert below)
    std::memcpy(&hi, p + 4, 4);
    lo ^= crc;
    crc = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^ kTables[5][(lo >> 16) & 0xff] ^
          kTables[4][lo >> 24] ^ kTables[3][hi & 0xff] ^ kTables[2][(hi >> 8) & 0xff] ^
          kTables[1][(hi >> 16) & 0xff] ^ kTables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    crc = (crc >> 8) ^ kTables[0][(crc ^ *p++) & 0xff];
    --n;
  }
  return ~crc;
}

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the slicing-by-8 CRC32C assumes a little-endian host");

uint32_t Extend(uint32_t init_crc, const char* data, size_t n) {
  if (n >= kFoldFrom) return ExtendFolded(init_crc, data, n);
#if defined(__x86_64__)
  if (kHaveSse42) return ExtendSse42(init_crc, data, n);
#endif
  return ExtendPortable(init_crc, data, n);
}

}  // namespace hanshiro::crc32c
