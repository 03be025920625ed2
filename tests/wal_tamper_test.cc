// The WAL tamper matrix: each test damages a copy of one pristine log the way
// an attacker (or a bad disk) would, and checks that the damage is detected
// AND located -- the rule, the file, and the seq and offset computed from the
// bytes. Damage before the signed checkpoint is Verify's to find (recovery
// trusts the checkpoint); damage after it is recovery's.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <vector>

#include "base/coding.h"
#include "base/crc32c.h"
#include "env/test_dir.h"
#include "integrity/checkpoint.h"
#include "wal/log.h"
#include "wal/segment.h"

namespace hanshiro::wal {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kRecords = 200;
constexpr uint64_t kNoReplay = UINT64_MAX;  // recovery starts at the checkpoint
constexpr uint8_t kCommitKind = static_cast<uint8_t>(Kind::kCommit);
constexpr Status::Code kCorruption = Status::Code::kCorruption;
constexpr Status::Code kIntegrityBroken = Status::Code::kIntegrityBroken;

std::string Payload(uint64_t i) {
  return "record " + std::to_string(i) + " " + std::string(i % 61, static_cast<char>('a' + i % 26));
}

struct RecordAt {
  uint64_t offset = 0;
  uint64_t seq = 0;
  uint64_t size = 0;  // header and payload
  uint64_t end() const { return offset + size; }
};
// One commit group of a segment: its data records, then its commit record.
struct GroupAt {
  std::vector<RecordAt> data;
  RecordAt commit;
};

std::string ReadFile(const std::string& path) {
  auto bytes = ReadFileToString(Env::Default(), path);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : std::string();
}

void WriteFile(const std::string& path, std::string_view bytes) {
  ASSERT_TRUE(WriteStringToFile(Env::Default(), bytes, path, false).ok()) << path;
}

// Recomputes the checksum of the record at `offset`: an attacker who knows
// the format.
void FixCrc(std::string* bytes, uint64_t offset) {
  char* p = bytes->data() + offset;
  const uint32_t length = DecodeFixed32(p + kLengthOffset);
  EncodeFixed32(p,
                crc32c::Mask(crc32c::Value(p + kCrcSize, kRecordHeaderSize - kCrcSize + length)));
}

void RewriteSeq(std::string* bytes, uint64_t offset, uint64_t seq) {
  EncodeFixed64(bytes->data() + offset + kCrcSize, seq);
  FixCrc(bytes, offset);
}

// The committed groups of a segment, read with SegmentReader.
std::vector<GroupAt> Groups(const std::string& segment) {
  std::vector<GroupAt> groups;
  auto reader = SegmentReader::Open(Env::Default(), segment, UINT64_MAX);
  EXPECT_TRUE(reader.ok()) << reader.status().ToString();
  if (!reader.ok()) return groups;
  GroupAt group;
  RecordView rec;
  std::string why;
  while ((*reader)->Next(&rec, &why) == SegmentReader::Outcome::kRecord) {
    const RecordAt at{rec.offset, rec.seq, rec.end() - rec.offset};
    if (rec.kind != kCommitKind) {
      group.data.push_back(at);
      continue;
    }
    group.commit = at;
    groups.push_back(std::move(group));
    group = GroupAt();
  }
  return groups;
}

std::string WalName(uint64_t number) {
  const std::string n = std::to_string(number);
  return "wal " + std::string(6 - std::min<size_t>(6, n.size()), '0') + n;
}

std::string Located(uint64_t seq, uint64_t offset) {
  return "at seq " + std::to_string(seq) + " (offset " + std::to_string(offset) + ")";
}

// Expects `s` to carry `code` and every one of `parts`.
void ExpectBreak(const Status& s, Status::Code code, std::initializer_list<std::string> parts) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  for (const std::string& part : parts) {
    EXPECT_NE(s.ToString().find(part), std::string::npos)
        << "\"" << part << "\" not in: " << s.ToString();
  }
}

// Expects the [LED-4] break for record `rec` of segment 2: its leaf hash
// (ledger entry rec.seq) differs from the one recomputed from its bytes.
void ExpectLeafBreak(const Status& s, const RecordAt& rec) {
  const std::string entry = std::to_string(32 + 32 * rec.seq);
  ExpectBreak(s, kIntegrityBroken,
              {"level-00.tiles: leaf hash of seq " + std::to_string(rec.seq) + " (offset " + entry,
               "000002.wal offset " + std::to_string(rec.offset) + " [LED-4]"});
}

// Writes records first..first+n-1 in one commit group.
void WriteGroup(Log* log, uint64_t first, uint64_t n) {
  std::vector<std::string> payloads;
  for (uint64_t i = first; i < first + n; ++i) payloads.push_back(Payload(i));
  std::vector<Entry> batch;
  for (uint64_t i = 0; i < n; ++i) {
    batch.push_back({static_cast<uint8_t>(1 + (first + i) % 3), payloads[i]});
  }
  auto seq = log->WriteBatch(batch);
  ASSERT_TRUE(seq.ok()) << seq.status().ToString();
  ASSERT_EQ(*seq, first);
}

Options TamperOptions() {
  Options options;
  options.max_file_size = 4 << 10;
  options.sync_on_write = false;
  return options;
}

class WalTamperTest : public ::testing::Test {
 protected:
  // 200 records in groups of 1..5 over at least 4 segments, checkpointed
  // and closed; every test works on its own copy.
  static void SetUpTestSuite() {
    pristine_ = new testing::TestDir;
    auto log = Log::Open(TamperOptions(), pristine_->path());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    constexpr uint64_t kGroupSizes[] = {1, 3, 1, 5, 4, 1, 2};
    uint64_t seq = 0;
    for (size_t g = 0; seq < kRecords; ++g) {
      const uint64_t n = std::min(kGroupSizes[g % std::size(kGroupSizes)], kRecords - seq);
      ASSERT_NO_FATAL_FAILURE(WriteGroup(log->get(), seq, n));
      seq += n;
    }
    ASSERT_TRUE((*log)->Checkpoint().ok());
    ASSERT_TRUE((*log)->Close().ok());
  }
  static void TearDownTestSuite() {
    delete pristine_;
    pristine_ = nullptr;
  }

  void SetUp() override {
    fs::copy(pristine_->path(), dir_.path(), fs::copy_options::recursive);
    for (const auto& entry : fs::directory_iterator(dir_.File("wal"))) {
      if (ParseSegmentFileName(entry.path().filename().string()) != 0) ++segments_;
    }
    ASSERT_GE(segments_, 4u);
    const std::vector<GroupAt> groups = Groups(Segment(2));
    // A group of 3+ records inside segment 2, neither its first nor its last.
    for (size_t i = 1; i + 1 < groups.size() && group_.data.empty(); ++i) {
      if (groups[i].data.size() >= 3) group_ = groups[i];
    }
    ASSERT_FALSE(group_.data.empty());
    seg2_ = ReadFile(Segment(2));
  }

  std::string Segment(uint64_t n) const { return SegmentFileName(dir_.File("wal"), n); }
  std::string Checkpoint() const { return dir_.File("integrity/CHECKPOINT"); }

  std::unique_ptr<Log> Open(uint64_t replay_from = kNoReplay, const Log::ReplayFn& fn = nullptr) {
    auto log = Log::Open(TamperOptions(), dir_.path(), replay_from, fn);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }
  // Damage before the checkpoint: recovery sees nothing, Verify finds it.
  Status VerifyAfterOpen() {
    auto log = Open();
    if (log == nullptr) return Status::NotFound("the log did not open");
    EXPECT_TRUE(log->recovery().broken.ok()) << log->recovery().broken.ToString();
    return log->Verify().error;
  }
  void WriteSegment2() { WriteFile(Segment(2), seg2_); }
  // Flips a root byte of the checkpoint, re-encoded: its signature no longer verifies.
  void ForgeCheckpoint() {
    auto cp = integrity::DecodeCheckpoint(ReadFile(Checkpoint()));
    ASSERT_TRUE(cp.ok()) << cp.status().ToString();
    cp->head.root.bytes[0] ^= 0x01;
    WriteFile(Checkpoint(), integrity::EncodeCheckpoint(*cp));
  }

  static testing::TestDir* pristine_;
  testing::TestDir dir_;
  uint64_t segments_ = 0;
  GroupAt group_;     // in segment 2
  std::string seg2_;  // its bytes, to damage
};

testing::TestDir* WalTamperTest::pristine_ = nullptr;

TEST_F(WalTamperTest, PristineLogIsIntact) {
  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(log->recovery().broken.ok()) << log->recovery().broken.ToString();
  EXPECT_EQ(log->recovery().checkpoint_size, kRecords);
  EXPECT_FALSE(log->recovery().torn.has_value());
  const VerifyReport report = log->Verify();
  EXPECT_TRUE(report.intact()) << report.error.ToString();
  EXPECT_EQ(report.records, kRecords);
  EXPECT_EQ(report.tree_size, kRecords);
  EXPECT_EQ(*log->Write(1, "next"), kRecords);
}

TEST_F(WalTamperTest, SegmentHeaderFlipIsWal2) {
  seg2_[24] ^= 0x01;  // first_seq
  WriteSegment2();
  ExpectBreak(VerifyAfterOpen(), kCorruption, {"000002.wal", "at offset 0", "[WAL-2]"});
}

TEST_F(WalTamperTest, RecordSeqFlipIsWal5) {
  const RecordAt& rec = group_.data[1];
  seg2_[rec.offset + kCrcSize] ^= 0x01;
  WriteSegment2();
  ExpectBreak(VerifyAfterOpen(), kCorruption,
              {WalName(2), Located(rec.seq, rec.offset), "[WAL-5]"});
}

TEST_F(WalTamperTest, PayloadFlipIsWal5) {
  const RecordAt& rec = group_.data[1];
  seg2_[rec.offset + kRecordHeaderSize + 3] ^= 0x01;
  WriteSegment2();
  ExpectBreak(VerifyAfterOpen(), kCorruption,
              {WalName(2), Located(rec.seq, rec.offset), "[WAL-5]"});
}

TEST_F(WalTamperTest, PayloadFlipWithFixedCrcDiffersFromLedger) {
  const RecordAt& rec = group_.data[1];
  seg2_[rec.offset + kRecordHeaderSize + 3] ^= 0x01;
  FixCrc(&seg2_, rec.offset);
  WriteSegment2();
  ExpectLeafBreak(VerifyAfterOpen(), rec);
}

TEST_F(WalTamperTest, CommitRootChangeIsWal11) {
  const RecordAt& commit = group_.commit;
  seg2_[commit.offset + kRecordHeaderSize + 7] ^= 0x01;
  FixCrc(&seg2_, commit.offset);
  WriteSegment2();
  ExpectBreak(VerifyAfterOpen(), kIntegrityBroken,
              {WalName(2), Located(commit.seq, commit.offset), "[WAL-11]"});
}

TEST_F(WalTamperTest, LedgerLeafFlipIsLed4AndBreaksOpen) {
  const RecordAt& rec = group_.data[1];
  const std::string tiles = dir_.File("integrity/ledger/level-00.tiles");
  std::string bytes = ReadFile(tiles);
  const uint64_t entry = 32 + 32 * rec.seq;
  ASSERT_LE(entry + 32, bytes.size());
  bytes[entry + 5] ^= 0x01;
  WriteFile(tiles, bytes);

  auto log = Open();
  ASSERT_NE(log, nullptr);
  ExpectBreak(log->recovery().broken, kIntegrityBroken,
              {"level-00.tiles", "first 200 leaves", "[LED-4]"});
  EXPECT_EQ(log->Write(1, "x").status().code(), kIntegrityBroken);
  ExpectLeafBreak(log->Verify().error, rec);
}

TEST_F(WalTamperTest, DeletedRecordIsWal9) {
  const RecordAt& rec = group_.data[0];
  seg2_.erase(rec.offset, rec.size);  // every checksum stays valid
  WriteSegment2();
  ExpectBreak(VerifyAfterOpen(), kCorruption,
              {WalName(2), "carries seq " + std::to_string(rec.seq + 1),
               Located(rec.seq, rec.offset), "[WAL-9]"});
}

TEST_F(WalTamperTest, SwappedRecordsAreWal9) {
  const RecordAt& a = group_.data[0];
  const RecordAt& b = group_.data[1];
  const std::string swapped = seg2_.substr(b.offset, b.size) + seg2_.substr(a.offset, a.size);
  seg2_.replace(a.offset, a.size + b.size, swapped);
  WriteSegment2();
  ExpectBreak(
      VerifyAfterOpen(), kCorruption,
      {WalName(2), "carries seq " + std::to_string(b.seq), Located(a.seq, a.offset), "[WAL-9]"});
}

TEST_F(WalTamperTest, SwappedRecordsWithRewrittenSeqsDifferFromLedger) {
  const RecordAt& a = group_.data[0];
  const RecordAt& b = group_.data[1];
  const std::string swapped = seg2_.substr(b.offset, b.size) + seg2_.substr(a.offset, a.size);
  seg2_.replace(a.offset, a.size + b.size, swapped);
  RewriteSeq(&seg2_, a.offset, a.seq);           // b's bytes, now first
  RewriteSeq(&seg2_, a.offset + b.size, b.seq);  // a's bytes, now second
  WriteSegment2();
  ExpectLeafBreak(VerifyAfterOpen(), a);
}

TEST_F(WalTamperTest, MiddleSegmentCutInsideRecordIsWal14) {
  const RecordAt& rec = group_.data[1];
  WriteFile(Segment(2), seg2_.substr(0, rec.offset + 10));
  ExpectBreak(VerifyAfterOpen(), kCorruption,
              {WalName(2), "ends inside a record", Located(rec.seq, rec.offset), "[WAL-14]"});
}

TEST_F(WalTamperTest, MiddleSegmentCutAtGroupBoundaryIsWal12) {
  const uint64_t next_first_seq = DecodeFixed64(ReadFile(Segment(3)).data() + 24);
  WriteFile(Segment(2), seg2_.substr(0, group_.commit.end()));
  ExpectBreak(VerifyAfterOpen(), kCorruption,
              {WalName(3), "segment starts at seq " + std::to_string(next_first_seq),
               Located(group_.commit.seq, 0), "[WAL-12]"});
}

TEST_F(WalTamperTest, LastSegmentCutEndsBeforeCheckpoint) {
  const std::string last = Segment(segments_);
  const std::string bytes = ReadFile(last);
  const std::vector<GroupAt> groups = Groups(last);
  ASSERT_FALSE(groups.empty());
  struct Cut {
    uint64_t size;     // bytes kept
    uint64_t end_seq;  // where the records then end
  };
  const Cut cuts[] = {
      {groups.back().data.front().offset, groups.back().data.front().seq},  // the last group
      {groups.back().data[0].end(), groups.back().data.front().seq},        // a torn last group
      {kSegmentHeaderSize, groups.front().data.front().seq},                // every record
  };
  for (const Cut& cut : cuts) {
    SCOPED_TRACE("kept " + std::to_string(cut.size) + " bytes");
    WriteFile(last, bytes.substr(0, cut.size));
    auto log = Open();
    ASSERT_NE(log, nullptr);
    ExpectBreak(log->recovery().broken, kIntegrityBroken,
                {WalName(segments_), "ends at seq " + std::to_string(cut.end_seq),
                 "checkpoint covers 200"});
    EXPECT_EQ(log->Write(1, "x").status().code(), kIntegrityBroken);
    EXPECT_EQ(ReadFile(last).size(), cut.size);  // the evidence is kept, not truncated
    EXPECT_EQ(log->Verify().error.code(), kIntegrityBroken);
  }
}

TEST_F(WalTamperTest, MissingMiddleSegmentIsWal13) {
  const std::vector<GroupAt> groups = Groups(Segment(2));
  ASSERT_TRUE(Env::Default()->RemoveFile(Segment(3)).ok());
  ExpectBreak(VerifyAfterOpen(), kCorruption,
              {"wal 000003: missing", "000002 is followed by 000004",
               "(seq " + std::to_string(groups.back().commit.seq) + ")", "[WAL-13]"});
}

TEST_F(WalTamperTest, ForgedCheckpointBreaksOpen) {
  ASSERT_NO_FATAL_FAILURE(ForgeCheckpoint());
  auto log = Open();
  ASSERT_NE(log, nullptr);
  ExpectBreak(log->recovery().broken, kIntegrityBroken, {"CHECKPOINT", "signature"});
  EXPECT_EQ(log->Write(1, "x").status().code(), kIntegrityBroken);
}

TEST_F(WalTamperTest, VerifyAfterForgedCheckpointReportsIt) {
  ASSERT_NO_FATAL_FAILURE(ForgeCheckpoint());
  auto log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_FALSE(log->Verify().intact());
}

TEST_F(WalTamperTest, ReplayBeforeCheckpointChecksLeaves) {
  const RecordAt& rec = group_.data[1];
  seg2_[rec.offset + kRecordHeaderSize + 3] ^= 0x01;
  FixCrc(&seg2_, rec.offset);
  WriteSegment2();
  std::string tampered = Payload(rec.seq), replayed;
  tampered[3] ^= 0x01;
  auto log = Open(0, [&](uint64_t seq, uint8_t, std::string_view payload) {
    if (seq == rec.seq) replayed = payload;
    return Status::OK();
  });
  ASSERT_NE(log, nullptr);
  EXPECT_NE(replayed, tampered);
  // Located at the record: its leaf differs from the ledger's copy.
  ExpectBreak(log->recovery().broken, kIntegrityBroken,
              {"000002.wal", "record " + std::to_string(rec.seq),
               "offset " + std::to_string(rec.offset), "[LED-4]"});
  EXPECT_FALSE(log->Write(1, "x").ok());
}

TEST_F(WalTamperTest, TamperAfterCheckpointBreaksOpenAtCommit) {
  const std::string old_checkpoint = ReadFile(Checkpoint());
  {
    Options options = TamperOptions();
    options.sync_on_write = true;
    auto log = Log::Open(options, dir_.path(), kNoReplay);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_NO_FATAL_FAILURE(WriteGroup(log->get(), kRecords, 5));
    ASSERT_NO_FATAL_FAILURE(WriteGroup(log->get(), kRecords + 5, 5));
  }  // Close signs a checkpoint of 210 records; roll it back to 200.
  WriteFile(Checkpoint(), old_checkpoint);
  const std::string seg = Segment(segments_ + 1);
  const std::vector<GroupAt> groups = Groups(seg);
  ASSERT_EQ(groups.size(), 2u);
  std::string bytes = ReadFile(seg);
  const RecordAt& rec = groups[0].data[2];
  bytes[rec.offset + kRecordHeaderSize + 1] ^= 0x01;
  FixCrc(&bytes, rec.offset);
  WriteFile(seg, bytes);

  auto log = Open();
  ASSERT_NE(log, nullptr);
  ExpectBreak(
      log->recovery().broken, kIntegrityBroken,
      {WalName(segments_ + 1), Located(groups[0].commit.seq, groups[0].commit.offset), "[WAL-11]"});
  EXPECT_EQ(log->Write(1, "x").status().code(), kIntegrityBroken);
}

}  // namespace
}  // namespace hanshiro::wal
