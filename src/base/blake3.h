// BLAKE3 (32-byte output) over the reference C implementation, which picks
// SSE2 / SSE4.1 / AVX2 / AVX-512 at run time.
//
// HashMany hashes a batch of independent inputs in one call. Inputs of at most
// one chunk (1024 bytes) — leaf records and tree nodes — are hashed several at
// a time in SIMD lanes, which is several times faster than one by one. Longer
// inputs fall back to the streaming hasher. Thread-safe (no shared state).
#ifndef HANSHIRO_BASE_BLAKE3_H_
#define HANSHIRO_BASE_BLAKE3_H_

#include <span>
#include <string_view>

#include "hanshiro/hash.h"

extern "C" {
#include <blake3.h>
}

namespace hanshiro::blake3 {

Hash256 Hash(std::string_view input);

// out[i] = Hash(inputs[i]) for every i.
// REQUIRES: out.size() == inputs.size()
void HashMany(std::span<const std::string_view> inputs, std::span<Hash256> out);

// Incremental hashing of one input given in pieces. Not thread-safe.
class Hasher {
 public:
  Hasher() { blake3_hasher_init(&state_); }
  void Update(std::string_view piece) { blake3_hasher_update(&state_, piece.data(), piece.size()); }
  Hash256 Finalize() const;
  void Reset() { blake3_hasher_reset(&state_); }

 private:
  blake3_hasher state_;
};

}  // namespace hanshiro::blake3

#endif  // HANSHIRO_BASE_BLAKE3_H_
