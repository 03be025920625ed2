#include "env/fault_injection_env.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace hanshiro {
namespace {

// "d/", "./d" and "d" name the same directory; state is kept under one form.
std::string NormalizePath(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(path, ec);
  if (ec) p = path;
  std::string out = p.lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

Status InjectedError(const char* op, const std::string& path, int error_number) {
  return Status::IOError(std::string(op) + " " + path + ": " +
                         std::system_category().message(error_number) + " (injected)");
}

}  // namespace

// Wraps a real file; reports every append and sync to the env, which decides
// whether it fails and remembers what is durable.
class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultInjectionEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {
    env_->Register(this);
  }
  ~FaultWritableFile() override {
    std::shared_lock<std::shared_mutex> gate(env_->gate_);
    env_->Unregister(this);
    base_.reset();
  }

  // Like the POSIX file, the first error (injected or real) sticks.
  Status Append(std::string_view data) override {
    std::shared_lock<std::shared_mutex> gate(env_->gate_);
    HANSHIRO_RETURN_IF_ERROR(CheckUsable("append"));
    HANSHIRO_RETURN_IF_ERROR(Stick(env_->NextAppendFault(path_)));
    HANSHIRO_RETURN_IF_ERROR(Stick(base_->Append(data)));
    env_->OnAppended(path_, data.size());
    return Status();
  }
  Status Flush() override {
    std::shared_lock<std::shared_mutex> gate(env_->gate_);
    HANSHIRO_RETURN_IF_ERROR(CheckUsable("flush"));
    return Stick(base_->Flush());
  }
  Status Sync() override {
    std::shared_lock<std::shared_mutex> gate(env_->gate_);
    HANSHIRO_RETURN_IF_ERROR(CheckUsable("sync"));
    HANSHIRO_RETURN_IF_ERROR(Stick(env_->NextSyncFault(path_)));
    HANSHIRO_RETURN_IF_ERROR(Stick(base_->Sync()));
    env_->OnSynced(path_);
    return Status();
  }
  Status Close() override {
    std::shared_lock<std::shared_mutex> gate(env_->gate_);
    HANSHIRO_RETURN_IF_ERROR(CheckUsable("close"));
    return Stick(base_->Close());
  }

  // At the power cut (gate_ held exclusively): push buffered bytes to the
  // file so they can be cut off, then refuse everything.
  void Kill() {
    (void)base_->Flush();
    dead_ = true;
  }

 private:
  Status CheckUsable(const char* op) const {
    if (dead_) {
      return Status::IOError(std::string(op) + " " + path_ + ": file lost in simulated power cut");
    }
    return error_;
  }
  Status Stick(Status s) {
    if (!s.ok() && error_.ok()) error_ = s;
    return s;
  }

  FaultInjectionEnv* const env_;
  const std::string path_;  // normalized
  std::unique_ptr<WritableFile> base_;
  bool dead_ = false;  // guarded by env_->gate_
  Status error_;       // the first failure; not thread-safe, like any WritableFile
};

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
  if (syncs_ != fail_sync_at_) return Status();
  FileState& f = files_[path];
  f.lost_from = std::min(f.lost_from, f.synced_size);
  return InjectedError("sync", path, sync_errno_);
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

FaultInjectionEnv::~FaultInjectionEnv() {
  std::lock_guard<std::mutex> lock(mu_);
  HANSHIRO_CHECK(open_files_.empty());  // files must not outlive their Env
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::Wrap(const std::string& path,
                                                              bool truncate) {
  std::shared_lock<std::shared_mutex> gate(gate_);
  const std::string key = NormalizePath(path);
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
    auto [it, inserted] = files_.try_emplace(key);
    if (truncate) {
      it->second = FileState{};
    } else if (inserted) {
      it->second = FileState{size, size, kNothingLost};  // unseen: durable as found
    }
    if (!existed) unsynced_creations_.insert(key);
  }
  return std::unique_ptr<WritableFile>(new FaultWritableFile(this, key, std::move(base)));
}

Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  std::shared_lock<std::shared_mutex> gate(gate_);
  HANSHIRO_RETURN_IF_ERROR(base_->RemoveFile(path));
  const std::string key = NormalizePath(path);
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(key);
  unsynced_creations_.erase(key);
  // The removal is durable at once, and so is a pending rename onto this name.
  std::erase_if(unsynced_renames_, [&](const Rename& r) { return r.to == key; });
  return Status();
}

Status FaultInjectionEnv::CreateDirIfMissing(const std::string& dir) {
  std::shared_lock<std::shared_mutex> gate(gate_);
  const bool existed = base_->FileExists(dir);
  HANSHIRO_RETURN_IF_ERROR(base_->CreateDirIfMissing(dir));
  if (!existed) {
    std::lock_guard<std::mutex> lock(mu_);
    unsynced_creations_.insert(NormalizePath(dir));
  }
  return Status();
}

Status FaultInjectionEnv::RemoveDir(const std::string& dir) {
  std::shared_lock<std::shared_mutex> gate(gate_);
  HANSHIRO_RETURN_IF_ERROR(base_->RemoveDir(dir));
  std::lock_guard<std::mutex> lock(mu_);
  unsynced_creations_.erase(NormalizePath(dir));
  return Status();
}

Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  std::shared_lock<std::shared_mutex> gate(gate_);
  const std::string from_key = NormalizePath(from);
  const std::string to_key = NormalizePath(to);
  std::lock_guard<std::mutex> lock(mu_);
  // What a power cut would bring back at `to`: its durable contents, if any.
  std::optional<std::string> replaced;
  const Result<bool> to_is_dir = base_->IsDirectory(to);
  if (to_is_dir.ok() && !*to_is_dir && unsynced_creations_.count(to_key) == 0) {
    HANSHIRO_ASSIGN_OR_RETURN(std::string contents, ReadFileToString(base_, to));
    if (auto it = files_.find(to_key); it != files_.end()) {
      contents.resize(std::min<uint64_t>(contents.size(),
                                         std::min(it->second.synced_size, it->second.lost_from)));
    }
    replaced = std::move(contents);
  }
  HANSHIRO_RETURN_IF_ERROR(base_->RenameFile(from, to));

  files_.erase(to_key);
  if (auto node = files_.extract(from_key)) {
    node.key() = to_key;
    files_.insert(std::move(node));
  }
  const bool from_durable = unsynced_creations_.erase(from_key) == 0;
  unsynced_creations_.erase(to_key);  // the rename record now decides its fate
  unsynced_renames_.push_back({from_key, to_key, from_durable, std::move(replaced)});
  return Status();
}

Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t size) {
  std::shared_lock<std::shared_mutex> gate(gate_);
  HANSHIRO_RETURN_IF_ERROR(base_->TruncateFile(path, size));
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = files_.find(NormalizePath(path)); it != files_.end()) {
    FileState& f = it->second;
    f.size = size;
    f.synced_size = std::min(f.synced_size, size);
    if (size <= f.lost_from) f.lost_from = kNothingLost;  // the lost bytes are gone anyway
  }
  return Status();
}

Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  std::shared_lock<std::shared_mutex> gate(gate_);
  {
    // A directory sync is a sync point too: failing it leaves the
    // directory's new entries and renames undone by a power cut.
    std::lock_guard<std::mutex> lock(mu_);
    if (++syncs_ == fail_sync_at_) return InjectedError("sync", dir, sync_errno_);
  }
  HANSHIRO_RETURN_IF_ERROR(base_->SyncDir(dir));
  const std::string key = NormalizePath(dir);
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(unsynced_creations_, [&](const std::string& p) { return DirName(p) == key; });
  std::erase_if(unsynced_renames_, [&](const Rename& r) { return DirName(r.to) == key; });
  return Status();
}

Status FaultInjectionEnv::RemoveTree(const std::string& path) {
  HANSHIRO_ASSIGN_OR_RETURN(bool is_dir, base_->IsDirectory(path));
  if (!is_dir) return base_->RemoveFile(path);
  HANSHIRO_ASSIGN_OR_RETURN(std::vector<std::string> children, base_->GetChildren(path));
  for (const std::string& child : children) {
    HANSHIRO_RETURN_IF_ERROR(RemoveTree(JoinPath(path, child)));
  }
  return base_->RemoveDir(path);
}

Status FaultInjectionEnv::SimulatePowerLoss() {
  std::unique_lock<std::shared_mutex> gate(gate_);
  std::lock_guard<std::mutex> lock(mu_);
  for (FaultWritableFile* f : open_files_) f->Kill();

  Status first_error;
  auto note = [&](Status s) {
    if (!s.ok() && first_error.ok()) first_error = std::move(s);
  };
  for (const auto& [path, state] : files_) {
    const uint64_t keep = std::min(state.synced_size, state.lost_from);
    if (keep < state.size && base_->FileExists(path)) note(base_->TruncateFile(path, keep));
  }
  for (auto it = unsynced_renames_.rbegin(); it != unsynced_renames_.rend(); ++it) {
    // A file created at the old name since is not durable; the old entry wins.
    if (it->from_durable) unsynced_creations_.erase(it->from);
    if (base_->FileExists(it->to)) {
      note(it->from_durable ? base_->RenameFile(it->to, it->from) : base_->RemoveFile(it->to));
    }
    if (it->replaced) note(WriteStringToFile(base_, *it->replaced, it->to, /*sync=*/true));
  }
  // Parents sort before their children, so a vanished directory takes its
  // contents with it and they are then skipped.
  for (const std::string& path : unsynced_creations_) {
    if (base_->FileExists(path)) note(RemoveTree(path));
  }
  files_.clear();
  unsynced_creations_.clear();
  unsynced_renames_.clear();
  return first_error;
}

}  // namespace hanshiro
