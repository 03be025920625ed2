#include "integrity/ledger.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "env/test_dir.h"
#include "integrity/ledger_format.h"

namespace hanshiro::integrity {
namespace {

std::vector<Hash256> MakeLeaves(size_t n) {
  std::vector<Hash256> leaves(n);
  for (size_t i = 0; i < n; ++i) leaves[i] = LeafHash("record " + std::to_string(i));
  return leaves;
}

Hash256 RootOf(const std::vector<Hash256>& leaves, size_t n) {
  CompactTree t;
  t.Append({leaves.data(), n});
  return t.Root();
}

class LedgerTest : public ::testing::Test {
 protected:
  std::unique_ptr<Ledger> OpenAt(uint64_t size) {
    auto ledger = Ledger::Open(Env::Default(), dir_.path());
    EXPECT_TRUE(ledger.ok()) << ledger.status().ToString();
    Status s = (*ledger)->Truncate(size);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::move(ledger).value();
  }
  testing::TestDir dir_;
};

TEST_F(LedgerTest, RootsAndProofsAcrossTwoTileLevels) {
  // 70,000 leaves: level 1 has 273 entries and level 2 one (65,536 leaves).
  const auto leaves = MakeLeaves(70000);
  auto ledger = OpenAt(0);
  std::mt19937_64 rng(3);
  for (size_t done = 0; done < leaves.size();) {
    const size_t n = std::min<size_t>(leaves.size() - done, 1 + rng() % 3000);
    ASSERT_TRUE(ledger->Append({leaves.data() + done, n}).ok());
    done += n;
  }
  EXPECT_EQ(ledger->size(), 70000u);
  EXPECT_EQ(ledger->Root(), RootOf(leaves, 70000));
  for (uint64_t n : {1u, 255u, 256u, 257u, 65535u, 65536u, 65537u, 69999u}) {
    EXPECT_EQ(*ledger->RootAt(n), RootOf(leaves, n)) << n;
  }
  EXPECT_EQ(*ledger->PerfectHash(16, 0), RootOf(leaves, 65536));
  for (int k = 0; k < 20; ++k) {
    const uint64_t i = rng() % 70000;
    auto path = ledger->InclusionPath(i, 70000);
    ASSERT_TRUE(path.ok());
    EXPECT_TRUE(VerifyInclusion(i, 70000, leaves[i], *path, ledger->Root()).ok());
    const uint64_t m = 1 + rng() % 70000;
    auto cpath = ledger->ConsistencyPath(m, 70000);
    ASSERT_TRUE(cpath.ok());
    EXPECT_TRUE(VerifyConsistency(m, 70000, RootOf(leaves, m), ledger->Root(), *cpath).ok());
  }
}

TEST_F(LedgerTest, ReopenTruncatesAndRebuildsTheEdge) {
  const auto leaves = MakeLeaves(1000);
  {
    auto ledger = OpenAt(0);
    ASSERT_TRUE(ledger->Append(leaves).ok());
    ASSERT_TRUE(ledger->Sync().ok());
  }
  auto ledger = OpenAt(777);
  EXPECT_EQ(ledger->size(), 777u);
  EXPECT_EQ(ledger->Root(), RootOf(leaves, 777));
  ASSERT_TRUE(ledger->Append({leaves.data() + 777, 223}).ok());
  EXPECT_EQ(ledger->Root(), RootOf(leaves, 1000));
}

TEST_F(LedgerTest, RebuildsLostHigherLevelEntries) {
  const auto leaves = MakeLeaves(600);
  {
    auto ledger = OpenAt(0);
    ASSERT_TRUE(ledger->Append(leaves).ok());
    ASSERT_TRUE(ledger->Sync().ok());
  }
  auto ledger0 = Ledger::Open(Env::Default(), dir_.path());
  const std::string level1 = (*ledger0)->LevelFileName(1);
  ledger0->reset();
  ASSERT_TRUE(Env::Default()->TruncateFile(level1, kLedgerHeaderSize).ok());
  auto ledger = OpenAt(600);
  // The rebuilt level-1 entry is the root of leaves 256..511.
  CompactTree second;
  second.Append({leaves.data() + 256, 256});
  EXPECT_EQ(*ledger->PerfectHash(8, 1), second.Root());
  EXPECT_EQ(ledger->Root(), RootOf(leaves, 600));
  EXPECT_EQ(*Env::Default()->GetFileSize(level1), Ledger::EntryOffset(2));
}

TEST_F(LedgerTest, TooFewLeavesIsCorruption) {
  {
    auto ledger = OpenAt(0);
    ASSERT_TRUE(ledger->Append(MakeLeaves(10)).ok());
    ASSERT_TRUE(ledger->Sync().ok());
  }
  auto ledger = Ledger::Open(Env::Default(), dir_.path());
  ASSERT_TRUE(ledger.ok());
  Status s = (*ledger)->Truncate(11);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("level-00.tiles"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("[LED-5]"), std::string::npos) << s.ToString();
}

TEST_F(LedgerTest, BadHeaderIsCorruptionNamingTheRule) {
  { auto ledger = OpenAt(0); }
  const std::string path = dir_.File("level-00.tiles");
  for (size_t byte : {0u, 9u, 20u, 28u}) {
    std::string bytes = *ReadFileToString(Env::Default(), path);
    std::string bad = bytes;
    bad[byte] ^= 0x40;
    ASSERT_TRUE(WriteStringToFile(Env::Default(), bad, path, false).ok());
    auto ledger = Ledger::Open(Env::Default(), dir_.path());
    ASSERT_FALSE(ledger.ok()) << byte;
    EXPECT_TRUE(ledger.status().IsCorruption());
    EXPECT_NE(ledger.status().message().find("[LED-"), std::string::npos);
    ASSERT_TRUE(WriteStringToFile(Env::Default(), bytes, path, false).ok());
  }
}

}  // namespace
}  // namespace hanshiro::integrity
