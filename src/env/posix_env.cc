// The POSIX Env: plain file descriptors, a user-space write buffer, and
// fdatasync for durability.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "hanshiro/env.h"

namespace hanshiro {
namespace {

Status PosixError(std::string_view what, const std::string& path, int error_number) {
  std::string msg = std::string(what) + " " + path + ": " +
                    std::system_category().message(error_number);  // thread-safe strerror
  if (error_number == ENOENT || error_number == ENOTDIR) return Status::NotFound(std::move(msg));
  return Status::IOError(std::move(msg));
}

class PosixSequentialFile final : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }

  Status Read(size_t n, std::string_view* result, char* scratch) override {
    size_t got = 0;
    while (got < n) {
      const ssize_t r = ::read(fd_, scratch + got, n - got);
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("read", path_, errno);
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    *result = std::string_view(scratch, got);
    return Status();
  }

  Status Skip(uint64_t n) override {
    if (::lseek(fd_, static_cast<off_t>(n), SEEK_CUR) < 0) return PosixError("seek", path_, errno);
    return Status();
  }

 private:
  const std::string path_;
  const int fd_;
};

class PosixRandomAccessFile final : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  Status Read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const override {
    size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd_, scratch + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("read", path_, errno);
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    *result = std::string_view(scratch, got);
    return Status();
  }

 private:
  const std::string path_;
  const int fd_;
};

// A file that grows past kFrom gets its blocks allocated ahead, kStep at a
// time (FALLOC_FL_KEEP_SIZE: its size stays what was written). Writing into
// allocated blocks costs the file system less than allocating them as the
// data arrives; Release gives back what is left past the end. Best effort:
// where fallocate fails (no support, a full disk) the writes allocate as
// usual, and report a full disk themselves.
class Preallocator {
 public:
  static constexpr uint64_t kFrom = uint64_t{4} << 20;
  static constexpr uint64_t kStep = uint64_t{64} << 20;

  // Before writing [offset, end).
  void Reserve(int fd, uint64_t offset, uint64_t end) {
    if (end <= kFrom || end <= allocated_ || !enabled_) return;
    const uint64_t from = std::max(allocated_, offset);
    const uint64_t to = (end + kStep - 1) / kStep * kStep;
    if (::fallocate(fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from), static_cast<off_t>(to - from)) !=
        0) {
      enabled_ = false;
      return;
    }
    allocated_ = to;
  }

  // The size is the file's own (someone may have truncated it meanwhile):
  // this never changes it.
  void Release(int fd) const {
    struct stat st {};
    if (allocated_ > 0 && ::fstat(fd, &st) == 0 && allocated_ > static_cast<uint64_t>(st.st_size)) {
      (void)::ftruncate(fd, st.st_size);
    }
  }

 private:
  uint64_t allocated_ = 0;  // blocks allocated below this
  bool enabled_ = true;
};

// The first write or sync error of a file, kept: every later call returns
// it (see PosixWritableFile for why).
class StickyError {
 public:
  explicit StickyError(std::string path) : path_(std::move(path)) {}
  const Status& first() const { return error_; }
  // The kept error, or an IOError for `op` when the file is closed.
  Status Check(const char* op, bool open) const {
    if (!error_.ok()) return error_;
    if (!open) return Status::IOError(std::string(op) + " " + path_ + ": file is closed");
    return Status();
  }
  Status Stick(std::string_view what, int error_number) {
    error_ = PosixError(what, path_, error_number);
    return error_;
  }

 private:
  const std::string path_;
  Status error_;
};

// Buffers appends in user space (64 KiB) and writes them on Flush, Sync or a
// full buffer. The first write or sync error sticks: every later call returns
// it, because after a failed write the file's tail is unknown and after a
// failed fdatasync the kernel may have dropped the dirty pages (retrying
// would report success for data that never reached the disk).
// Its blocks are allocated ahead (Preallocator).
class PosixWritableFile final : public WritableFile {
 public:
  static constexpr size_t kBufferBytes = 64 * 1024;

  // size: the file's size when opened (appends go after it).
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : errors_(std::move(path)), fd_(fd), offset_(size) {
    buffer_.reserve(kBufferBytes);
  }
  ~PosixWritableFile() override {
    if (fd_ >= 0) (void)Close();
  }

  Status Append(std::string_view data) override {
    HANSHIRO_RETURN_IF_ERROR(errors_.Check("append", fd_ >= 0));
    if (buffer_.size() + data.size() <= kBufferBytes) {
      buffer_.append(data);
      return Status();
    }
    HANSHIRO_RETURN_IF_ERROR(Flush());
    if (data.size() <= kBufferBytes) {
      buffer_.append(data);
      return Status();
    }
    return WriteAll(data);
  }

  Status Flush() override {
    HANSHIRO_RETURN_IF_ERROR(errors_.Check("flush", fd_ >= 0));
    HANSHIRO_RETURN_IF_ERROR(WriteAll(buffer_));
    buffer_.clear();
    return Status();
  }

  Status Sync() override {
    HANSHIRO_RETURN_IF_ERROR(Flush());
    if (::fdatasync(fd_) != 0) return errors_.Stick("sync", errno);
    return Status();
  }

  // Writeback of [written_back_, offset) starts now; the range whose
  // writeback the previous call started is dropped from the cache (pages
  // still being written are kept by the kernel).
  void DropCacheBefore(uint64_t offset) override {
    if (fd_ < 0 || !errors_.first().ok() || offset <= written_back_) return;
    if (Flush().ok()) {
      if (written_back_ > 0) {  // a length of 0 would mean the whole file
        (void)::posix_fadvise(fd_, 0, static_cast<off_t>(written_back_), POSIX_FADV_DONTNEED);
      }
      (void)::sync_file_range(fd_, static_cast<off_t>(written_back_),
                              static_cast<off_t>(offset - written_back_), SYNC_FILE_RANGE_WRITE);
      written_back_ = offset;
    }
  }

  Status Close() override {
    if (fd_ < 0) return errors_.first();
    Status s = errors_.first().ok() ? Flush() : errors_.first();
    // Blocks allocated past the end go back. The size is the file's own
    // (someone may have truncated it meanwhile): this never changes it.
    blocks_.Release(fd_);
    if (::close(fd_) != 0 && s.ok()) s = errors_.Stick("close", errno);
    fd_ = -1;
    return s;
  }

 private:
  Status WriteAll(std::string_view data) {
    blocks_.Reserve(fd_, offset_, offset_ + data.size());
    while (!data.empty()) {
      const ssize_t w = ::write(fd_, data.data(), data.size());
      if (w < 0) {
        if (errno == EINTR) continue;
        return errors_.Stick("write", errno);
      }
      data.remove_prefix(static_cast<size_t>(w));
      offset_ += static_cast<uint64_t>(w);
    }
    return Status();
  }

  StickyError errors_;
  int fd_;
  uint64_t written_back_ = 0;  // DropCacheBefore started writeback below this
  uint64_t offset_;             // the file's size, as written
  Preallocator blocks_;
  std::string buffer_;
};

// For files written once, front to back, in large pieces (tables):
// whole 4 KiB blocks go to the device with O_DIRECT, from an
// aligned 1 MiB buffer, so they never pass through the page cache. That
// saves the kernel's copy into cache pages, their writeback and their
// reclaim: on virtual machines, where the first touch of a cache page the
// host has taken back is costly, the larger part of a buffered write's
// price. The partial block at the end goes through the page cache (a second
// descriptor without O_DIRECT), so the file's size is always exactly what
// was written and a crash leaves what a buffered file would; the next write
// of that block is direct again (the kernel writes the cached page back and
// drops it first). Where O_DIRECT is refused (a file system without it, an
// alignment it does not take), every write goes through the page cache.
// Errors stick as for PosixWritableFile; blocks are allocated ahead too.
class PosixDirectWritableFile final : public WritableFile {
 public:
  static constexpr size_t kBlock = 4096;
  static constexpr size_t kBufferBytes = size_t{1} << 20;

  // direct_fd: O_DIRECT, or -1 for page cache writes only; cached_fd: not;
  // buffer: kBufferBytes aligned to kBlock (std::aligned_alloc), owned.
  PosixDirectWritableFile(std::string path, int direct_fd, int cached_fd, char* buffer)
      : errors_(std::move(path)), direct_fd_(direct_fd), cached_fd_(cached_fd), buffer_(buffer) {}
  ~PosixDirectWritableFile() override {
    if (cached_fd_ >= 0) (void)Close();
    std::free(buffer_);
  }

  Status Append(std::string_view data) override {
    HANSHIRO_RETURN_IF_ERROR(errors_.Check("append", cached_fd_ >= 0));
    while (!data.empty()) {
      const size_t n = std::min(data.size(), kBufferBytes - used_);
      std::memcpy(buffer_ + used_, data.data(), n);
      used_ += n;
      data.remove_prefix(n);
      if (used_ == kBufferBytes) HANSHIRO_RETURN_IF_ERROR(WriteBuffer());
    }
    return Status();
  }

  Status Flush() override {
    HANSHIRO_RETURN_IF_ERROR(errors_.Check("flush", cached_fd_ >= 0));
    if (used_ == written_) return Status();
    return WriteBuffer();
  }

  Status Sync() override {
    HANSHIRO_RETURN_IF_ERROR(Flush());
    if (::fdatasync(cached_fd_) != 0) return errors_.Stick("sync", errno);
    return Status();
  }

  Status Close() override {
    if (cached_fd_ < 0) return errors_.first();
    Status s = errors_.first().ok() ? Flush() : errors_.first();
    blocks_.Release(cached_fd_);
    if (direct_fd_ >= 0 && ::close(direct_fd_) != 0 && s.ok()) {
      s = errors_.Stick("close", errno);
    }
    if (::close(cached_fd_) != 0 && s.ok()) s = errors_.Stick("close", errno);
    direct_fd_ = cached_fd_ = -1;
    return s;
  }

 private:
  // Writes what the buffer holds at base_ (whole blocks directly, the rest
  // through the page cache) and keeps the partial last block, whose next
  // write starts over at its beginning.
  Status WriteBuffer() {
    blocks_.Reserve(cached_fd_, base_, base_ + used_);
    const size_t whole = used_ / kBlock * kBlock;
    size_t done = 0;
    if (direct_fd_ >= 0 && whole > 0) {
      HANSHIRO_RETURN_IF_ERROR(WriteAt(direct_fd_, 0, whole, &done));
    }
    if (done < used_) HANSHIRO_RETURN_IF_ERROR(WriteAt(cached_fd_, done, used_, &done));
    const size_t kept = used_ - whole;
    std::memmove(buffer_, buffer_ + whole, kept);
    base_ += whole;
    used_ = written_ = kept;
    return Status();
  }

  // buffer_[from, to) at base_ + from; *done is how far it got. A direct
  // write the kernel refuses (EINVAL: alignment or no support) turns the
  // file over to page cache writes, which then redo it.
  Status WriteAt(int fd, size_t from, size_t to, size_t* done) {
    *done = from;
    while (*done < to) {
      const ssize_t w = ::pwrite(fd, buffer_ + *done, to - *done, static_cast<off_t>(base_ + *done));
      if (w < 0) {
        if (errno == EINTR) continue;
        if (fd == direct_fd_ && errno == EINVAL) {
          ::close(direct_fd_);
          direct_fd_ = -1;
          return Status();
        }
        return errors_.Stick("write", errno);
      }
      *done += static_cast<size_t>(w);
      if (fd == direct_fd_ && *done % kBlock != 0) {  // a short direct write: finish it cached
        return Status();
      }
    }
    return Status();
  }

  StickyError errors_;
  int direct_fd_;
  int cached_fd_;
  char* const buffer_;
  uint64_t base_ = 0;   // file offset of buffer_[0], a multiple of kBlock
  size_t used_ = 0;     // bytes in buffer_
  size_t written_ = 0;  // of those, already written
  Preallocator blocks_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  const int fd_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open", path, errno);
    return std::unique_ptr<SequentialFile>(new PosixSequentialFile(path, fd));
  }

  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open", path, errno);
    return std::unique_ptr<RandomAccessFile>(new PosixRandomAccessFile(path, fd));
  }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    return OpenForWrite(path, O_TRUNC);
  }

  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    return OpenForWrite(path, O_APPEND);
  }

  Result<std::unique_ptr<WritableFile>> NewDirectWritableFile(const std::string& path) override {
    char* buffer = static_cast<char*>(
        std::aligned_alloc(PosixDirectWritableFile::kBlock, PosixDirectWritableFile::kBufferBytes));
    if (buffer == nullptr) return Status::IOError("open " + path + ": no memory for its write buffer");
    const int cached = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (cached < 0) {
      std::free(buffer);
      return PosixError("open", path, errno);
    }
    const int direct = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_DIRECT);  // -1: none
    return std::unique_ptr<WritableFile>(new PosixDirectWritableFile(path, direct, cached, buffer));
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  Result<bool> IsDirectory(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    return S_ISDIR(st.st_mode);
  }

  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError("list", dir, errno);
    std::vector<std::string> names;
    while (true) {
      errno = 0;
      const dirent* entry = ::readdir(d);
      if (entry == nullptr) break;
      const std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) return PosixError("list", dir, err);
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("remove", path, errno);
    return Status();
  }

  Status CreateDirIfMissing(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) == 0) return Status();
    const int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status();
    return PosixError("create directory", dir, err);
  }

  Status RemoveDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) return PosixError("remove directory", dir, errno);
    return Status();
  }

  Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return PosixError("rename to " + to + ":", from, errno);
    }
    return Status();
  }

  Status TruncateFile(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      return PosixError("truncate", path, errno);
    }
    return Status();
  }

  Status RestrictToOwner(const std::string& path) override {
    if (::chmod(path.c_str(), 0600) != 0) return PosixError("chmod", path, errno);
    return Status();
  }

  Status SyncDir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open directory", dir, errno);
    Status s;
    if (::fsync(fd) != 0) s = PosixError("sync directory", dir, errno);
    ::close(fd);
    return s;
  }

  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("open lock", path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) return Status::Busy("lock " + path + ": held by another process");
      return PosixError("lock", path, err);
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(fd));
  }

 private:
  static Result<std::unique_ptr<WritableFile>> OpenForWrite(const std::string& path, int mode) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | mode, 0644);
    if (fd < 0) return PosixError("open", path, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      Status s = PosixError("stat", path, errno);
      ::close(fd);
      return s;
    }
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();  // never destroyed: usable during exit
  return env;
}

}  // namespace hanshiro
