#include "base/blake3.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "base/simd_test_util.h"

namespace hanshiro::blake3 {
namespace {

using ::hanshiro::testing::ForEachSimdTarget;

// The official vectors' input: byte i is i % 251.
std::string VectorInput(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

// From BLAKE3's test_vectors/test_vectors.json (first 32 bytes of "hash").
TEST(Blake3Test, MatchesPublishedVectors) {
  const std::pair<size_t, const char*> vectors[] = {
      {0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},
      {1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"},
      {2, "7b7015bb92cf0b318037702a6cdd81dee41224f734684c2c122cd6359cb1ee63"},
      {3, "e1be4d7a8ab5560aa4199eea339849ba8e293d55ca0a81006726d184519e647f"},
      {1025, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"},
  };
  for (const auto& [len, hex] : vectors) {
    EXPECT_EQ(Hash(VectorInput(len)).ToHex(), hex) << "input_len " << len;
  }
}

TEST(Blake3Test, IncrementalEqualsOneShot) {
  const std::string input = VectorInput(5000);
  Hasher h;
  for (size_t i = 0; i < input.size(); i += 333) h.Update(std::string_view(input).substr(i, 333));
  EXPECT_EQ(h.Finalize(), Hash(input));
}

// HashMany must agree with Hash on every length around block and chunk
// boundaries, in batches that mix lengths (and so block counts).
TEST(Blake3Test, HashManyEqualsHashForEveryLength) {
  const std::string data = VectorInput(2200);
  std::vector<std::string_view> inputs;
  for (size_t len = 0; len <= 2100; ++len) {
    inputs.push_back(std::string_view(data).substr(len % 97, len));
  }
  ForEachSimdTarget([&] {
    std::vector<Hash256> out(inputs.size());
    HashMany(inputs, out);
    for (size_t i = 0; i < inputs.size(); ++i) {
      ASSERT_EQ(out[i], Hash(inputs[i])) << "length " << inputs[i].size();
    }
  });
}

TEST(Blake3Test, HashManyHandlesManyInputsOfOneLength) {
  // More inputs than SIMD lanes, same block count, different contents.
  std::mt19937 rng(1);
  std::vector<std::string> storage(100, std::string(300, '\0'));
  for (auto& s : storage) {
    for (char& c : s) c = static_cast<char>(rng());
  }
  std::vector<std::string_view> inputs(storage.begin(), storage.end());
  // Node inputs of the integrity tree: 65 bytes, a full block and one byte.
  std::vector<std::string> nodes(37, std::string(65, '\0'));
  for (auto& s : nodes) {
    for (char& c : s) c = static_cast<char>(rng());
  }
  inputs.insert(inputs.end(), nodes.begin(), nodes.end());
  ForEachSimdTarget([&] {
    std::vector<Hash256> out(inputs.size());
    HashMany(inputs, out);
    for (size_t i = 0; i < inputs.size(); ++i) ASSERT_EQ(out[i], Hash(inputs[i])) << i;
  });
}

TEST(Blake3Test, HexRoundTrip) {
  const Hash256 h = Hash("abc");
  auto parsed = Hash256::FromHex(h.ToHex());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, h);
  EXPECT_TRUE(Hash256::FromHex("xyz").status().IsInvalidArgument());
}

}  // namespace
}  // namespace hanshiro::blake3
