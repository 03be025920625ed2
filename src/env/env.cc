#include "hanshiro/env.h"

namespace hanshiro {

Status WriteStringToFile(Env* env, std::string_view data, const std::string& path, bool sync) {
  HANSHIRO_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env->NewWritableFile(path));
  Status s = file->Append(data);
  if (s.ok() && sync) s = file->Sync();
  if (s.ok()) s = file->Close();
  if (!s.ok()) (void)env->RemoveFile(path);  // best effort; the first error is what matters
  return s;
}

Result<std::string> ReadFileToString(Env* env, const std::string& path) {
  HANSHIRO_ASSIGN_OR_RETURN(std::unique_ptr<SequentialFile> file, env->NewSequentialFile(path));
  std::string out;
  constexpr size_t kChunk = size_t{64} * 1024;
  std::string scratch(kChunk, '\0');
  while (true) {
    std::string_view piece;
    HANSHIRO_RETURN_IF_ERROR(file->Read(kChunk, &piece, scratch.data()));
    if (piece.empty()) break;
    out.append(piece);
  }
  return out;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out.push_back('/');
  out.append(name);
  return out;
}

std::string DirName(std::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

Status CreateDirDurably(Env* env, const std::string& dir) {
  HANSHIRO_RETURN_IF_ERROR(env->CreateDirIfMissing(dir));
  return env->SyncDir(DirName(dir));
}

}  // namespace hanshiro
