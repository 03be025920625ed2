#include "base/coding.h"

namespace hanshiro {

void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  EncodeFixed32(buf, v);
  dst->append(buf, sizeof(buf));
}

void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  EncodeFixed64(buf, v);
  dst->append(buf, sizeof(buf));
}

void PutBigEndian64(std::string* dst, uint64_t v) {
  char buf[8];
  EncodeBigEndian64(buf, v);
  dst->append(buf, sizeof(buf));
}

size_t EncodeVarint64(char* dst, uint64_t v) {
  size_t n = 0;
  while (v >= 0x80) {
    dst[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  dst[n++] = static_cast<char>(v);
  return n;
}

size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void PutVarint32(std::string* dst, uint32_t v) { PutVarint64(dst, v); }

void PutVarint64(std::string* dst, uint64_t v) {
  char buf[kMaxVarint64Bytes];
  dst->append(buf, EncodeVarint64(buf, v));
}

void PutLengthPrefixed(std::string* dst, std::string_view bytes) {
  PutVarint64(dst, bytes.size());
  dst->append(bytes);
}

bool ByteReader::ReadU8(uint8_t* v) {
  if (remaining() < 1) return false;
  *v = static_cast<uint8_t>(input_[pos_++]);
  return true;
}

bool ByteReader::ReadFixed32(uint32_t* v) {
  if (remaining() < 4) return false;
  *v = DecodeFixed32(input_.data() + pos_);
  pos_ += 4;
  return true;
}

bool ByteReader::ReadFixed64(uint64_t* v) {
  if (remaining() < 8) return false;
  *v = DecodeFixed64(input_.data() + pos_);
  pos_ += 8;
  return true;
}

bool ByteReader::ReadVarint64(uint64_t* v) {
  uint64_t result = 0;
  size_t p = pos_;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (p >= input_.size()) return false;
    const uint64_t byte = static_cast<uint8_t>(input_[p++]);
    if (shift == 63 && byte > 1) return false;  // would overflow 64 bits [REC-16]
    if (shift > 0 && byte == 0) return false;   // not minimal: one encoding per value [REC-16]
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      pos_ = p;
      return true;
    }
  }
  return false;
}

bool ByteReader::ReadVarint32(uint32_t* v) {
  const size_t saved = pos_;
  uint64_t wide = 0;
  if (!ReadVarint64(&wide) || wide > UINT32_MAX) {
    pos_ = saved;
    return false;
  }
  *v = static_cast<uint32_t>(wide);
  return true;
}

bool ByteReader::ReadBytes(size_t n, std::string_view* out) {
  if (remaining() < n) return false;
  *out = input_.substr(pos_, n);
  pos_ += n;
  return true;
}

bool ByteReader::ReadLengthPrefixed(std::string_view* out) {
  const size_t saved = pos_;
  uint64_t n = 0;
  if (!ReadVarint64(&n) || n > remaining()) {
    pos_ = saved;
    return false;
  }
  return ReadBytes(static_cast<size_t>(n), out);
}

}  // namespace hanshiro
