#include "cli/progress.h"

#include <gtest/gtest.h>

namespace hanshiro::cli {
namespace {

TEST(ProgressTest, CountsAreShort) {
  EXPECT_EQ(Progress::Count(12), "12");
  EXPECT_EQ(Progress::Count(9'999), "9999");
  EXPECT_EQ(Progress::Count(917'400), "917K");
  EXPECT_EQ(Progress::Count(2'640'000), "2.6M");
  EXPECT_EQ(Progress::Count(25'000'000), "25M");
}

}  // namespace
}  // namespace hanshiro::cli
