// A Bloom filter over 16-byte ids (docs/format/sstable.md, "Filter").
// Build with BloomBuilder; query the stored bytes with BloomMayContain.
// Thread-safety: the builder is single-threaded; queries are pure functions.
#ifndef HANSHIRO_SSTABLE_BLOOM_H_
#define HANSHIRO_SSTABLE_BLOOM_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hanshiro::sstable {

// One 64-bit hash of an id (REQUIRES: id.size() == 16).
uint64_t BloomHash(std::string_view id);

class BloomBuilder {
 public:
  explicit BloomBuilder(int bits_per_key) : bits_per_key_(bits_per_key) {}
  void Add(std::string_view id) { hashes_.push_back(BloomHash(id)); }
  // Appends bits then k to *out.
  void Finish(std::string* out) const;

 private:
  int bits_per_key_;
  std::vector<uint64_t> hashes_;
};

// False only when no id with this hash was added. `filter` is bits | k and
// has passed the checks of [SST-5].
bool BloomMayContain(std::string_view filter, uint64_t hash);

}  // namespace hanshiro::sstable

#endif  // HANSHIRO_SSTABLE_BLOOM_H_
