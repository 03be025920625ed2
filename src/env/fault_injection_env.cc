#include "env/fault_injection_env.h"

#include <algorithm>
#include <cstring>

namespace hanshiro {

// Wraps a real file; reports every append and sync to the env, which decides
// whether it fails and remembers what is durable.
class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {
    env_->Register(this);
  }
  ~FaultWritableFile() override { env_->Unregister(this); }

  Status Append(std::string_view data) override {
    HANSHIRO_RETURN_IF_ERROR(CheckAlive("append"));
    HANSHIRO_RETURN_IF_ERROR(env_->NextAppendFault(path_));
    HANSHIRO_RETURN_IF_ERROR(base_->Append(data));
    env_->OnAppended(path_, data.size());
    return Status();
  }
  Status Flush() override {
    HANSHIRO_RETURN_IF_ERROR(CheckAlive("flush"));
    return base_->Flush();
  }
  Status Sync() override {
    HANSHIRO_RETURN_IF_ERROR(CheckAlive("sync"));
    HANSHIRO_RETURN_IF_ERROR(env_->NextSyncFault(path_));
    HANSHIRO_RETURN_IF_ERROR(base_->Sync());
    env_->OnSynced(path_);
    return Status();
  }
  Status Close() override {
    if (dead_) return Status();
    return base_->Close();
  }

  // At the power cut: push buffered bytes to the file (so they can be cut
  // off), then refuse everything.
  void Kill() {
    (void)base_->Flush();
    dead_ = true;
  }
  const std::string& path() const { return path_; }

 private:
  Status CheckAlive(const char* op) const {
    if (!dead_) return Status();
    return Status::IOError(std::string(op) + " " + path_ + ": file lost in simulated power cut");
  }

  FaultInjectionEnv* const env_;
  const std::string path_;
  std::unique_ptr<WritableFile> base_;
  bool dead_ = false;
};

namespace {

Status InjectedError(const char* op, const std::string& path, int error_number) {
  return Status::IOError(std::string(op) + " " + path + ": " + std::strerror(error_number) +
                         " (injected)");
}

}  // namespace

void FaultInjectionEnv::FailWriteAt(uint64_t nth, int error_number) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_append_at_ = appends_ + nth;
  append_errno_ = error_number;
}

void FaultInjectionEnv::FailSyncAt(uint64_t nth, int error_number) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_sync_at_ = syncs_ + nth;
  sync_errno_ = error_number;
}

void FaultInjectionEnv::SetDiskFull(bool full) {
  std::lock_guard<std::mutex> lock(mu_);
  disk_full_ = full;
}

void FaultInjectionEnv::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  fail_append_at_ = 0;
  fail_sync_at_ = 0;
  disk_full_ = false;
}

uint64_t FaultInjectionEnv::appends() const {
  std::lock_guard<std::mutex> lock(mu_);
  return appends_;
}

uint64_t FaultInjectionEnv::syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return syncs_;
}

Status FaultInjectionEnv::NextAppendFault(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  ++appends_;
  if (disk_full_) return InjectedError("write", path, ENOSPC);
  if (appends_ == fail_append_at_) return InjectedError("write", path, append_errno_);
  return Status();
}

Status FaultInjectionEnv::NextSyncFault(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  ++syncs_;
  if (syncs_ == fail_sync_at_) return InjectedError("sync", path, sync_errno_);
  return Status();
}

void FaultInjectionEnv::OnAppended(const std::string& path, uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  files_[path].size += n;
}

void FaultInjectionEnv::OnSynced(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  FileState& f = files_[path];
  f.synced_size = f.size;
}

void FaultInjectionEnv::Register(FaultWritableFile* file) {
  std::lock_guard<std::mutex> lock(mu_);
  open_files_.insert(file);
}

void FaultInjectionEnv::Unregister(FaultWritableFile* file) {
  std::lock_guard<std::mutex> lock(mu_);
  open_files_.erase(file);
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(const std::string& path) {
  return Wrap(path, /*truncate=*/true);
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewAppendableFile(
    const std::string& path) {
  return Wrap(path, /*truncate=*/false);
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::Wrap(const std::string& path,
                                                               bool truncate) {
  const bool existed = base_->FileExists(path);
  uint64_t size = 0;
  if (existed && !truncate) {
    HANSHIRO_ASSIGN_OR_RETURN(size, base_->GetFileSize(path));
  }
  std::unique_ptr<WritableFile> base;
  if (truncate) {
    HANSHIRO_ASSIGN_OR_RETURN(base, base_->NewWritableFile(path));
  } else {
    HANSHIRO_ASSIGN_OR_RETURN(base, base_->NewAppendableFile(path));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = files_.try_emplace(path);
    // A file this env has not seen is taken as durable up to its current size.
    if (inserted || truncate) it->second = FileState{size, inserted ? size : 0};
    if (!existed) unsynced_creations_.insert(path);
  }
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, path, std::move(base)));
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  HANSHIRO_RETURN_IF_ERROR(base_->RemoveFile(path));
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(path);
  unsynced_creations_.erase(path);
  return Status();
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  HANSHIRO_RETURN_IF_ERROR(base_->RenameFile(from, to));
  std::lock_guard<std::mutex> lock(mu_);
  if (auto node = files_.extract(from)) {
    node.key() = to;
    files_.insert_or_assign(to, node.mapped());
  } else {
    files_.erase(to);
  }
  if (unsynced_creations_.erase(from) > 0) {
    unsynced_creations_.insert(to);  // never durable under either name
  } else {
    unsynced_renames_.push_back({from, to});
  }
  return Status();
}

Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t size) {
  HANSHIRO_RETURN_IF_ERROR(base_->TruncateFile(path, size));
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = files_.find(path); it != files_.end()) {
    it->second.size = size;
    it->second.synced_size = std::min(it->second.synced_size, size);
  }
  return Status();
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  HANSHIRO_RETURN_IF_ERROR(base_->SyncDir(dir));
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(unsynced_creations_, [&](const std::string& p) { return DirName(p) == dir; });
  std::erase_if(unsynced_renames_, [&](const Rename& r) { return DirName(r.to) == dir; });
  return Status();
}

Status FaultInjectionEnv::SimulatePowerLoss() {
  std::lock_guard<std::mutex> lock(mu_);
  for (FaultWritableFile* f : open_files_) f->Kill();
  Status first_error;
  auto note = [&](Status s) {
    if (!s.ok() && first_error.ok()) first_error = std::move(s);
  };
  for (const auto& [path, state] : files_) {
    if (state.synced_size < state.size && base_->FileExists(path)) {
      note(base_->TruncateFile(path, state.synced_size));
    }
  }
  for (const std::string& path : unsynced_creations_) {
    if (base_->FileExists(path)) note(base_->RemoveFile(path));
  }
  for (auto it = unsynced_renames_.rbegin(); it != unsynced_renames_.rend(); ++it) {
    if (base_->FileExists(it->to)) note(base_->RenameFile(it->to, it->from));
  }
  files_.clear();
  unsynced_creations_.clear();
  unsynced_renames_.clear();
  return first_error;
}

}  // namespace hanshiro
