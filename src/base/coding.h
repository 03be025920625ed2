// Byte coding helpers shared by every on-disk format: fixed-width
// little-endian integers, big-endian integers (for keys that must sort as
// bytes), LEB128 varints, and a bounds-checked reader for untrusted input.
//
// The Put* functions append to a std::string. The reader never reads past the
// end of its input: every Read* returns false instead and leaves the reader
// where it was.
#ifndef HANSHIRO_BASE_CODING_H_
#define HANSHIRO_BASE_CODING_H_

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace hanshiro {

constexpr size_t kMaxVarint64Bytes = 10;

inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}
inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return v;
}
inline void EncodeBigEndian64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (56 - 8 * i));
}
inline uint64_t DecodeBigEndian64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
void PutBigEndian64(std::string* dst, uint64_t v);
void PutVarint32(std::string* dst, uint32_t v);
void PutVarint64(std::string* dst, uint64_t v);
// varint64 length, then the bytes.
void PutLengthPrefixed(std::string* dst, std::string_view bytes);

// Writes the varint into dst (which has room for kMaxVarint64Bytes) and
// returns the number of bytes written.
size_t EncodeVarint64(char* dst, uint64_t v);
size_t VarintLength(uint64_t v);

// A cursor over untrusted bytes. Borrows `input`, which must outlive it.
// Not thread-safe.
class ByteReader {
 public:
  explicit ByteReader(std::string_view input) : input_(input) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return input_.size() - pos_; }
  bool empty() const { return pos_ == input_.size(); }

  bool ReadU8(uint8_t* v);
  bool ReadFixed32(uint32_t* v);
  bool ReadFixed64(uint64_t* v);
  // Fails on truncation, on encodings longer than the type allows (including
  // a final byte whose high bits overflow the type), and on non-minimal
  // encodings (a final 0x00 byte after the first), so each value has exactly
  // one encoding.
  bool ReadVarint32(uint32_t* v);
  bool ReadVarint64(uint64_t* v);
  // The next n bytes, borrowed from the input.
  bool ReadBytes(size_t n, std::string_view* out);
  // A varint64 length followed by that many bytes.
  bool ReadLengthPrefixed(std::string_view* out);

 private:
  std::string_view input_;
  size_t pos_ = 0;
};

}  // namespace hanshiro

#endif  // HANSHIRO_BASE_CODING_H_
