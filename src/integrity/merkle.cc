#include "integrity/merkle.h"

#include <bit>
#include <cstring>
#include <optional>
#include <string>

#include "base/blake3.h"

namespace hanshiro::integrity {
namespace {

constexpr size_t kNodeInputSize = 1 + 2 * Hash256::kSize;

void WriteNodeInput(char* dst, const Hash256& left, const Hash256& right) {
  dst[0] = static_cast<char>(kNodePrefix);
  std::memcpy(dst + 1, left.bytes.data(), Hash256::kSize);
  std::memcpy(dst + 1 + Hash256::kSize, right.bytes.data(), Hash256::kSize);
}

Status Broken(const char* what) { return Status::IntegrityBroken(what); }

}  // namespace

Hash256 LeafHash(std::string_view leaf_input) {
  const char prefix = static_cast<char>(kLeafPrefix);
  blake3::Hasher hasher;
  hasher.Update({&prefix, 1});
  hasher.Update(leaf_input);
  return hasher.Finalize();
}

Hash256 NodeHash(const Hash256& left, const Hash256& right) {
  char input[kNodeInputSize];
  WriteNodeInput(input, left, right);
  return blake3::Hash({input, kNodeInputSize});
}

Hash256 EmptyRoot() { return blake3::Hash({}); }

void LeafHashManyPrefixed(std::span<const std::string_view> prefixed, std::span<Hash256> out) {
  HANSHIRO_CHECK(prefixed.size() == out.size());
  for (std::string_view in : prefixed) {
    HANSHIRO_CHECK(!in.empty() && static_cast<uint8_t>(in[0]) == kLeafPrefix);
  }
  blake3::HashMany(prefixed, out);
}

uint64_t SplitPoint(uint64_t n) {
  HANSHIRO_CHECK(n > 1);
  return std::bit_floor(n - 1);
}

void CompactTree::Append(std::span<const Hash256> leaves, const NodeSink* sink) {
  if (leaves.empty()) return;
  const uint64_t old_size = size_;
  level_.assign(leaves.begin(), leaves.end());
  uint64_t start = old_size;  // index of level_[0] at the current height
  for (int h = 0; !level_.empty(); ++h) {
    // Pair each odd-indexed node with its left sibling: the edge node when
    // the first index is odd, otherwise the previous node of this level.
    const bool joins_edge = (start & 1) != 0;
    const size_t offset = joins_edge ? 1 : 0;
    const size_t pairs = joins_edge + (level_.size() - offset) / 2;
    scratch_.resize(pairs * kNodeInputSize);
    inputs_.resize(pairs);
    for (size_t k = 0; k < pairs; ++k) {
      char* dst = scratch_.data() + k * kNodeInputSize;
      if (joins_edge && k == 0) {
        WriteNodeInput(dst, edge_[h], level_[0]);
      } else {
        const size_t left = offset + 2 * (k - joins_edge);
        WriteNodeInput(dst, level_[left], level_[left + 1]);
      }
      inputs_[k] = {dst, kNodeInputSize};
    }
    if ((level_.size() - offset) % 2 == 1) edge_[h] = level_.back();
    next_.resize(pairs);
    blake3::HashMany(inputs_, next_);
    if (sink != nullptr && pairs > 0) (*sink)(h + 1, start >> 1, next_);
    level_.swap(next_);
    start >>= 1;
  }
  size_ = old_size + leaves.size();
}

void BuildRangeNodes(uint64_t begin, std::span<const Hash256> leaves, RangeNodes* out,
                     std::vector<char>* scratch) {
  out->begin = begin;
  out->end = begin + leaves.size();
  out->levels.resize(1);
  out->levels[0].assign(leaves.begin(), leaves.end());
  std::vector<std::string_view> inputs;
  for (int h = 0;; ++h) {
    const std::vector<Hash256>& below = out->levels[h];
    const uint64_t lo = out->first_index(h + 1);
    const uint64_t hi = out->end >> (h + 1);
    if (lo >= hi) break;
    // Parent j has children 2j and 2j + 1, at positions 2j - first_index(h).
    const uint64_t base = out->first_index(h);
    const size_t n = hi - lo;
    scratch->resize(n * kNodeInputSize);
    inputs.resize(n);
    for (size_t k = 0; k < n; ++k) {
      const size_t left = 2 * (lo + k) - base;
      char* dst = scratch->data() + k * kNodeInputSize;
      WriteNodeInput(dst, below[left], below[left + 1]);
      inputs[k] = {dst, kNodeInputSize};
    }
    out->levels.emplace_back(n);
    blake3::HashMany(inputs, out->levels.back());
  }
}

void CompactTree::AppendRange(const RangeNodes& range, const NodeSink* sink) {
  HANSHIRO_CHECK(range.begin == size_);
  const uint64_t b = range.begin;
  const uint64_t e = range.end;
  if (e == b) return;
  std::optional<Hash256> carry;  // the node of height h with index b >> h, when it straddles b
  std::vector<Hash256> emit;
  for (int h = 0; h < 64; ++h) {
    const uint64_t f = b >> h;
    const std::span<const Hash256> inside =
        h < static_cast<int>(range.levels.size()) ? std::span(range.levels[h])
                                                  : std::span<const Hash256>();
    const size_t count = (carry ? 1 : 0) + inside.size();  // new complete nodes at height h
    if (count == 0) break;
    auto node = [&](size_t i) -> const Hash256& {
      return carry ? (i == 0 ? *carry : inside[i - 1]) : inside[i];
    };
    if (sink != nullptr && h > 0) {
      if (carry) {
        emit.assign(1, *carry);
        emit.insert(emit.end(), inside.begin(), inside.end());
        (*sink)(h, f, emit);
      } else if (!inside.empty()) {
        (*sink)(h, range.first_index(h), inside);
      }
    }
    std::optional<Hash256> next;
    if ((f & 1) != 0) {
      next = NodeHash(edge_[h], node(0));  // node f completes its parent with the old edge
    } else if (carry && count >= 2) {
      next = NodeHash(*carry, node(1));  // a straddling node of even index and its sibling
    }
    if (((e >> h) & 1) != 0) edge_[h] = node(count - 1);
    carry = next;
  }
  size_ = e;
}

Hash256 CompactTree::Root() const {
  if (size_ == 0) return EmptyRoot();
  int h = std::countr_zero(size_);
  Hash256 root = edge_[h];
  for (++h; h < 64; ++h) {
    if ((size_ >> h) & 1) root = NodeHash(edge_[h], root);
  }
  return root;
}

Result<Hash256> RangeHash(uint64_t begin, uint64_t end, const PerfectHashFn& perfect) {
  const uint64_t n = end - begin;
  if (std::has_single_bit(n)) {
    const int height = std::countr_zero(n);
    return perfect(height, begin >> height);
  }
  const uint64_t k = SplitPoint(n);
  HANSHIRO_ASSIGN_OR_RETURN(Hash256 left, RangeHash(begin, begin + k, perfect));
  HANSHIRO_ASSIGN_OR_RETURN(Hash256 right, RangeHash(begin + k, end, perfect));
  return NodeHash(left, right);
}

namespace {

// PATH(m, D[begin:end]) with hashes appended leaf-side first.
Status AppendPath(uint64_t m, uint64_t begin, uint64_t end, const PerfectHashFn& perfect,
                  std::vector<Hash256>* path) {
  const uint64_t n = end - begin;
  if (n == 1) return Status::OK();
  const uint64_t k = SplitPoint(n);
  Result<Hash256> sibling = Status::InvalidArgument("unset");
  if (m < k) {
    HANSHIRO_RETURN_IF_ERROR(AppendPath(m, begin, begin + k, perfect, path));
    sibling = RangeHash(begin + k, end, perfect);
  } else {
    HANSHIRO_RETURN_IF_ERROR(AppendPath(m - k, begin + k, end, perfect, path));
    sibling = RangeHash(begin, begin + k, perfect);
  }
  if (!sibling.ok()) return sibling.status();
  path->push_back(*sibling);
  return Status::OK();
}

// SUBPROOF(m, D[begin:end], b).
Status AppendSubproof(uint64_t m, uint64_t begin, uint64_t end, bool whole,
                      const PerfectHashFn& perfect, std::vector<Hash256>* path) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (whole) return Status::OK();
    HANSHIRO_ASSIGN_OR_RETURN(Hash256 h, RangeHash(begin, end, perfect));
    path->push_back(h);
    return Status::OK();
  }
  const uint64_t k = SplitPoint(n);
  Result<Hash256> sibling = Status::InvalidArgument("unset");
  if (m <= k) {
    HANSHIRO_RETURN_IF_ERROR(AppendSubproof(m, begin, begin + k, whole, perfect, path));
    sibling = RangeHash(begin + k, end, perfect);
  } else {
    HANSHIRO_RETURN_IF_ERROR(AppendSubproof(m - k, begin + k, end, false, perfect, path));
    sibling = RangeHash(begin, begin + k, perfect);
  }
  if (!sibling.ok()) return sibling.status();
  path->push_back(*sibling);
  return Status::OK();
}

}  // namespace

Result<std::vector<Hash256>> InclusionPath(uint64_t index, uint64_t size,
                                           const PerfectHashFn& perfect) {
  HANSHIRO_CHECK(index < size);
  std::vector<Hash256> path;
  HANSHIRO_RETURN_IF_ERROR(AppendPath(index, 0, size, perfect, &path));
  return path;
}

Result<std::vector<Hash256>> ConsistencyPath(uint64_t old_size, uint64_t new_size,
                                             const PerfectHashFn& perfect) {
  HANSHIRO_CHECK(old_size > 0 && old_size <= new_size);
  std::vector<Hash256> path;
  HANSHIRO_RETURN_IF_ERROR(AppendSubproof(old_size, 0, new_size, true, perfect, &path));
  return path;
}

Status VerifyInclusion(uint64_t index, uint64_t size, const Hash256& leaf,
                       std::span<const Hash256> path, const Hash256& root) {
  if (index >= size) return Broken("inclusion proof: leaf index is not below the tree size");
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash256 r = leaf;
  for (const Hash256& p : path) {
    if (sn == 0) return Broken("inclusion proof: path is longer than the tree is deep");
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Broken("inclusion proof: path is shorter than the tree is deep");
  if (r != root) return Broken("inclusion proof: computed root does not match the tree head");
  return Status::OK();
}

Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash256& old_root,
                         const Hash256& new_root, std::span<const Hash256> path) {
  if (old_size == 0 || old_size > new_size) {
    return Broken("consistency proof: sizes must satisfy 0 < old <= new");
  }
  if (old_size == new_size) {
    if (!path.empty()) return Broken("consistency proof: equal sizes need an empty path");
    if (old_root != new_root) return Broken("consistency proof: equal sizes with different roots");
    return Status::OK();
  }
  std::vector<Hash256> full;
  if (std::has_single_bit(old_size)) full.push_back(old_root);
  full.insert(full.end(), path.begin(), path.end());
  if (full.empty()) return Broken("consistency proof: empty path");
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash256 fr = full[0];
  Hash256 sr = full[0];
  for (size_t i = 1; i < full.size(); ++i) {
    const Hash256& c = full[i];
    if (sn == 0) return Broken("consistency proof: path is too long");
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Broken("consistency proof: path is too short");
  if (fr != old_root) return Broken("consistency proof: old root does not match");
  if (sr != new_root) return Broken("consistency proof: new root does not match");
  return Status::OK();
}

}  // namespace hanshiro::integrity
