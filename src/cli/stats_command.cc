#include "cli/stats_command.h"

#include <fmt/format.h>

#include "base/json.h"
#include "hanshiro/version.h"

namespace hanshiro::cli {
namespace {

constexpr int kMaxDepth = 8;  // data directories are shallow; stops symlink loops

Status Walk(Env* env, const std::string& root, const std::string& rel, int depth, DirStats* stats) {
  const std::string dir = rel == "." ? root : JoinPath(root, rel);
  HANSHIRO_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(dir));
  for (const std::string& name : names) {
    const std::string path = JoinPath(dir, name);
    // An entry removed while we walk (or a dangling link) is simply not there.
    Result<bool> is_dir = env->IsDirectory(path);
    if (!is_dir.ok() && is_dir.status().IsNotFound()) continue;
    if (!is_dir.ok()) return is_dir.status();
    if (*is_dir) {
      if (depth >= kMaxDepth) {
        stats->skipped_deep_dirs = true;
      } else {
        HANSHIRO_RETURN_IF_ERROR(
            Walk(env, root, rel == "." ? name : JoinPath(rel, name), depth + 1, stats));
      }
      continue;
    }
    Result<uint64_t> size_or = env->GetFileSize(path);
    if (!size_or.ok() && size_or.status().IsNotFound()) continue;
    if (!size_or.ok()) return size_or.status();
    const uint64_t size = *size_or;
    DirStats::Usage& usage = stats->by_dir[rel];
    ++usage.files;
    usage.bytes += size;
    ++stats->total.files;
    stats->total.bytes += size;
  }
  return Status();
}

}  // namespace

Result<DirStats> CollectStats(Env* env, const std::string& data_dir) {
  DirStats stats;
  stats.path = data_dir;
  Result<bool> is_dir = env->IsDirectory(data_dir);
  if (!is_dir.ok()) {
    if (is_dir.status().IsNotFound()) return stats;
    return is_dir.status();
  }
  if (!*is_dir) {
    return Status::InvalidArgument("data directory " + data_dir + " is not a directory");
  }
  stats.exists = true;
  HANSHIRO_RETURN_IF_ERROR(Walk(env, data_dir, ".", 0, &stats));
  return stats;
}

std::string FormatStatsText(const DirStats& stats) {
  std::string out = fmt::format("HanshiroDB {}\ndata directory: {}\n", Version(), stats.path);
  if (!stats.exists) {
    out += "  does not exist yet: nothing stored\n";
    return out;
  }
  out += fmt::format("  files: {}\n  bytes: {}\n", stats.total.files, stats.total.bytes);
  for (const auto& [dir, usage] : stats.by_dir) {
    out += fmt::format("  {:<16} {:>8} files {:>14} bytes\n", dir, usage.files, usage.bytes);
  }
  if (stats.skipped_deep_dirs) out += "  (directories nested deeper than 8 levels not counted)\n";
  return out;
}

std::string FormatStatsJson(const DirStats& stats) {
  std::string out = "{\"version\":" + json::Quote(Version());
  out += ",\"data_dir\":" + json::Quote(stats.path);
  out += fmt::format(",\"exists\":{},\"files\":{},\"bytes\":{},\"dirs\":{{", stats.exists,
                     stats.total.files, stats.total.bytes);
  bool first = true;
  for (const auto& [dir, usage] : stats.by_dir) {
    if (!first) out += ",";
    first = false;
    out += json::Quote(dir);
    out += fmt::format(":{{\"files\":{},\"bytes\":{}}}", usage.files, usage.bytes);
  }
  out += fmt::format("}},\"skipped_deep_dirs\":{}}}", stats.skipped_deep_dirs);
  return out;
}

}  // namespace hanshiro::cli
