#include "integrity/merkle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <tuple>
#include <string>
#include <vector>

#include "base/blake3.h"

namespace hanshiro::integrity {
namespace {

std::vector<Hash256> MakeLeaves(size_t n, uint64_t seed = 1) {
  std::vector<Hash256> leaves(n);
  for (size_t i = 0; i < n; ++i) leaves[i] = LeafHash("leaf " + std::to_string(seed * 1000003 + i));
  return leaves;
}

// RFC 9162 MTH, straight from the definition.
Hash256 ReferenceRoot(const std::vector<Hash256>& leaves, size_t begin, size_t end) {
  if (end == begin) return blake3::Hash({});
  if (end - begin == 1) return leaves[begin];
  const size_t k = SplitPoint(end - begin);
  return NodeHash(ReferenceRoot(leaves, begin, begin + k), ReferenceRoot(leaves, begin + k, end));
}

// Every perfect subtree hash of `leaves`, for proof generation in tests.
class PerfectTable {
 public:
  explicit PerfectTable(std::vector<Hash256> leaves) {
    levels_.push_back(std::move(leaves));
    while (levels_.back().size() > 1) {
      const auto& below = levels_.back();
      std::vector<Hash256> up;
      for (size_t i = 0; i + 1 < below.size(); i += 2) up.push_back(NodeHash(below[i], below[i + 1]));
      levels_.push_back(std::move(up));
    }
  }
  PerfectHashFn Fn() const {
    return [this](int h, uint64_t i) -> Result<Hash256> { return levels_.at(h).at(i); };
  }

 private:
  std::vector<std::vector<Hash256>> levels_;
};

TEST(MerkleTest, DomainSeparation) {
  const Hash256 a = LeafHash("x");
  EXPECT_NE(a, blake3::Hash("x"));
  EXPECT_EQ(a, blake3::Hash(std::string("\0x", 2)));
  const Hash256 b = LeafHash("y");
  std::string node_input(1, '\x01');
  node_input.append(a.view());
  node_input.append(b.view());
  EXPECT_EQ(NodeHash(a, b), blake3::Hash(node_input));
  EXPECT_EQ(EmptyRoot(), blake3::Hash(""));
}

TEST(MerkleTest, LeafHashManyEqualsOneByOne) {
  std::vector<std::string> inputs, prefixed;
  for (int i = 0; i < 300; ++i) {
    inputs.push_back(std::string(i * 7 % 1100, static_cast<char>(i)));
    prefixed.push_back(std::string(1, static_cast<char>(kLeafPrefix)) + inputs.back());
  }
  std::vector<std::string_view> views(prefixed.begin(), prefixed.end());
  std::vector<Hash256> out(views.size());
  LeafHashManyPrefixed(views, out);
  for (size_t i = 0; i < inputs.size(); ++i) EXPECT_EQ(out[i], LeafHash(inputs[i])) << i;
}

TEST(MerkleTest, CompactTreeRootMatchesDefinitionForEverySizeUpTo300) {
  const auto leaves = MakeLeaves(300);
  CompactTree tree;
  EXPECT_EQ(tree.Root(), EmptyRoot());
  for (size_t n = 1; n <= leaves.size(); ++n) {
    tree.Append({&leaves[n - 1], 1});
    ASSERT_EQ(tree.Root(), ReferenceRoot(leaves, 0, n)) << n;
  }
}

TEST(MerkleTest, CompactTreeAppendInRandomChunksEmitsEveryNode) {
  const auto leaves = MakeLeaves(5000);
  PerfectTable table(leaves);
  std::mt19937_64 rng(7);
  CompactTree tree;
  size_t emitted = 0;
  const NodeSink sink = [&](int h, uint64_t first, std::span<const Hash256> nodes) {
    for (size_t i = 0; i < nodes.size(); ++i) {
      ASSERT_EQ(nodes[i], *table.Fn()(h, first + i)) << h << " " << first + i;
      ++emitted;
    }
  };
  size_t done = 0;
  while (done < leaves.size()) {
    const size_t n = std::min<size_t>(leaves.size() - done, rng() % 700);
    tree.Append({leaves.data() + done, n}, &sink);
    done += n;
    ASSERT_EQ(tree.Root(), ReferenceRoot(leaves, 0, done)) << done;
  }
  EXPECT_EQ(emitted, leaves.size() - std::popcount(leaves.size()));  // n - 1 nodes minus edge gaps
}

TEST(MerkleTest, AppendRangeEqualsAppendForRandomSplits) {
  const auto leaves = MakeLeaves(6000);
  std::mt19937_64 rng(5);
  for (int round = 0; round < 20; ++round) {
    CompactTree a, b;
    std::vector<std::tuple<int, uint64_t, Hash256>> seen_a, seen_b;
    const NodeSink sink_a = [&](int h, uint64_t first, std::span<const Hash256> nodes) {
      for (size_t i = 0; i < nodes.size(); ++i) seen_a.emplace_back(h, first + i, nodes[i]);
    };
    const NodeSink sink_b = [&](int h, uint64_t first, std::span<const Hash256> nodes) {
      for (size_t i = 0; i < nodes.size(); ++i) seen_b.emplace_back(h, first + i, nodes[i]);
    };
    std::vector<char> scratch;
    RangeNodes range;
    for (size_t done = 0; done < leaves.size();) {
      const size_t n = std::min<size_t>(leaves.size() - done, rng() % (round < 10 ? 9 : 1500));
      std::span<const Hash256> part(leaves.data() + done, n);
      a.Append(part, &sink_a);
      BuildRangeNodes(done, part, &range, &scratch);
      b.AppendRange(range, &sink_b);
      done += n;
      ASSERT_EQ(a.Root(), b.Root()) << done;
    }
    ASSERT_EQ(b.Root(), ReferenceRoot(leaves, 0, leaves.size()));
    std::sort(seen_a.begin(), seen_a.end());
    std::sort(seen_b.begin(), seen_b.end());
    ASSERT_EQ(seen_a, seen_b) << round;
  }
}

TEST(MerkleTest, InclusionProofsRoundTripForEveryLeafOfSizesUpTo300) {
  const auto leaves = MakeLeaves(300);
  PerfectTable table(leaves);
  for (uint64_t n = 1; n <= 300; ++n) {
    const Hash256 root = ReferenceRoot(leaves, 0, n);
    for (uint64_t i = 0; i < n; ++i) {
      auto path = InclusionPath(i, n, table.Fn());
      ASSERT_TRUE(path.ok());
      ASSERT_TRUE(VerifyInclusion(i, n, leaves[i], *path, root).ok()) << i << "/" << n;
      // A different leaf, index or root fails.
      EXPECT_TRUE(VerifyInclusion(i, n, leaves[(i + 1) % 300], *path, root).IsIntegrityBroken());
      if (n > 1) {
        EXPECT_FALSE(VerifyInclusion((i + 1) % n, n, leaves[i], *path, root).ok()) << i << "/" << n;
      }
    }
  }
}

TEST(MerkleTest, ConsistencyProofsRoundTripForEveryPairUpTo300) {
  const auto leaves = MakeLeaves(300);
  PerfectTable table(leaves);
  std::vector<Hash256> roots(301);
  for (uint64_t n = 1; n <= 300; ++n) roots[n] = ReferenceRoot(leaves, 0, n);
  for (uint64_t n = 1; n <= 300; ++n) {
    for (uint64_t m = 1; m <= n; ++m) {
      auto path = ConsistencyPath(m, n, table.Fn());
      ASSERT_TRUE(path.ok());
      ASSERT_TRUE(VerifyConsistency(m, n, roots[m], roots[n], *path).ok()) << m << "->" << n;
      if (m < n) {
        // The old root of a different size, or a tampered path, fails.
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m == 1 ? 2 : m - 1], roots[n], *path).ok());
        auto bad = *path;
        bad.back().bytes[0] ^= 1;
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], bad).ok()) << m << "->" << n;
      }
    }
  }
}

TEST(MerkleTest, ProofsAtRandomLargerSizes) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 3; ++round) {
    const uint64_t n = 300 + rng() % 40000;
    const auto leaves = MakeLeaves(n, round + 2);
    PerfectTable table(leaves);
    CompactTree tree;
    tree.Append(leaves);
    const Hash256 root = tree.Root();
    for (int k = 0; k < 50; ++k) {
      const uint64_t i = rng() % n;
      auto path = InclusionPath(i, n, table.Fn());
      ASSERT_TRUE(path.ok());
      EXPECT_TRUE(VerifyInclusion(i, n, leaves[i], *path, root).ok());
      const uint64_t m = 1 + rng() % n;
      CompactTree prefix;
      prefix.Append({leaves.data(), m});
      auto cpath = ConsistencyPath(m, n, table.Fn());
      ASSERT_TRUE(cpath.ok());
      EXPECT_TRUE(VerifyConsistency(m, n, prefix.Root(), root, *cpath).ok()) << m << "->" << n;
    }
  }
}

TEST(MerkleTest, MalformedProofsAreRejected) {
  const auto leaves = MakeLeaves(37);
  PerfectTable table(leaves);
  const Hash256 root = ReferenceRoot(leaves, 0, 37);
  auto path = *InclusionPath(5, 37, table.Fn());
  EXPECT_TRUE(VerifyInclusion(37, 37, leaves[5], path, root).IsIntegrityBroken());
  auto shorter = path;
  shorter.pop_back();
  EXPECT_TRUE(VerifyInclusion(5, 37, leaves[5], shorter, root).IsIntegrityBroken());
  auto longer = path;
  longer.push_back(root);
  EXPECT_TRUE(VerifyInclusion(5, 37, leaves[5], longer, root).IsIntegrityBroken());
  EXPECT_TRUE(VerifyConsistency(0, 37, root, root, {}).IsIntegrityBroken());
  EXPECT_TRUE(VerifyConsistency(38, 37, root, root, {}).IsIntegrityBroken());
  EXPECT_TRUE(VerifyConsistency(37, 37, root, root, path).IsIntegrityBroken());
  EXPECT_TRUE(VerifyConsistency(37, 37, root, leaves[0], {}).IsIntegrityBroken());
  EXPECT_TRUE(VerifyConsistency(37, 37, root, root, {}).ok());
}

}  // namespace
}  // namespace hanshiro::integrity
