#include "cli/data_dir.h"

#include <cstdlib>

namespace hanshiro::cli {

std::string DefaultDataDir() {
  const char* dir = std::getenv(kDataDirEnvVar);
  return (dir != nullptr && *dir != '\0') ? dir : kDefaultDataDir;
}

}  // namespace hanshiro::cli
