#include "cli/stats_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "env/test_dir.h"

namespace hanshiro::cli {
namespace {

using hanshiro::testing::TestDir;

TEST(StatsCommandTest, MissingDirectoryIsReportedNotCreated) {
  TestDir dir;
  const std::string missing = dir.File("nope");
  auto stats = CollectStats(Env::Default(), missing);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_FALSE(stats->exists);
  EXPECT_FALSE(Env::Default()->FileExists(missing));
  EXPECT_NE(FormatStatsText(*stats).find("does not exist yet"), std::string::npos);
  EXPECT_NE(FormatStatsJson(*stats).find("\"exists\":false"), std::string::npos);
}

TEST(StatsCommandTest, CountsFilesAndBytesPerSubdirectory) {
  TestDir dir;
  Env* env = Env::Default();
  ASSERT_TRUE(env->CreateDirIfMissing(dir.File("wal")).ok());
  ASSERT_TRUE(WriteStringToFile(env, "12345", dir.File("wal/000001.log"), false).ok());
  ASSERT_TRUE(WriteStringToFile(env, "123", dir.File("wal/000002.log"), false).ok());
  ASSERT_TRUE(WriteStringToFile(env, "xy", dir.File("CURRENT"), false).ok());

  auto stats = CollectStats(env, dir.path());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_TRUE(stats->exists);
  EXPECT_EQ(stats->total.files, 3u);
  EXPECT_EQ(stats->total.bytes, 10u);
  EXPECT_EQ(stats->by_dir["wal"].files, 2u);
  EXPECT_EQ(stats->by_dir["wal"].bytes, 8u);
  EXPECT_EQ(stats->by_dir["."].bytes, 2u);
  const std::string json = FormatStatsJson(*stats);
  EXPECT_NE(json.find("\"files\":3,\"bytes\":10"), std::string::npos) << json;
  EXPECT_NE(json.find("\"wal\":{\"files\":2,\"bytes\":8}"), std::string::npos) << json;
}

TEST(StatsCommandTest, SkipsDanglingLinks) {
  TestDir dir;
  ASSERT_TRUE(WriteStringToFile(Env::Default(), "abc", dir.File("real"), false).ok());
  ASSERT_EQ(::symlink(dir.File("gone").c_str(), dir.File("dangling").c_str()), 0);
  auto stats = CollectStats(Env::Default(), dir.path());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->total.files, 1u);
  EXPECT_EQ(stats->total.bytes, 3u);
}

TEST(StatsCommandTest, PathThatIsAFileIsAnError) {
  TestDir dir;
  ASSERT_TRUE(WriteStringToFile(Env::Default(), "x", dir.File("f"), false).ok());
  auto stats = CollectStats(Env::Default(), dir.File("f"));
  ASSERT_FALSE(stats.ok());
  EXPECT_TRUE(stats.status().IsInvalidArgument());
  EXPECT_NE(stats.status().message().find("not a directory"), std::string::npos);
}

}  // namespace
}  // namespace hanshiro::cli
