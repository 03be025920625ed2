#include "base/blake3_batch.h"

#include "blake3_impl.h"

enum { kLanes = MAX_SIMD_DEGREE };

void hanshiro_blake3_lead_cvs(const uint8_t* const* inputs, size_t count, size_t blocks,
                              uint8_t* cvs) {
  for (size_t start = 0; start < count; start += kLanes) {
    const size_t n = count - start < kLanes ? count - start : kLanes;
    blake3_hash_many(inputs + start, n, blocks, IV, 0, false, 0, CHUNK_START, 0,
                     cvs + start * BLAKE3_OUT_LEN);
  }
}
