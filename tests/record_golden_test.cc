// Golden files pin the record format: bytes written by format version 1 must
// decode to the same values forever, and encoding those values must give the
// same bytes. To regenerate after a deliberate format change (with a new
// version and an updated docs/format/record.md):
//   HANSHIRO_UPDATE_GOLDEN=1 build/release/tests/hanshiro_golden_test
#include <gtest/gtest.h>

#include <cstdlib>

#include "base/record.h"
#include "base/record_test_util.h"
#include "hanshiro/env.h"

namespace hanshiro {
namespace {

struct Golden {
  const char* file;
  Value value;
};

std::vector<Golden> Goldens() {
  return {
      {"record_v1_event_full.bin", testing::FullEvent()},
      {"record_v1_event_minimal.bin", testing::MinimalEvent()},
      {"record_v1_code_full.bin", testing::FullArtifact()},
      {"record_v1_index_full.bin", testing::FullIndexEntry()},
  };
}

TEST(RecordGoldenTest, Version1BytesDecodeToTheSameValuesAndBack) {
  Env* env = Env::Default();
  const bool update = std::getenv("HANSHIRO_UPDATE_GOLDEN") != nullptr;
  for (const Golden& g : Goldens()) {
    const std::string path = JoinPath(HANSHIRO_GOLDEN_DIR, g.file);
    std::string encoded;
    ASSERT_TRUE(record::Encode(g.value, &encoded).ok());
    if (update) {
      ASSERT_TRUE(WriteStringToFile(env, encoded, path, true).ok());
    }

    auto golden = ReadFileToString(env, path);
    ASSERT_TRUE(golden.ok()) << golden.status().ToString();
    auto decoded = record::Decode(*golden);
    ASSERT_TRUE(decoded.ok()) << g.file << ": " << decoded.status().ToString();
    EXPECT_TRUE(*decoded == g.value) << g.file;
    EXPECT_EQ(encoded, *golden) << g.file << ": encoding changed";
  }
}

}  // namespace
}  // namespace hanshiro
