/* C entry point over the BLAKE3 internals (blake3_impl.h is C-only). */
#ifndef HANSHIRO_BASE_BLAKE3_BATCH_H_
#define HANSHIRO_BASE_BLAKE3_BATCH_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The chaining values of `count` inputs after their first `blocks` full
 * 64-byte blocks (1..15, all within the first 1024-byte chunk), through the
 * library's SIMD blake3_hash_many; 32 bytes per input to cvs + 32 * i.
 * Each input's last block is then compressed with CompressLastBlocks. */
void hanshiro_blake3_lead_cvs(const uint8_t* const* inputs, size_t count, size_t blocks,
                              uint8_t* cvs);

#ifdef __cplusplus
}
#endif

#endif /* HANSHIRO_BASE_BLAKE3_BATCH_H_ */
