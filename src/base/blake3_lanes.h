// The last block of many BLAKE3 inputs at once: one SIMD lane per input,
// each with its own chaining value and block length (Highway, run-time
// dispatch). HashMany uses it after the library's blake3_hash_many has
// compressed the full blocks before it, which needs equal lengths.
// Stateless; thread-safe.
#ifndef HANSHIRO_BASE_BLAKE3_LANES_H_
#define HANSHIRO_BASE_BLAKE3_LANES_H_

#include <cstddef>
#include <cstdint>

namespace hanshiro::blake3 {

// BLAKE3 domain flags (the specification's CHUNK_START, CHUNK_END, ROOT).
inline constexpr uint8_t kChunkStart = 1;
inline constexpr uint8_t kChunkEnd = 2;
inline constexpr uint8_t kRoot = 8;

// For each i < count: compresses the lens[i] bytes at blocks[i] (1..64,
// zero-padded to a block) into the chaining value cvs + 32 * i (the key
// words when cvs is null), block counter 0, with `flags`, and writes the
// first 32 bytes of the output to out + 32 * i. With kRoot among the flags
// that is the hash of an input whose last block this is.
void CompressLastBlocks(const uint8_t* cvs, const uint8_t* const* blocks, const uint8_t* lens,
                        uint8_t flags, size_t count, uint8_t* out);

}  // namespace hanshiro::blake3

#endif  // HANSHIRO_BASE_BLAKE3_LANES_H_
