#include "integrity/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "env/test_dir.h"
#include "integrity/merkle.h"

namespace hanshiro::integrity {
namespace {

TreeHead SampleHead() {
  TreeHead head;
  head.size = 42;
  head.root = LeafHash("root");
  head.time_ns = 1'700'000'000'000'000'000;
  return head;
}

TEST(CheckpointTest, SignVerifyEncodeDecode) {
  auto key = SigningKey::Generate();
  ASSERT_TRUE(key.ok());
  auto cp = SignTreeHead(*key, SampleHead());
  ASSERT_TRUE(cp.ok());
  EXPECT_TRUE(VerifyCheckpoint(*cp, key->public_key()).ok());
  const std::string bytes = EncodeCheckpoint(*cp);
  EXPECT_EQ(bytes.size(), kCheckpointSize);
  auto back = DecodeCheckpoint(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->head.size, 42u);
  EXPECT_EQ(back->head.root, cp->head.root);
  EXPECT_TRUE(VerifyCheckpoint(*back, key->public_key()).ok());
}

TEST(CheckpointTest, AlteredHeadOrOtherKeyFails) {
  auto key = *SigningKey::Generate();
  auto other = *SigningKey::Generate();
  auto cp = *SignTreeHead(key, SampleHead());
  EXPECT_TRUE(VerifyCheckpoint(cp, other.public_key()).IsIntegrityBroken());
  auto bigger = cp;
  bigger.head.size = 43;
  EXPECT_TRUE(VerifyCheckpoint(bigger, key.public_key()).IsIntegrityBroken());
  auto resigned = cp;
  resigned.key = other.public_key();  // claims the other key, signature is still key's
  EXPECT_TRUE(VerifyCheckpoint(resigned, other.public_key()).IsIntegrityBroken());
}

TEST(CheckpointTest, EveryTruncationAndBitFlipIsRejected) {
  auto key = *SigningKey::Generate();
  const std::string bytes = EncodeCheckpoint(*SignTreeHead(key, SampleHead()));
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_TRUE(DecodeCheckpoint(bytes.substr(0, n)).status().IsCorruption()) << n;
  }
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string bad = bytes;
    bad[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    EXPECT_FALSE(DecodeCheckpoint(bad).ok()) << bit;
  }
}

TEST(CheckpointTest, KeyFileIsCreatedOnceThenLoaded) {
  testing::TestDir dir;
  auto a = LoadOrCreateSigningKey(Env::Default(), dir.File("key"));
  ASSERT_TRUE(a.ok());
  auto b = LoadOrCreateSigningKey(Env::Default(), dir.File("key"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->public_key(), b->public_key());
  EXPECT_EQ(std::filesystem::status(dir.File("key")).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::string bytes = *ReadFileToString(Env::Default(), dir.File("key"));
  bytes[20] ^= 1;
  ASSERT_TRUE(WriteStringToFile(Env::Default(), bytes, dir.File("key"), false).ok());
  EXPECT_TRUE(LoadOrCreateSigningKey(Env::Default(), dir.File("key")).status().IsCorruption());
}

TEST(CheckpointTest, StandaloneProofVerification) {
  auto key = *SigningKey::Generate();
  std::vector<Hash256> leaves;
  for (uint64_t seq = 0; seq < 20; ++seq) {
    leaves.push_back(LeafHash(LeafInput(seq, 1, "payload " + std::to_string(seq))));
  }
  CompactTree tree;
  tree.Append(leaves);
  auto perfect = [&](int h, uint64_t i) -> Result<Hash256> {
    CompactTree t;
    t.Append({leaves.data() + (i << h), size_t{1} << h});
    return t.Root();
  };
  TreeHead head{20, tree.Root(), 1};
  InclusionProof proof{*SignTreeHead(key, head), 7, *InclusionPath(7, 20, perfect)};
  const std::string bytes = EncodeInclusionProof(proof);
  EXPECT_TRUE(VerifyInclusionProof(bytes, key.public_key(), 1, "payload 7").ok());
  EXPECT_TRUE(VerifyInclusionProof(bytes, key.public_key(), 1, "payload 8").IsIntegrityBroken());
  EXPECT_TRUE(VerifyInclusionProof(bytes, key.public_key(), 2, "payload 7").IsIntegrityBroken());
  auto other = *SigningKey::Generate();
  EXPECT_TRUE(VerifyInclusionProof(bytes, other.public_key(), 1, "payload 7").IsIntegrityBroken());
  std::string flipped = bytes;
  flipped[100] ^= 1;
  EXPECT_FALSE(VerifyInclusionProof(flipped, key.public_key(), 1, "payload 7").ok());

  CompactTree old_tree;
  old_tree.Append({leaves.data(), 13});
  ConsistencyProof cproof{*SignTreeHead(key, {13, old_tree.Root(), 0}), proof.checkpoint,
                          *ConsistencyPath(13, 20, perfect)};
  EXPECT_TRUE(VerifyConsistencyProof(EncodeConsistencyProof(cproof), key.public_key()).ok());
  cproof.path[0].bytes[3] ^= 1;
  EXPECT_TRUE(VerifyConsistencyProof(EncodeConsistencyProof(cproof), key.public_key())
                  .IsIntegrityBroken());
}

}  // namespace
}  // namespace hanshiro::integrity
