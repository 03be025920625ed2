// `hanshiro stats`: what a data directory holds.
//
// Until the storage engine opens the directory, stats reports what is on disk:
// how many files and bytes, grouped by the subdirectory they sit in.
// Read-only: a missing directory is reported, not created.
#ifndef HANSHIRO_CLI_STATS_COMMAND_H_
#define HANSHIRO_CLI_STATS_COMMAND_H_

#include <cstdint>
#include <map>
#include <string>

#include "hanshiro/env.h"
#include "hanshiro/status.h"

namespace hanshiro::cli {

struct DirStats {
  struct Usage {
    uint64_t files = 0;
    uint64_t bytes = 0;
  };
  std::string path;
  bool exists = false;
  Usage total;
  // Keyed by the path relative to the data directory ("." for the top level).
  std::map<std::string, Usage> by_dir;
  // Directories nested more than 8 levels deep were not counted.
  bool skipped_deep_dirs = false;
};

// NotFound is not an error here: it gives exists = false.
Result<DirStats> CollectStats(Env* env, const std::string& data_dir);

std::string FormatStatsText(const DirStats& stats);
// One JSON object on one line.
std::string FormatStatsJson(const DirStats& stats);

}  // namespace hanshiro::cli

#endif  // HANSHIRO_CLI_STATS_COMMAND_H_
