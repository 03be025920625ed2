// The integrity tree: RFC 9162 (Certificate Transparency v2) Merkle tree
// shape with BLAKE3 and domain-separated hashing (docs/format/integrity.md).
//
//   leaf hash = BLAKE3(0x00 || leaf input)     node = BLAKE3(0x01 || left || right)
//   root of the empty tree = BLAKE3("")
//
// where a leaf input is the WAL record after its CRC: seq, kind, length,
// payload (see wal.md [WAL-7]). This file holds the hash functions, the
// CompactTree that appends leaves and yields the root, proof generation over
// any source of subtree hashes, and the two RFC 9162 verification algorithms.
// Everything here is stateless or owned by one thread; see each class.
#ifndef HANSHIRO_INTEGRITY_MERKLE_H_
#define HANSHIRO_INTEGRITY_MERKLE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "hanshiro/hash.h"
#include "hanshiro/status.h"

namespace hanshiro::integrity {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// BLAKE3(0x00 || leaf_input).
Hash256 LeafHash(std::string_view leaf_input);
// BLAKE3(0x01 || left || right).
Hash256 NodeHash(const Hash256& left, const Hash256& right);
// BLAKE3 of no bytes: the root of the tree of size 0.
Hash256 EmptyRoot();

// out[i] = LeafHash of prefixed[i] past its first byte, many at a time
// (SIMD lanes). Each input starts with the leaf prefix: the caller puts
// kLeafPrefix in the byte before the leaf input (the log lends it the
// byte before each record's), so the inputs are hashed where they lie.
// REQUIRES: out.size() == prefixed.size(); prefixed[i][0] == kLeafPrefix
void LeafHashManyPrefixed(std::span<const std::string_view> prefixed, std::span<Hash256> out);

// Largest power of two strictly less than n. REQUIRES: n > 1
uint64_t SplitPoint(uint64_t n);

// Receives each node of a perfect subtree as it is completed: the subtree of
// 2^height leaves [index * 2^height, (index + 1) * 2^height). `hashes` are the
// consecutive nodes of one height starting at `first_index`.
using NodeSink = std::function<void(int height, uint64_t first_index,
                                    std::span<const Hash256> hashes)>;

// Every node of the perfect subtrees that lie inside leaves [begin, end):
// levels[h] holds the nodes of height h with indices
// [ceil(begin / 2^h), floor(end / 2^h)); levels[0] is the leaves. It needs no
// other state, so each writer computes it for its own batch, in parallel;
// CompactTree::AppendRange then adds only O(log n) nodes that straddle.
struct RangeNodes {
  uint64_t begin = 0;
  uint64_t end = 0;
  std::vector<std::vector<Hash256>> levels;
  // First index of levels[h].
  uint64_t first_index(int h) const { return (begin + (uint64_t{1} << h) - 1) >> h; }
};
// Fills *out for leaves numbered from `begin`. `scratch` is reused.
void BuildRangeNodes(uint64_t begin, std::span<const Hash256> leaves, RangeNodes* out,
                     std::vector<char>* scratch);

// The right edge of a tree: for every set bit h of size(), the root of the
// perfect subtree of 2^h leaves that ends at the largest such boundary. That
// is all it takes to append leaves and to compute the root. A value type;
// not thread-safe.
class CompactTree {
 public:
  CompactTree() = default;
  // A tree of `size` leaves whose right edge is `edge` (edge[h] meaningful
  // where bit h of size is set).
  CompactTree(uint64_t size, const std::array<Hash256, 64>& edge) : size_(size), edge_(edge) {}

  uint64_t size() const { return size_; }
  const std::array<Hash256, 64>& edge() const { return edge_; }

  // Appends leaf hashes. When sink is set it sees every completed node of
  // height >= 1 (height 0, the leaves themselves, the caller already has).
  void Append(std::span<const Hash256> leaves, const NodeSink* sink = nullptr);
  // The same as Append(range.levels[0]), computing only the nodes that
  // straddle size() (O(log n) hashes); sink sees every completed node of
  // height >= 1 in index order, as with Append. REQUIRES: range.begin == size()
  void AppendRange(const RangeNodes& range, const NodeSink* sink = nullptr);
  Hash256 Root() const;

 private:
  uint64_t size_ = 0;
  std::array<Hash256, 64> edge_{};
  std::vector<Hash256> level_, next_;
  std::vector<char> scratch_;
  std::vector<std::string_view> inputs_;
};

// Returns the hash of the perfect subtree of 2^height leaves with the given
// index (leaves [index << height, (index + 1) << height)). May fail (I/O).
using PerfectHashFn = std::function<Result<Hash256>(int height, uint64_t index)>;

// MTH(D[begin:end]) in RFC 9162 terms, from perfect subtree hashes.
// REQUIRES: begin < end, and begin aligned as RFC 9162 recursion produces it.
Result<Hash256> RangeHash(uint64_t begin, uint64_t end, const PerfectHashFn& perfect);

// RFC 9162 §2.1.3.1 PATH(index, D[0:size]). REQUIRES: index < size
Result<std::vector<Hash256>> InclusionPath(uint64_t index, uint64_t size,
                                           const PerfectHashFn& perfect);
// RFC 9162 §2.1.4.1 PROOF(old_size, D[0:new_size]). REQUIRES: 0 < old_size <= new_size
Result<std::vector<Hash256>> ConsistencyPath(uint64_t old_size, uint64_t new_size,
                                             const PerfectHashFn& perfect);

// RFC 9162 §2.1.3.2. OK when `path` proves that `leaf` is leaf number `index`
// of the tree of `size` leaves with root `root`; IntegrityBroken otherwise.
Status VerifyInclusion(uint64_t index, uint64_t size, const Hash256& leaf,
                       std::span<const Hash256> path, const Hash256& root);
// RFC 9162 §2.1.4.2. OK when `path` proves that the tree of old_size leaves
// with root old_root is a prefix of the tree of new_size leaves with new_root.
Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash256& old_root,
                         const Hash256& new_root, std::span<const Hash256> path);

}  // namespace hanshiro::integrity

#endif  // HANSHIRO_INTEGRITY_MERKLE_H_
