#include "base/blake3.h"

#include <algorithm>
#include <array>
#include <vector>

#include "base/blake3_batch.h"

namespace hanshiro::blake3 {
namespace {

constexpr size_t kBlockLen = 64;
constexpr size_t kMaxBlocks = 16;  // one 1024-byte chunk

const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

}  // namespace

Hash256 Hasher::Finalize() const {
  Hash256 h;
  blake3_hasher_finalize(&state_, h.bytes.data(), h.bytes.size());
  return h;
}

Hash256 Hash(std::string_view input) {
  Hasher hasher;
  hasher.Update(input);
  return hasher.Finalize();
}

void HashMany(std::span<const std::string_view> inputs, std::span<Hash256> out) {
  HANSHIRO_CHECK(inputs.size() == out.size());
  // Bucket the single-chunk inputs by block count; each bucket is one batch.
  std::array<std::vector<uint32_t>, kMaxBlocks + 1> buckets;
  for (uint32_t i = 0; i < inputs.size(); ++i) {
    const size_t blocks = (inputs[i].size() + kBlockLen - 1) / kBlockLen;
    if (blocks == 0 || blocks > kMaxBlocks) {
      out[i] = Hash(inputs[i]);
    } else {
      buckets[blocks].push_back(i);
    }
  }

  std::vector<const uint8_t*> ptrs;
  std::vector<size_t> lens;
  std::vector<uint8_t> digests;
  for (size_t blocks = 1; blocks <= kMaxBlocks; ++blocks) {
    const std::vector<uint32_t>& bucket = buckets[blocks];
    if (bucket.empty()) continue;
    ptrs.clear();
    lens.clear();
    for (uint32_t i : bucket) {
      ptrs.push_back(Bytes(inputs[i]));
      lens.push_back(inputs[i].size());
    }
    digests.resize(bucket.size() * Hash256::kSize);
    hanshiro_blake3_hash_same_blocks(ptrs.data(), lens.data(), bucket.size(), blocks,
                                     digests.data());
    for (size_t k = 0; k < bucket.size(); ++k) {
      std::copy_n(digests.data() + k * Hash256::kSize, Hash256::kSize,
                  out[bucket[k]].bytes.begin());
    }
  }
}

}  // namespace hanshiro::blake3
