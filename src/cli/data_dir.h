// Where the hanshiro command keeps its data when --data-dir is not given.
#ifndef HANSHIRO_CLI_DATA_DIR_H_
#define HANSHIRO_CLI_DATA_DIR_H_

#include <string>

namespace hanshiro::cli {

constexpr const char* kDataDirEnvVar = "HANSHIRO_DATA_DIR";
constexpr const char* kDefaultDataDir = "data";

// $HANSHIRO_DATA_DIR when set and non-empty, else "data" (relative
// to the working directory).
std::string DefaultDataDir();

}  // namespace hanshiro::cli

#endif  // HANSHIRO_CLI_DATA_DIR_H_
