#include "hanshiro/env.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "env/test_dir.h"

namespace hanshiro {
namespace {

using hanshiro::testing::TestDir;

class PosixEnvTest : public ::testing::Test {
 protected:
  Env* env_ = Env::Default();
  TestDir dir_;
};

TEST_F(PosixEnvTest, WriteThenReadBackSequentiallyAndAtOffsets) {
  const std::string path = dir_.File("data");
  std::string content;
  for (int i = 0; i < 20000; ++i) content += std::to_string(i) + ",";  // > one write buffer
  ASSERT_TRUE(WriteStringToFile(env_, content, path, /*sync=*/true).ok());
  EXPECT_EQ(*env_->GetFileSize(path), content.size());

  auto read = ReadFileToString(env_, path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, content);

  auto file = env_->NewRandomAccessFile(path);
  ASSERT_TRUE(file.ok());
  char scratch[16];
  std::string_view got;
  ASSERT_TRUE((*file)->Read(10, 5, &got, scratch).ok());
  EXPECT_EQ(got, content.substr(10, 5));
  ASSERT_TRUE((*file)->Read(content.size() - 2, 16, &got, scratch).ok());
  EXPECT_EQ(got, content.substr(content.size() - 2));  // short read at end of file
}

// DropCacheBefore is a hint about the page cache: whatever offsets it gets
// (repeated, backwards, beyond the end, inside the write buffer), every
// byte appended is in the file, in order.
TEST_F(PosixEnvTest, DroppingTheCacheKeepsEveryByte) {
  const std::string path = dir_.File("log");
  auto file = env_->NewWritableFile(path);
  ASSERT_TRUE(file.ok());
  std::string content;
  for (int i = 0; i < 300; ++i) {
    const std::string piece(1000 + i * 37, static_cast<char>('a' + i % 26));
    content += piece;
    ASSERT_TRUE((*file)->Append(piece).ok());
    if (i % 7 == 0) (*file)->DropCacheBefore(content.size());
    if (i % 11 == 0) (*file)->DropCacheBefore(content.size() / 2);
    if (i == 150) (*file)->DropCacheBefore(content.size() + (1 << 20));
  }
  ASSERT_TRUE((*file)->Sync().ok());
  (*file)->DropCacheBefore(content.size());
  ASSERT_TRUE((*file)->Close().ok());
  (*file)->DropCacheBefore(content.size() * 2);  // closed: ignored
  auto read = ReadFileToString(env_, path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, content);
}

// A large file's blocks are allocated ahead; its size is still what was
// written, reading it back gives every byte, and Close gives the blocks past
// the end back. An appendable file continues after its existing bytes.
TEST_F(PosixEnvTest, PreallocatedBlocksNeverShowAndGoBackOnClose) {
  const std::string path = dir_.File("big");
  std::string content;
  for (int round = 0; round < 2; ++round) {  // written, then appended to
    auto file = round == 0 ? env_->NewWritableFile(path) : env_->NewAppendableFile(path);
    ASSERT_TRUE(file.ok());
    for (int i = 0; i < 60; ++i) {
      const std::string piece(100000 + i * 17, static_cast<char>('a' + (i + round) % 26));
      content += piece;
      ASSERT_TRUE((*file)->Append(piece).ok());
    }
    ASSERT_TRUE((*file)->Flush().ok());
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), content.size()) << round;
    const bool preallocated = static_cast<uint64_t>(st.st_blocks) * 512 >= (uint64_t{64} << 20);
    ASSERT_TRUE((*file)->Close().ok());
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(static_cast<uint64_t>(st.st_size), content.size()) << round;
    if (preallocated) {  // the file system allocates ahead (fallocate works)
      EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, content.size() + (uint64_t{1} << 20))
          << "blocks past the end kept after Close, round " << round;
    }
    EXPECT_EQ(*ReadFileToString(env_, path), content) << round;
  }
  // Truncated by someone else while open: Close does not grow it back.
  auto file = env_->NewAppendableFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append(std::string(5 << 20, 'z')).ok());
  ASSERT_TRUE((*file)->Flush().ok());
  ASSERT_TRUE(env_->TruncateFile(path, 10).ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(*ReadFileToString(env_, path), content.substr(0, 10));
}

// Whether this directory's file system takes O_DIRECT writes of a block.
bool TakesDirectWrites(const std::string& dir) {
  const std::string probe = dir + "/direct-probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_DIRECT, 0644);
  if (fd < 0) return false;
  void* block = std::aligned_alloc(4096, 4096);
  std::memset(block, 0, 4096);
  const bool ok = ::pwrite(fd, block, 4096, 0) == 4096;
  std::free(block);
  ::close(fd);
  ::unlink(probe.c_str());
  return ok;
}

// Pages of the file in the page cache.
size_t CachedPages(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  ::fstat(fd, &st);
  const size_t size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((size + page - 1) / page);
  ::mincore(map, size, resident.data());
  ::munmap(map, size);
  return static_cast<size_t>(std::count_if(resident.begin(), resident.end(), [](unsigned char r) { return (r & 1) != 0; }));
}

// A direct file's size is exactly what was appended at every flush and
// sync, whatever the pieces' sizes (a byte to several buffers) and however
// the flushes fall against the 4 KiB blocks; appending after a flush or a
// sync rewrites the partial last block correctly; Close gives back the
// blocks allocated ahead. Where the file system takes O_DIRECT, next to
// nothing of the file is left in the page cache.
TEST_F(PosixEnvTest, DirectFileIsExactlyWhatWasWrittenAtEveryFlush) {
  const std::string path = dir_.File("segment");
  auto file = env_->NewDirectWritableFile(path);
  ASSERT_TRUE(file.ok());
  std::string content;
  uint64_t seed = 7;
  auto next = [&] { return seed = seed * 6364136223846793005ULL + 1442695040888963407ULL; };
  for (int i = 0; i < 400; ++i) {
    const uint64_t r = next() >> 33;
    size_t size = r % 9000;                      // mostly within a block or two
    if (i % 50 == 7) size = (3u << 20) + r % 4096;  // several buffers at once
    if (i % 13 == 0) size = 4096 - content.size() % 4096;  // ends on a block boundary
    std::string piece(size, '\0');
    for (char& c : piece) c = static_cast<char>(next() >> 56);
    content += piece;
    ASSERT_TRUE((*file)->Append(piece).ok());
    if (i % 3 == 0) {
      ASSERT_TRUE((i % 30 == 0 ? (*file)->Sync() : (*file)->Flush()).ok()) << i;
      ASSERT_EQ(*env_->GetFileSize(path), content.size()) << i;
      if (i % 9 == 0) {  // the last bytes (a full read would fill the cache)
        const size_t n = std::min<size_t>(content.size(), 10000);
        auto reader = env_->NewRandomAccessFile(path);
        ASSERT_TRUE(reader.ok());
        std::string scratch(n, '\0');
        std::string_view got;
        ASSERT_TRUE((*reader)->Read(content.size() - n, n, &got, scratch.data()).ok());
        EXPECT_TRUE(got == std::string_view(content).substr(content.size() - n)) << "after piece " << i;
      }
    }
  }
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_FALSE((*file)->Append("x").ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), content.size());
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, content.size() + (uint64_t{1} << 20))
      << "blocks past the end kept after Close";
  if (TakesDirectWrites(dir_.path())) {
    // Only partial last blocks went through the cache, and the test's reads
    // of the last bytes: a few pages per flush at most.
    EXPECT_LT(CachedPages(path), 600u) << "of " << content.size() / 4096 << " pages";
  }
  EXPECT_TRUE(*ReadFileToString(env_, path) == content);
}

TEST_F(PosixEnvTest, AppendableFileKeepsExistingBytes) {
  const std::string path = dir_.File("log");
  ASSERT_TRUE(WriteStringToFile(env_, "abc", path, false).ok());
  auto f = env_->NewAppendableFile(path);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("def").ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(*ReadFileToString(env_, path), "abcdef");
  EXPECT_TRUE((*f)->Append("x").IsIOError());  // closed
}

TEST_F(PosixEnvTest, MissingFilesAreNotFoundWithThePath) {
  const std::string path = dir_.File("absent");
  auto r = env_->NewSequentialFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_NE(r.status().message().find(path), std::string::npos);
  EXPECT_FALSE(env_->FileExists(path));
  EXPECT_TRUE(env_->GetFileSize(path).status().IsNotFound());
}

TEST_F(PosixEnvTest, DirectoriesRenameTruncateAndChildren) {
  const std::string sub = dir_.File("sub");
  ASSERT_TRUE(env_->CreateDirIfMissing(sub).ok());
  ASSERT_TRUE(env_->CreateDirIfMissing(sub).ok());  // idempotent
  EXPECT_TRUE(*env_->IsDirectory(sub));
  ASSERT_TRUE(WriteStringToFile(env_, "0123456789", JoinPath(sub, "b"), false).ok());
  ASSERT_TRUE(WriteStringToFile(env_, "x", JoinPath(sub, "a"), false).ok());
  EXPECT_EQ(*env_->GetChildren(sub), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(*env_->IsDirectory(JoinPath(sub, "a")));

  ASSERT_TRUE(env_->RenameFile(JoinPath(sub, "b"), JoinPath(sub, "a")).ok());  // replaces
  EXPECT_EQ(*env_->GetChildren(sub), (std::vector<std::string>{"a"}));
  ASSERT_TRUE(env_->TruncateFile(JoinPath(sub, "a"), 4).ok());
  EXPECT_EQ(*ReadFileToString(env_, JoinPath(sub, "a")), "0123");
  ASSERT_TRUE(env_->SyncDir(sub).ok());
  ASSERT_TRUE(env_->RemoveFile(JoinPath(sub, "a")).ok());
  ASSERT_TRUE(env_->RemoveDir(sub).ok());
  EXPECT_FALSE(env_->FileExists(sub));
}

TEST_F(PosixEnvTest, LockIsExclusiveUntilReleased) {
  const std::string path = dir_.File("LOCK");
  auto first = env_->LockFile(path);
  ASSERT_TRUE(first.ok());
  auto second = env_->LockFile(path);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsBusy());
  first->reset();
  EXPECT_TRUE(env_->LockFile(path).ok());
}

// /dev/full fails every write with ENOSPC: the first error must stick, so a
// caller never sees a later call succeed over a hole in the file.
TEST_F(PosixEnvTest, FirstWriteErrorSticks) {
  if (!env_->FileExists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto f = env_->NewAppendableFile("/dev/full");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE((*f)->Append("buffered").ok());  // stays in the user-space buffer
  Status flush = (*f)->Flush();
  ASSERT_TRUE(flush.IsIOError());
  EXPECT_NE(flush.message().find("No space left on device"), std::string::npos);
  EXPECT_EQ((*f)->Append("more").ToString(), flush.ToString());
  EXPECT_EQ((*f)->Sync().ToString(), flush.ToString());
  EXPECT_EQ((*f)->Close().ToString(), flush.ToString());
}

TEST_F(PosixEnvTest, PathThroughAFileIsNotFound) {
  ASSERT_TRUE(WriteStringToFile(env_, "x", dir_.File("f"), false).ok());
  EXPECT_TRUE(env_->IsDirectory(dir_.File("f/g")).status().IsNotFound());
}

TEST(PathTest, JoinAndDirName) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("c"), ".");
  EXPECT_EQ(DirName("/c"), "/");
}

}  // namespace
}  // namespace hanshiro
