#include "env/fault_injection_env.h"

#include <gtest/gtest.h>

#include "env/test_dir.h"

namespace hanshiro {
namespace {

using hanshiro::testing::TestDir;

class FaultInjectionEnvTest : public ::testing::Test {
 protected:
  std::unique_ptr<WritableFile> Open(const std::string& name) {
    auto f = env_.NewWritableFile(dir_.File(name));
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return std::move(f).value();
  }
  std::string Contents(const std::string& name) {
    auto r = ReadFileToString(Env::Default(), dir_.File(name));
    return r.ok() ? *r : "<" + r.status().ToString() + ">";
  }

  TestDir dir_;
  FaultInjectionEnv env_{Env::Default()};
};

TEST_F(FaultInjectionEnvTest, FailsTheNthWriteOnlyAndWritesNothingForIt) {
  auto f = Open("f");
  env_.FailWriteAt(2);
  EXPECT_TRUE(f->Append("a").ok());
  Status s = f->Append("b");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(s.message().find("Input/output error"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(dir_.File("f")), std::string::npos);
  EXPECT_TRUE(f->Append("c").ok());
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(Contents("f"), "ac");
}

TEST_F(FaultInjectionEnvTest, FailsTheNthSyncWithTheGivenErrno) {
  auto f = Open("f");
  env_.FailSyncAt(1, ENOSPC);
  ASSERT_TRUE(f->Append("a").ok());
  Status s = f->Sync();
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.message();
  EXPECT_TRUE(f->Sync().ok());
  EXPECT_EQ(env_.syncs(), 2u);
}

TEST_F(FaultInjectionEnvTest, DiskFullFailsEveryAppendUntilCleared) {
  auto f = Open("f");
  env_.SetDiskFull(true);
  EXPECT_NE(f->Append("a").message().find("No space left on device"), std::string::npos);
  EXPECT_TRUE(f->Append("b").IsIOError());
  env_.ClearFaults();
  EXPECT_TRUE(f->Append("c").ok());
  ASSERT_TRUE(f->Close().ok());
  EXPECT_EQ(Contents("f"), "c");
}

TEST_F(FaultInjectionEnvTest, PowerLossKeepsOnlySyncedBytes) {
  ASSERT_TRUE(env_.SyncDir(dir_.path()).ok());
  auto f = Open("wal");
  ASSERT_TRUE(env_.SyncDir(dir_.path()).ok());  // the file's entry is durable
  ASSERT_TRUE(f->Append("synced|").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Append("flushed-only|").ok());
  ASSERT_TRUE(f->Flush().ok());
  ASSERT_TRUE(f->Append("buffered").ok());

  ASSERT_TRUE(env_.SimulatePowerLoss().ok());
  EXPECT_EQ(Contents("wal"), "synced|");
  // The open file is gone with the power: nothing more reaches the disk.
  EXPECT_TRUE(f->Append("late").IsIOError());
  EXPECT_TRUE(f->Sync().IsIOError());
  f.reset();
  EXPECT_EQ(Contents("wal"), "synced|");
}

TEST_F(FaultInjectionEnvTest, PowerLossRemovesFilesWhoseDirectoryWasNotSynced) {
  auto f = Open("new");
  ASSERT_TRUE(f->Append("data").ok());
  ASSERT_TRUE(f->Sync().ok());  // data synced, but not the directory entry
  ASSERT_TRUE(env_.SimulatePowerLoss().ok());
  EXPECT_FALSE(env_.FileExists(dir_.File("new")));
}

TEST_F(FaultInjectionEnvTest, PowerLossUndoesRenamesNotMadeDurable) {
  auto f = Open("tmp");
  ASSERT_TRUE(f->Append("manifest").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Close().ok());
  ASSERT_TRUE(env_.SyncDir(dir_.path()).ok());
  ASSERT_TRUE(env_.RenameFile(dir_.File("tmp"), dir_.File("CURRENT")).ok());
  ASSERT_TRUE(env_.SimulatePowerLoss().ok());
  EXPECT_FALSE(env_.FileExists(dir_.File("CURRENT")));
  EXPECT_EQ(Contents("tmp"), "manifest");
}

TEST_F(FaultInjectionEnvTest, RenameMadeDurableSurvivesPowerLoss) {
  auto f = Open("tmp");
  ASSERT_TRUE(f->Append("manifest").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(f->Close().ok());
  ASSERT_TRUE(env_.RenameFile(dir_.File("tmp"), dir_.File("CURRENT")).ok());
  ASSERT_TRUE(env_.SyncDir(dir_.path()).ok());
  ASSERT_TRUE(env_.SimulatePowerLoss().ok());
  EXPECT_EQ(Contents("CURRENT"), "manifest");
}

TEST_F(FaultInjectionEnvTest, PreexistingFileOpenedForAppendKeepsItsBytes) {
  ASSERT_TRUE(WriteStringToFile(Env::Default(), "old|", dir_.File("seg"), true).ok());
  auto f = env_.NewAppendableFile(dir_.File("seg"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("new").ok());
  ASSERT_TRUE(env_.SimulatePowerLoss().ok());
  EXPECT_EQ(Contents("seg"), "old|");
}

}  // namespace
}  // namespace hanshiro
