#include "engine/metrics.h"

#include <gtest/gtest.h>

namespace hanshiro::engine {
namespace {

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Histogram h({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768});
  for (double v : {0.5, 1.0, 3.0, 100.0, 1e9}) h.Record(v);
  std::string out;
  h.AppendTo(&out, "x", "help");
  EXPECT_NE(out.find("# TYPE x histogram\n"), std::string::npos);
  EXPECT_NE(out.find("x_bucket{le=\"1\"} 2\n"), std::string::npos) << out;
  EXPECT_NE(out.find("x_bucket{le=\"4\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("x_bucket{le=\"128\"} 4\n"), std::string::npos);
  EXPECT_NE(out.find("x_bucket{le=\"32768\"} 4\n"), std::string::npos);
  EXPECT_NE(out.find("x_bucket{le=\"+Inf\"} 5\n"), std::string::npos);
  EXPECT_NE(out.find("x_count 5\n"), std::string::npos);
}

}  // namespace
}  // namespace hanshiro::engine
