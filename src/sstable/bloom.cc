#include "sstable/bloom.h"

#include <algorithm>
#include <cmath>

#include "base/coding.h"

namespace hanshiro::sstable {

namespace {

uint64_t Mix(uint64_t x) {  // the splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t BloomHash(std::string_view id) {
  const uint64_t a = Mix(DecodeFixed64(id.data()));
  const uint64_t b = Mix(DecodeFixed64(id.data() + 8));
  return a ^ ((b << 29) | (b >> 35));
}

void BloomBuilder::Finish(std::string* out) const {
  const int k = std::clamp(static_cast<int>(std::lround(bits_per_key_ * 0.69)), 1, 30);
  const uint64_t bits = std::max<uint64_t>(64, hashes_.size() * static_cast<uint64_t>(bits_per_key_));
  const uint64_t bytes = (bits + 7) / 8;
  const uint64_t nbits = bytes * 8;
  const size_t start = out->size();
  out->resize(start + bytes, '\0');
  char* array = out->data() + start;
  for (const uint64_t h : hashes_) {
    uint64_t lo = static_cast<uint32_t>(h);
    const uint64_t hi = h >> 32;
    for (int i = 0; i < k; ++i, lo += hi) {
      const uint64_t bit = lo % nbits;
      array[bit / 8] = static_cast<char>(array[bit / 8] | (1 << (bit % 8)));
    }
  }
  out->push_back(static_cast<char>(k));
}

bool BloomMayContain(std::string_view filter, uint64_t h) {
  const uint64_t nbits = (filter.size() - 1) * 8;
  const int k = static_cast<uint8_t>(filter.back());
  uint64_t lo = static_cast<uint32_t>(h);
  const uint64_t hi = h >> 32;
  for (int i = 0; i < k; ++i, lo += hi) {
    const uint64_t bit = lo % nbits;
    if ((filter[bit / 8] & (1 << (bit % 8))) == 0) return false;
  }
  return true;
}

}  // namespace hanshiro::sstable
