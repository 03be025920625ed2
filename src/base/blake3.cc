#include "base/blake3.h"

#include <algorithm>
#include <array>
#include <vector>

#include "base/blake3_batch.h"
#include "base/blake3_lanes.h"

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

  // Per bucket: the full blocks before each input's last one through the
  // library's SIMD hash_many (it needs equal lengths), then every last block,
  // whatever its length, one input per SIMD lane.
  std::vector<const uint8_t*> ptrs;
  std::vector<const uint8_t*> last;
  std::vector<uint8_t> last_lens;
  std::vector<uint8_t> cvs;
  std::vector<uint8_t> digests;
  for (size_t blocks = 1; blocks <= kMaxBlocks; ++blocks) {
    const std::vector<uint32_t>& bucket = buckets[blocks];
    if (bucket.empty()) continue;
    const size_t lead_bytes = (blocks - 1) * kBlockLen;
    ptrs.clear();
    last.clear();
    last_lens.clear();
    for (uint32_t i : bucket) {
      ptrs.push_back(Bytes(inputs[i]));
      last.push_back(Bytes(inputs[i]) + lead_bytes);
      last_lens.push_back(static_cast<uint8_t>(inputs[i].size() - lead_bytes));
    }
    uint8_t flags = kChunkEnd | kRoot;
    if (blocks > 1) {
      cvs.resize(bucket.size() * Hash256::kSize);
      hanshiro_blake3_lead_cvs(ptrs.data(), bucket.size(), blocks - 1, cvs.data());
    } else {
      flags |= kChunkStart;
    }
    digests.resize(bucket.size() * Hash256::kSize);
    CompressLastBlocks(blocks > 1 ? cvs.data() : nullptr, last.data(), last_lens.data(), flags,
                       bucket.size(), digests.data());
    for (size_t k = 0; k < bucket.size(); ++k) {
      std::copy_n(digests.data() + k * Hash256::kSize, Hash256::kSize,
                  out[bucket[k]].bytes.begin());
    }
  }
}

}  // namespace hanshiro::blake3
