// Env: every file and directory operation HanshiroDB performs goes through an
// Env, so tests can swap in one that injects faults (FaultInjectionEnv).
//
// Env::Default() is the POSIX implementation; it lives for the whole process
// and is thread-safe. File objects are owned by the caller (unique_ptr) and
// are not thread-safe unless their comment says so. Paths are plain strings.
#ifndef HANSHIRO_ENV_H_
#define HANSHIRO_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hanshiro/status.h"

namespace hanshiro {

// Reads a file front to back.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to n bytes. *result points into scratch (which holds n bytes) or
  // is empty at end of file. Fewer than n bytes only at end of file.
  virtual Status Read(size_t n, std::string_view* result, char* scratch) = 0;
  virtual Status Skip(uint64_t n) = 0;
};

// Reads at any offset. Thread-safe.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset; fewer only at end of file. *result points
  // into scratch (which holds n bytes).
  virtual Status Read(uint64_t offset, size_t n, std::string_view* result, char* scratch) const = 0;
};

// Appends to a file. Data reaches the OS on Flush, and the disk on Sync.
// Destroying an open file closes it (flushing, not syncing). After a failed
// write or sync every later call fails with that first error: what reached
// the disk is unknown, so the caller must not carry on as if it had.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Flush() = 0;
  // Flushes, then makes the data durable (fdatasync).
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  // A hint that the bytes before `offset` will not be read soon: the file
  // may start writing them to disk and drop them from the page cache once
  // written. Durability is unchanged (only Sync makes data durable).
  virtual void DropCacheBefore(uint64_t /*offset*/) {}
};

// A lock on a file held while the object lives (flock, exclusive).
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  static Env* Default();

  virtual Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;
  // Creates the file, or truncates it when it exists.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Creates the file, or appends to it when it exists.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  // Like NewWritableFile, for a file written once, front to back, in large
  // pieces and read back through a cache of its own (tables): where it can,
  // the Env writes it around the page cache. Same contract (DropCacheBefore
  // has nothing to do); the default is NewWritableFile.
  virtual Result<std::unique_ptr<WritableFile>> NewDirectWritableFile(const std::string& path) {
    return NewWritableFile(path);
  }

  virtual bool FileExists(const std::string& path) = 0;
  // True for a directory, false for anything else that exists, NotFound
  // otherwise (including a path through a non-directory).
  virtual Result<bool> IsDirectory(const std::string& path) = 0;
  // Names (not paths) of the entries of dir, without "." and "..", sorted.
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Succeeds when the directory already exists.
  virtual Status CreateDirIfMissing(const std::string& dir) = 0;
  virtual Status RemoveDir(const std::string& dir) = 0;
  // Atomically replaces target when it exists.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  // Shortens (or extends with zeros) a file to size bytes.
  virtual Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Makes a file readable and writable by its owner only (mode 0600).
  virtual Status RestrictToOwner(const std::string& path) = 0;
  // Makes the directory's entries (creations, renames, removals) durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Busy when another holder (in this or another process) has the lock.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

// Convenience helpers over any Env.
Status WriteStringToFile(Env* env, std::string_view data, const std::string& path, bool sync);
Result<std::string> ReadFileToString(Env* env, const std::string& path);
// CreateDirIfMissing, then SyncDir of its parent, so the directory survives
// a power cut (needed before anything in it can be durable).
Status CreateDirDurably(Env* env, const std::string& dir);
// "dir/name", without doubling the slash.
std::string JoinPath(std::string_view dir, std::string_view name);
// The directory part of a path ("." when it has none).
std::string DirName(std::string_view path);

}  // namespace hanshiro

#endif  // HANSHIRO_ENV_H_
