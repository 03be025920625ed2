/* C entry point over the BLAKE3 internals (blake3_impl.h is C-only). */
#ifndef HANSHIRO_BASE_BLAKE3_BATCH_H_
#define HANSHIRO_BASE_BLAKE3_BATCH_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Hashes `count` inputs of lens[i] bytes that all span the same number of
 * 64-byte blocks, `blocks` in 1..16 (so each input fits one 1024-byte BLAKE3
 * chunk), writing 32 bytes per input to out + 32 * i. The full blocks before
 * each input's last block go through the SIMD blake3_hash_many; the last
 * block of each is then compressed with the ROOT flag.
 * REQUIRES: 64 * (blocks - 1) < lens[i] <= 64 * blocks for every i. */
void hanshiro_blake3_hash_same_blocks(const uint8_t* const* inputs, const size_t* lens,
                                      size_t count, size_t blocks, uint8_t* out);

#ifdef __cplusplus
}
#endif

#endif /* HANSHIRO_BASE_BLAKE3_BATCH_H_ */
