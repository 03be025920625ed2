// Pins WAL segment version 1: the bytes of a small log are compared with
// tests/golden/wal_v1_segment.wal, and rebuilt by hand from docs/format/wal.md
// (not through the encoder), so the page, the code and the file agree.
// HANSHIRO_UPDATE_GOLDEN=1 rewrites the golden file.
#include <gtest/gtest.h>

#include <cstdlib>

#include "base/blake3.h"
#include "base/coding.h"
#include "base/crc32c.h"
#include "env/test_dir.h"
#include "integrity/merkle.h"
#include "wal/log.h"
#include "wal/scanner.h"

namespace hanshiro::wal {
namespace {

const std::string kGolden = std::string(HANSHIRO_GOLDEN_DIR) + "/wal_v1_segment.wal";

std::string Masked(std::string_view bytes) {
  std::string out;
  PutFixed32(&out, crc32c::Mask(crc32c::Value(bytes)));
  return out;
}

// One record, per the byte-offset table of wal.md.
std::string Record(uint64_t seq, uint8_t kind, std::string_view payload) {
  std::string body;
  PutFixed64(&body, seq);
  body.push_back(static_cast<char>(kind));
  PutFixed32(&body, static_cast<uint32_t>(payload.size()));
  body.append(payload);
  return Masked(body) + body;
}

std::string HandBuiltSegment() {
  std::string header = "HSWALSEG";
  PutFixed32(&header, 1);
  PutFixed32(&header, 1);
  PutFixed64(&header, 1);
  PutFixed64(&header, 0);
  header.append(blake3::Hash("").view());
  header += Masked(header);

  auto leaf = [](uint64_t seq, uint8_t kind, std::string_view payload) {
    std::string input(1, '\0');
    input.append(Record(seq, kind, payload).substr(4));
    return blake3::Hash(input);
  };
  auto node = [](const Hash256& l, const Hash256& r) {
    std::string input(1, '\1');
    input.append(l.view());
    input.append(r.view());
    return blake3::Hash(input);
  };
  const Hash256 l0 = leaf(0, 1, "hello"), l1 = leaf(1, 2, "code"), l2 = leaf(2, 3, "index");
  std::string out = header;
  out += Record(0, 1, "hello");
  out += Record(1, 0x10, l0.view());  // root of a one-leaf tree is the leaf
  out += Record(1, 2, "code");
  out += Record(2, 3, "index");
  out += Record(3, 0x10, node(node(l0, l1), l2).view());
  return out;
}

TEST(WalGoldenTest, SegmentBytesArePinned) {
  testing::TestDir dir;
  {
    Options options;
    options.sync_on_write = false;
    auto log = Log::Open(options, dir.path());
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Write(1, "hello").ok());
    const std::vector<Entry> batch = {{2, "code"}, {3, "index"}};
    ASSERT_TRUE((*log)->WriteBatch(batch).ok());
    ASSERT_TRUE((*log)->Close().ok());
  }
  const std::string written = *ReadFileToString(Env::Default(), dir.File("wal/000001.wal"));
  if (std::getenv("HANSHIRO_UPDATE_GOLDEN") != nullptr) {
    ASSERT_TRUE(WriteStringToFile(Env::Default(), written, kGolden, true).ok());
  }
  const auto golden = ReadFileToString(Env::Default(), kGolden);
  ASSERT_TRUE(golden.ok()) << golden.status().ToString();
  EXPECT_EQ(written, *golden);
  EXPECT_EQ(HandBuiltSegment(), *golden);
}

TEST(WalGoldenTest, GoldenSegmentScans) {
  testing::TestDir dir;
  ASSERT_TRUE(Env::Default()->CreateDirIfMissing(dir.File("wal")).ok());
  ASSERT_TRUE(WriteStringToFile(Env::Default(), *ReadFileToString(Env::Default(), kGolden),
                                dir.File("wal/000001.wal"), false)
                  .ok());
  std::vector<std::pair<uint64_t, std::string>> seen;
  ScanParams params;
  params.on_group = [&](const Group& g) {
    for (const GroupRecord& r : g.records) seen.emplace_back(r.seq, std::string(r.payload));
    return Status::OK();
  };
  const uint64_t numbers[] = {1};
  ScanResult result = ScanSegments(Env::Default(), dir.File("wal"), numbers, params);
  ASSERT_TRUE(result.error.ok()) << result.error.ToString();
  EXPECT_EQ(result.next_seq, 3u);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[2], std::make_pair(uint64_t{2}, std::string("index")));
}

}  // namespace
}  // namespace hanshiro::wal
