#include "env/fault_injection_env.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

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
    if (r.ok()) return *r;
    std::string err = "<";
    err += r.status().ToString();
    err += ">";
    return err;
  }

  TestDir dir_;
  FaultInjectionEnv env_{Env::Default()};
};

TEST_F(FaultInjectionEnvTest, FailsTheNthWriteWritesNothingForItAndTheErrorSticks) {
  auto f = Open("f");
  auto g = Open("g");
  env_.FailWriteAt(2);
  EXPECT_TRUE(f->Append("a").ok());
  Status s = f->Append("b");
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(s.message().find("Input/output error"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(dir_.File("f")), std::string::npos);
  // Like a POSIX file, the failed one keeps failing; other files are fine.
  EXPECT_EQ(f->Append("c").ToString(), s.ToString());
  EXPECT_EQ(f->Close().ToString(), s.ToString());
  EXPECT_TRUE(g->Append("c").ok());
  ASSERT_TRUE(g->Close().ok());
  f.reset();
  EXPECT_EQ(Contents("f"), "a");
  EXPECT_EQ(Contents("g"), "c");
}

TEST_F(FaultInjectionEnvTest, FailsTheNthSyncWithTheGivenErrno) {
  auto f = Open("f");
  env_.FailSyncAt(1, ENOSPC);
  ASSERT_TRUE(f->Append("a").ok());
  Status s = f->Sync();
  EXPECT_TRUE(s.IsIOError());
  EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.message();
  EXPECT_EQ(f->Sync().ToString(), s.ToString());  // sticky: a retry cannot succeed
  EXPECT_EQ(env_.syncs(), 1u);
}

TEST_F(FaultInjectionEnvTest, DiskFullFailsEveryAppendUntilCleared) {
  auto f = Open("f");
  auto g = Open("g");
  env_.SetDiskFull(true);
  EXPECT_NE(f->Append("a").message().find("No space left on device"), std::string::npos);
  EXPECT_TRUE(g->Append("b").IsIOError());
  env_.ClearFaults();
  auto h = Open("h");
  EXPECT_TRUE(h->Append("c").ok());
  ASSERT_TRUE(h->Close().ok());
  EXPECT_EQ(Contents("h"), "c");
  EXPECT_EQ(Contents("f"), "");
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

namespace hanshiro {
namespace {

class FaultInjectionEnvRenameTest : public ::testing::Test {
 protected:
  void WriteDurable(const std::string& name, const std::string& data) {
    auto f = env_.NewWritableFile(dir_.File(name));
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(data).ok());
    ASSERT_TRUE((*f)->Sync().ok());
    ASSERT_TRUE((*f)->Close().ok());
    ASSERT_TRUE(env_.SyncDir(dir_.path()).ok());
  }
  std::string Contents(const std::string& name) {
    auto r = ReadFileToString(Env::Default(), dir_.File(name));
    return r.ok() ? *r : std::string("<missing>");
  }

  hanshiro::testing::TestDir dir_;
  FaultInjectionEnv env_{Env::Default()};
};

// The classic CURRENT update: write tmp, rename over the old CURRENT. Before
// the directory sync, a power cut must leave the old CURRENT, not nothing.
TEST_F(FaultInjectionEnvRenameTest, UndoneRenameOverExistingFileRestoresIt) {
  WriteDurable("CURRENT", "MANIFEST-1");
  WriteDurable("tmp", "MANIFEST-2");
  ASSERT_TRUE(env_.RenameFile(dir_.File("tmp"), dir_.File("CURRENT")).ok());
  EXPECT_EQ(Contents("CURRENT"), "MANIFEST-2");
  ASSERT_TRUE(env_.SimulatePowerLoss().ok());
  EXPECT_EQ(Contents("CURRENT"), "MANIFEST-1");
  EXPECT_EQ(Contents("tmp"), "MANIFEST-2");
}

TEST_F(FaultInjectionEnvRenameTest, RenameOfDurableFileOverUnsyncedCreationKeepsTheData) {
  WriteDurable("A", "precious");
  auto b = env_.NewWritableFile(dir_.File("B"));  // created, directory never synced
  ASSERT_TRUE(b.ok());
  b->reset();
  ASSERT_TRUE(env_.RenameFile(dir_.File("A"), dir_.File("B")).ok());
  ASSERT_TRUE(env_.SimulatePowerLoss().ok());
  EXPECT_EQ(Contents("A"), "precious");
  EXPECT_FALSE(env_.FileExists(dir_.File("B")));
}

TEST_F(FaultInjectionEnvRenameTest, DirectoryPathsAreNormalized) {
  auto f = env_.NewWritableFile(dir_.File("f"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("x").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE(env_.SyncDir(dir_.path() + "/./").ok());
  ASSERT_TRUE(env_.SimulatePowerLoss().ok());
  EXPECT_EQ(Contents("f"), "x");
}

// After a failed fsync the kernel may drop the dirty pages: reopening the
// file and syncing again does not bring those bytes back.
TEST_F(FaultInjectionEnvRenameTest, BytesOfAFailedSyncStayLostAfterReopenAndSync) {
  WriteDurable("wal", "old|");
  auto f = env_.NewAppendableFile(dir_.File("wal"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("new").ok());
  env_.FailSyncAt(1);
  ASSERT_TRUE((*f)->Sync().IsIOError());
  f->reset();
  auto again = env_.NewAppendableFile(dir_.File("wal"));
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE((*again)->Sync().ok());
  ASSERT_TRUE(env_.SimulatePowerLoss().ok());
  again->reset();
  EXPECT_EQ(Contents("wal"), "old|");
}

TEST_F(FaultInjectionEnvRenameTest, FileCreatedAtTheOldNameYieldsToTheUndoneRename) {
  WriteDurable("tmp", "durable");
  ASSERT_TRUE(env_.RenameFile(dir_.File("tmp"), dir_.File("CURRENT")).ok());
  auto f = env_.NewWritableFile(dir_.File("tmp"));  // a new, never durable "tmp"
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("new").ok());
  f->reset();
  ASSERT_TRUE(env_.SimulatePowerLoss().ok());
  EXPECT_EQ(Contents("tmp"), "durable");
  EXPECT_FALSE(env_.FileExists(dir_.File("CURRENT")));
}

TEST_F(FaultInjectionEnvRenameTest, RemovalMakesAPendingRenameOntoItDurable) {
  WriteDurable("CURRENT", "M1");
  WriteDurable("tmp", "M2");
  ASSERT_TRUE(env_.RenameFile(dir_.File("tmp"), dir_.File("CURRENT")).ok());
  ASSERT_TRUE(env_.RemoveFile(dir_.File("CURRENT")).ok());
  ASSERT_TRUE(env_.SimulatePowerLoss().ok());
  EXPECT_FALSE(env_.FileExists(dir_.File("CURRENT")));
  EXPECT_FALSE(env_.FileExists(dir_.File("tmp")));
}

TEST_F(FaultInjectionEnvRenameTest, RelativeAndAbsolutePathsAreTheSameFile) {
  const std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_.path());
  auto f = env_.NewWritableFile("rel");
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("x").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  f->reset();
  ASSERT_TRUE(env_.SyncDir(dir_.path()).ok());
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(env_.SimulatePowerLoss().ok());
  EXPECT_EQ(Contents("rel"), "x");
}

TEST_F(FaultInjectionEnvRenameTest, UnsyncedDirectoryVanishesWithItsFiles) {
  const std::string sub = dir_.File("wal");
  ASSERT_TRUE(env_.CreateDirIfMissing(sub).ok());
  auto f = env_.NewWritableFile(JoinPath(sub, "000001.log"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("x").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE(env_.SyncDir(sub).ok());  // the file's entry, but not the directory's
  ASSERT_TRUE(env_.SimulatePowerLoss().ok());
  EXPECT_FALSE(env_.FileExists(sub));
}

TEST_F(FaultInjectionEnvRenameTest, DirectoryMadeDurableSurvives) {
  const std::string sub = dir_.File("wal");
  ASSERT_TRUE(env_.CreateDirIfMissing(sub).ok());
  ASSERT_TRUE(env_.SyncDir(dir_.path()).ok());
  ASSERT_TRUE(env_.SimulatePowerLoss().ok());
  EXPECT_TRUE(*env_.IsDirectory(sub));
}

// A power cut while another thread appends: every append either happened
// before the cut (and, unsynced, is cut off) or fails after it.
TEST_F(FaultInjectionEnvRenameTest, PowerLossWhileWritingIsClean) {
  WriteDurable("log", "");
  auto f = env_.NewAppendableFile(dir_.File("log"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("synced").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  std::atomic<bool> failed{false};
  std::thread writer([&] {
    // Bounded, so a cut that stopped nothing fails the test instead of hanging it.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!(*f)->Append(std::string(100, 'x')).ok()) {
        failed = true;
        return;
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(env_.SimulatePowerLoss().ok());
  writer.join();
  EXPECT_TRUE(failed);
  f->reset();
  EXPECT_EQ(Contents("log"), "synced");
}

}  // namespace
}  // namespace hanshiro
