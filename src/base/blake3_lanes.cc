// Compiled once per SIMD target by Highway (foreach_target.h re-includes
// this file); the dispatch table picks the best one at run time.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "base/blake3_lanes.cc"
#define HWY_COMPILE_ALL_ATTAINABLE  // keep the scalar target, so tests can force it
#include <cstring>

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "base/blake3_lanes.h"

#ifndef HANSHIRO_BASE_BLAKE3_LANES_CONSTANTS_
#define HANSHIRO_BASE_BLAKE3_LANES_CONSTANTS_
namespace hanshiro::blake3 {
// The specification's IV (the key words of the unkeyed hash) and message
// word order of each of the seven rounds.
constexpr uint32_t kIv[8] = {0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                             0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};
constexpr uint8_t kSchedule[7][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8},
    {3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1},
    {10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6},
    {12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4},
    {9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7},
    {11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13},
};
}  // namespace hanshiro::blake3
#endif

HWY_BEFORE_NAMESPACE();
namespace hanshiro::blake3::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class V>
HWY_INLINE void G(V& a, V& b, V& c, V& d, V mx, V my) {
  a = hn::Add(hn::Add(a, b), mx);
  d = hn::RotateRight<16>(hn::Xor(d, a));
  c = hn::Add(c, d);
  b = hn::RotateRight<12>(hn::Xor(b, c));
  a = hn::Add(hn::Add(a, b), my);
  d = hn::RotateRight<8>(hn::Xor(d, a));
  c = hn::Add(c, d);
  b = hn::RotateRight<7>(hn::Xor(b, c));
}

#if HWY_TARGET == HWY_AVX2
// r[0..7] (8 words each) transposed in place: word w of row l becomes word l
// of row w.
HWY_INLINE void Transpose8x8(hn::Full256<uint32_t> d, hn::Vec256<uint32_t>* r) {
  const hn::Repartition<uint64_t, decltype(d)> d64;
  hn::Vec256<uint32_t> t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = hn::InterleaveLower(d, r[i], r[i + 1]);      // a0 b0 a1 b1 | a4 b4 a5 b5
    t[i + 1] = hn::InterleaveUpper(d, r[i], r[i + 1]);  // a2 b2 a3 b3 | a6 b6 a7 b7
  }
  for (int i = 0; i < 8; i += 4) {
    for (int j = 0; j < 2; ++j) {
      const auto x = hn::BitCast(d64, t[i + j]);
      const auto y = hn::BitCast(d64, t[i + j + 2]);
      u[i + 2 * j] = hn::BitCast(d, hn::InterleaveLower(d64, x, y));      // a0 b0 c0 d0 | a4 ..
      u[i + 2 * j + 1] = hn::BitCast(d, hn::InterleaveUpper(d64, x, y));  // a1 b1 c1 d1 | a5 ..
    }
  }
  for (int w = 0; w < 4; ++w) {
    r[w] = hn::ConcatLowerLower(d, u[4 + w], u[w]);
    r[4 + w] = hn::ConcatUpperUpper(d, u[4 + w], u[w]);
  }
}
#endif

void CompressLastBlocksImpl(const uint8_t* cvs, const uint8_t* const* blocks, const uint8_t* lens,
                            uint8_t flags, size_t count, uint8_t* out) {
  const hn::ScalableTag<uint32_t> d;
  using V = hn::Vec<decltype(d)>;
  constexpr size_t kMax = hn::MaxLanes(d);
  const size_t lanes = hn::Lanes(d);
#if HWY_TARGET != HWY_AVX2
  // Word w of lane l at [w * kMax + l]: inputs transposed so that one vector
  // holds one word of every lane.
  HWY_ALIGN uint32_t words[16 * kMax];
  HWY_ALIGN uint32_t state[8 * kMax];
  HWY_ALIGN uint32_t block_len[kMax];
#endif
  for (size_t start = 0; start < count; start += lanes) {
    const size_t n = count - start < lanes ? count - start : lanes;
    V m[16];
    V v[16];
#if HWY_TARGET == HWY_AVX2
    // Rows of lanes turned into vectors of words by register transposes
    // (the scalar way below costs more than the compression itself).
    HWY_ALIGN uint8_t padded[8][64];
    HWY_ALIGN uint32_t lens32[8];
    for (size_t l = 0; l < 8; ++l) {
      const size_t i = start + (l < n ? l : 0);  // spare lanes repeat lane 0
      std::memset(padded[l], 0, 64);
      std::memcpy(padded[l], blocks[i], lens[i]);
      lens32[l] = lens[i];
      m[l] = hn::Load(d, reinterpret_cast<const uint32_t*>(padded[l]));
      m[8 + l] = hn::Load(d, reinterpret_cast<const uint32_t*>(padded[l] + 32));
      if (cvs != nullptr) v[l] = hn::LoadU(d, reinterpret_cast<const uint32_t*>(cvs + 32 * i));
    }
    Transpose8x8(d, m);
    Transpose8x8(d, m + 8);
    if (cvs != nullptr) {
      Transpose8x8(d, v);
    } else {
      for (size_t w = 0; w < 8; ++w) v[w] = hn::Set(d, kIv[w]);
    }
    v[14] = hn::Load(d, lens32);
#else
    for (size_t l = 0; l < lanes; ++l) {
      const size_t i = start + (l < n ? l : 0);  // spare lanes repeat lane 0
      uint8_t block[64] = {0};
      std::memcpy(block, blocks[i], lens[i]);
      for (size_t w = 0; w < 16; ++w) {
        uint32_t x;
        std::memcpy(&x, block + 4 * w, 4);  // little-endian host, as the library assumes
        words[w * kMax + l] = x;
      }
      for (size_t w = 0; w < 8; ++w) {
        uint32_t x = kIv[w];
        if (cvs != nullptr) std::memcpy(&x, cvs + 32 * i + 4 * w, 4);
        state[w * kMax + l] = x;
      }
      block_len[l] = lens[i];
    }
    for (size_t w = 0; w < 16; ++w) m[w] = hn::Load(d, words + w * kMax);
    for (size_t w = 0; w < 8; ++w) v[w] = hn::Load(d, state + w * kMax);
    v[14] = hn::Load(d, block_len);
#endif
    for (size_t w = 0; w < 4; ++w) v[8 + w] = hn::Set(d, kIv[w]);
    v[12] = hn::Zero(d);  // block counter, low and high words: the first chunk
    v[13] = hn::Zero(d);
    v[15] = hn::Set(d, flags);
    for (const uint8_t* s : kSchedule) {
      G(v[0], v[4], v[8], v[12], m[s[0]], m[s[1]]);
      G(v[1], v[5], v[9], v[13], m[s[2]], m[s[3]]);
      G(v[2], v[6], v[10], v[14], m[s[4]], m[s[5]]);
      G(v[3], v[7], v[11], v[15], m[s[6]], m[s[7]]);
      G(v[0], v[5], v[10], v[15], m[s[8]], m[s[9]]);
      G(v[1], v[6], v[11], v[12], m[s[10]], m[s[11]]);
      G(v[2], v[7], v[8], v[13], m[s[12]], m[s[13]]);
      G(v[3], v[4], v[9], v[14], m[s[14]], m[s[15]]);
    }
#if HWY_TARGET == HWY_AVX2
    for (size_t w = 0; w < 8; ++w) v[w] = hn::Xor(v[w], v[w + 8]);
    Transpose8x8(d, v);  // back to one row per lane
    for (size_t l = 0; l < n; ++l) {
      hn::StoreU(v[l], d, reinterpret_cast<uint32_t*>(out + 32 * (start + l)));
    }
#else
    for (size_t w = 0; w < 8; ++w) hn::Store(hn::Xor(v[w], v[w + 8]), d, state + w * kMax);
    for (size_t l = 0; l < n; ++l) {
      for (size_t w = 0; w < 8; ++w) {
        std::memcpy(out + 32 * (start + l) + 4 * w, &state[w * kMax + l], 4);
      }
    }
#endif
  }
}

}  // namespace hanshiro::blake3::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace hanshiro::blake3 {

HWY_EXPORT(CompressLastBlocksImpl);

void CompressLastBlocks(const uint8_t* cvs, const uint8_t* const* blocks, const uint8_t* lens,
                        uint8_t flags, size_t count, uint8_t* out) {
  HWY_DYNAMIC_DISPATCH(CompressLastBlocksImpl)(cvs, blocks, lens, flags, count, out);
}

}  // namespace hanshiro::blake3
#endif  // HWY_ONCE
