#include "engine/correlator.h"

#include <gtest/gtest.h>

namespace hanshiro::engine {
namespace {

TEST(CorrelatorTest, TokensAreRunsOfNameCharacters) {
  EXPECT_EQ(Tokens("c:\\temp\\evil.exe ran (pid=42)"),
            (std::vector<std::string_view>{"c", "temp", "evil.exe", "ran", "pid", "42"}));
  EXPECT_TRUE(Tokens("  !! ").empty());
}

TEST(CorrelatorTest, MatchesWholeTokensNotSubstrings) {
  ArtifactIndex index;
  CodeArtifact a;
  a.id = EventId(1, 1);
  a.file_names = {"/tmp/evil.exe"};
  a.strings = {"abc", "Bad Thing Here"};  // "abc" is too short to index
  index.Add(a);
  Event e;
  e.raw_data = "notevil.exe and abc";
  EXPECT_TRUE(index.Match(e).empty());
  e.raw_data = "ran EVIL.EXE";
  ASSERT_EQ(index.Match(e).size(), 1u);
  EXPECT_EQ(index.Match(e)[0].reason, CorrelationReason::kFileName);
  e.raw_data = "saw: bad thing here!";
  ASSERT_EQ(index.Match(e).size(), 1u);
  EXPECT_EQ(index.Match(e)[0].reason, CorrelationReason::kString);
  e.raw_data = "saw: bad thing";
  EXPECT_TRUE(index.Match(e).empty());
}

TEST(CorrelatorTest, TheStrongestReasonWinsPerArtifact) {
  ArtifactIndex index;
  CodeArtifact a;
  a.id = EventId(2, 2);
  a.sha256.fill(0x11);
  a.file_names = {"x1.dll"};
  index.Add(a);
  Event e;
  e.raw_data = "x1.dll " + std::string(64, '1');
  auto m = index.Match(e);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].reason, CorrelationReason::kSha256);
  e.raw_data = "prefix " + std::string(16, '1') + " only";
  m = index.Match(e);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].reason, CorrelationReason::kSha256Prefix);
  e.raw_data = std::string(17, '1');  // neither length
  EXPECT_TRUE(index.Match(e).empty());
}

}  // namespace
}  // namespace hanshiro::engine
