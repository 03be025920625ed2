#include "base/blake3_batch.h"

#include "blake3_impl.h"

enum { kLanes = MAX_SIMD_DEGREE };

void hanshiro_blake3_hash_same_blocks(const uint8_t* const* inputs, const size_t* lens,
                                      size_t count, size_t blocks, uint8_t* out) {
  const size_t lead_blocks = blocks - 1;
  const size_t lead_bytes = lead_blocks * BLAKE3_BLOCK_LEN;
  const uint8_t last_flags = (uint8_t)((lead_blocks == 0 ? CHUNK_START : 0) | CHUNK_END | ROOT);
  uint8_t cvs[kLanes * BLAKE3_OUT_LEN];

  for (size_t start = 0; start < count; start += kLanes) {
    const size_t n = count - start < kLanes ? count - start : kLanes;
    if (lead_blocks > 0) {
      /* Chaining values after the leading full blocks, n inputs in parallel. */
      blake3_hash_many(inputs + start, n, lead_blocks, IV, 0, false, 0, CHUNK_START, 0, cvs);
    }
    for (size_t i = 0; i < n; ++i) {
      uint32_t cv[8];
      if (lead_blocks > 0) {
        for (size_t w = 0; w < 8; ++w) cv[w] = load32(cvs + i * BLAKE3_OUT_LEN + 4 * w);
      } else {
        memcpy(cv, IV, sizeof(cv));
      }
      const size_t last_len = lens[start + i] - lead_bytes;
      uint8_t block[BLAKE3_BLOCK_LEN] = {0};
      memcpy(block, inputs[start + i] + lead_bytes, last_len);
      blake3_compress_in_place(cv, block, (uint8_t)last_len, 0, last_flags);
      store_cv_words(out + (start + i) * BLAKE3_OUT_LEN, cv);
    }
  }
}
