#include "cli/data_dir.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace hanshiro::cli {
namespace {

TEST(DataDirTest, EnvironmentOverridesDefault) {
  ::setenv(kDataDirEnvVar, "/srv/hanshiro", 1);
  EXPECT_EQ(DefaultDataDir(), "/srv/hanshiro");
  ::setenv(kDataDirEnvVar, "", 1);
  EXPECT_EQ(DefaultDataDir(), "data");
  ::unsetenv(kDataDirEnvVar);
  EXPECT_EQ(DefaultDataDir(), "data");
}

}  // namespace
}  // namespace hanshiro::cli
