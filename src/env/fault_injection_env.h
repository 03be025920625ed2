// FaultInjectionEnv: an Env for tests that wraps another Env and can
//   - fail the Nth write (Append) or the Nth sync from now, with any errno
//     (EIO, ENOSPC, ...), writing nothing for the failed call;
//   - act as a full disk: every Append fails with ENOSPC while set;
//   - simulate a power cut (SimulatePowerLoss).
//
// Files behave like the POSIX ones: the first write or sync error, injected
// or real, sticks to the file (every later call returns it).
//
// What a power cut keeps, for everything created or written through this Env:
//   - a file keeps the bytes that a successful Sync covered, except that a
//     failed Sync loses everything from the first byte it should have covered
//     onwards, even if a later Sync (after reopening) succeeds: the kernel
//     may drop dirty pages after a failed fsync;
//   - a file or directory created since its parent's last SyncDir vanishes
//     (a directory with everything in it);
//   - a rename not yet made durable by SyncDir of the target's directory is
//     undone, and a file it replaced comes back;
//   - removals are durable at once (with any pending rename onto the name);
//   - files still open become unusable: every call fails.
// Files this Env did not write are left alone; a file it first opens for
// append is taken as durable up to its size at that moment.
//
// Paths are compared after making them absolute and normal ("d/./f" = "d/f").
// Files must not be renamed while open, and must be destroyed before the Env.
// Borrows `base`, which must outlive it. Thread-safe: SimulatePowerLoss may
// run while other threads write; it waits for calls in flight (on files and
// on the Env) to finish, and later calls on files open at the cut fail.
#ifndef HANSHIRO_ENV_FAULT_INJECTION_ENV_H_
#define HANSHIRO_ENV_FAULT_INJECTION_ENV_H_

#include <cerrno>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "hanshiro/env.h"

namespace hanshiro {

class FaultWritableFile;

class FaultInjectionEnv final : public Env {
 public:
  explicit FaultInjectionEnv(Env* base) : base_(base) {}
  ~FaultInjectionEnv() override;

  // The nth Append (1 = the next one) through any file fails with error_number.
  void FailWriteAt(uint64_t nth, int error_number = EIO);
  // The nth sync (1 = the next one) fails with error_number: a file's Sync or
  // a SyncDir, counted together.
  void FailSyncAt(uint64_t nth, int error_number = EIO);
  // While set, every Append fails with ENOSPC.
  void SetDiskFull(bool full);
  // Clears the faults above (not what a power cut did).
  void ClearFaults();

  // Simulates losing power now; see the class comment.
  Status SimulatePowerLoss();

  uint64_t appends() const;
  uint64_t syncs() const;

  // Env
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    return base_->NewSequentialFile(path);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    return base_->NewRandomAccessFile(path);
  }
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  bool FileExists(const std::string& path) override { return base_->FileExists(path); }
  Result<bool> IsDirectory(const std::string& path) override { return base_->IsDirectory(path); }
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override {
    return base_->GetChildren(dir);
  }
  Result<uint64_t> GetFileSize(const std::string& path) override {
    return base_->GetFileSize(path);
  }
  Status RemoveFile(const std::string& path) override;
  Status CreateDirIfMissing(const std::string& dir) override;
  Status RemoveDir(const std::string& dir) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status TruncateFile(const std::string& path, uint64_t size) override;
  Status RestrictToOwner(const std::string& path) override { return base_->RestrictToOwner(path); }
  Status SyncDir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override {
    return base_->LockFile(path);
  }

 private:
  friend class FaultWritableFile;

  static constexpr uint64_t kNothingLost = std::numeric_limits<uint64_t>::max();

  struct FileState {
    uint64_t size = 0;                  // bytes appended
    uint64_t synced_size = 0;           // bytes a successful sync covered
    uint64_t lost_from = kNothingLost;  // a failed sync lost the bytes from here on
  };
  struct Rename {
    std::string from;
    std::string to;
    bool from_durable = true;             // else undoing it removes `to`
    std::optional<std::string> replaced;  // durable contents `to` had before
  };

  Result<std::unique_ptr<WritableFile>> Wrap(const std::string& path, bool truncate);
  // Called by files, under a shared hold of gate_.
  Status NextAppendFault(const std::string& path);
  Status NextSyncFault(const std::string& path);
  void OnAppended(const std::string& path, uint64_t n);
  void OnSynced(const std::string& path);
  void Register(FaultWritableFile* file);
  void Unregister(FaultWritableFile* file);
  Status RemoveTree(const std::string& path);

  Env* const base_;
  // File calls hold it shared; SimulatePowerLoss holds it exclusively, so
  // no call is half done at the cut. Taken before mu_.
  std::shared_mutex gate_;
  mutable std::mutex mu_;
  // Keys are normalized paths (NormalizePath).
  std::map<std::string, FileState> files_;
  std::set<std::string> unsynced_creations_;  // files and directories
  std::vector<Rename> unsynced_renames_;      // oldest first
  std::set<FaultWritableFile*> open_files_;
  uint64_t appends_ = 0;
  uint64_t syncs_ = 0;
  uint64_t fail_append_at_ = 0;  // absolute append count that fails; 0 = none
  int append_errno_ = EIO;
  uint64_t fail_sync_at_ = 0;
  int sync_errno_ = EIO;
  bool disk_full_ = false;
};

}  // namespace hanshiro

#endif  // HANSHIRO_ENV_FAULT_INJECTION_ENV_H_
