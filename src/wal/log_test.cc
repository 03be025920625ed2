#include "wal/log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "env/fault_injection_env.h"
#include "env/test_dir.h"
#include "integrity/merkle.h"
#include "wal/segment.h"

namespace hanshiro::wal {
namespace {

std::string Payload(uint64_t i) { return "event payload " + std::to_string(i) + std::string(i % 50, 'x'); }

using Replayed = std::map<uint64_t, std::pair<uint8_t, std::string>>;

class LogTest : public ::testing::Test {
 protected:
  std::unique_ptr<Log> OpenLog(Replayed* replayed = nullptr, uint64_t from = 0) {
    auto log = Log::Open(options_, dir_.path(), from,
                         [&](uint64_t seq, uint8_t kind, std::string_view payload) {
                           if (replayed != nullptr) (*replayed)[seq] = {kind, std::string(payload)};
                           return Status::OK();
                         });
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }
  std::string Segment(uint64_t n) const { return SegmentFileName(dir_.path() + "/wal", n); }

  testing::TestDir dir_;
  Options options_;
};

TEST_F(LogTest, WritesGetConsecutiveSequenceNumbersAndReplay) {
  {
    auto log = OpenLog();
    EXPECT_EQ(*log->Write(1, Payload(0)), 0u);
    std::vector<std::string> payloads = {Payload(1), Payload(2), Payload(3)};
    std::vector<Entry> batch = {{2, payloads[0]}, {3, payloads[1]}, {1, payloads[2]}};
    EXPECT_EQ(*log->WriteBatch(batch), 1u);
    EXPECT_EQ(*log->Write(1, ""), 4u);
    EXPECT_EQ(log->size(), 5u);
    ASSERT_TRUE(log->Close().ok());
  }
  Replayed replayed;
  auto log = OpenLog(&replayed);
  ASSERT_EQ(replayed.size(), 5u);
  EXPECT_EQ(replayed[0], std::make_pair(uint8_t{1}, Payload(0)));
  EXPECT_EQ(replayed[2], std::make_pair(uint8_t{3}, Payload(2)));
  EXPECT_EQ(replayed[4], std::make_pair(uint8_t{1}, std::string()));
  EXPECT_EQ(*log->Write(1, "next"), 5u);
  EXPECT_FALSE(log->recovery().torn.has_value());
  EXPECT_TRUE(log->Verify().intact());
}

TEST_F(LogTest, ReplayFromSkipsEarlierRecords) {
  {
    auto log = OpenLog();
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(log->Write(1, Payload(i)).ok());
  }
  Replayed replayed;
  auto log = OpenLog(&replayed, 7);
  EXPECT_EQ(replayed.size(), 3u);
  EXPECT_EQ(replayed.begin()->first, 7u);
  EXPECT_EQ(log->recovery().replayed, 3u);
}

TEST_F(LogTest, BadInputIsRejectedAndNothingIsWritten) {
  auto log = OpenLog();
  EXPECT_TRUE(log->WriteBatch({}).status().IsInvalidArgument());
  Status s = log->Write(0x10, "x").status();
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("entry 0: kind 16"), std::string::npos) << s.ToString();
  const std::string huge(kMaxPayloadBytes + 1, 'a');
  std::vector<Entry> batch = {{1, "ok"}, {1, huge}};
  s = log->WriteBatch(batch).status();
  EXPECT_NE(s.message().find("entry 1: payload of"), std::string::npos) << s.ToString();
  EXPECT_EQ(log->size(), 0u);
  EXPECT_EQ(*log->Write(1, "fine"), 0u);
}

TEST_F(LogTest, ConcurrentWritersAllLandInOneOrder) {
  options_.sync_on_write = false;
  options_.max_file_size = 64 << 10;  // many segments
  options_.max_batch_size = 50;
  constexpr int kThreads = 8, kWrites = 300;
  std::map<uint64_t, std::string> acked;
  std::mutex mu;
  {
    auto log = OpenLog();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kWrites; ++i) {
          const std::string p = Payload(t * 100000 + i);
          if (i % 3 == 0) {
            const std::string q = p + "b";
            std::vector<Entry> batch = {{1, p}, {2, q}};
            auto seq = log->WriteBatch(batch);
            ASSERT_TRUE(seq.ok());
            std::lock_guard lock(mu);
            acked[*seq] = p;
            acked[*seq + 1] = q;
          } else {
            auto seq = log->Write(1, p);
            ASSERT_TRUE(seq.ok());
            std::lock_guard lock(mu);
            acked[*seq] = p;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(acked.size(), log->size());
    EXPECT_EQ(acked.rbegin()->first + 1, log->size());
    VerifyReport report = log->Verify();
    EXPECT_TRUE(report.intact()) << report.error.ToString();
    EXPECT_EQ(report.records, log->size());
  }
  EXPECT_TRUE(Env::Default()->FileExists(Segment(3)));
  Replayed replayed;
  auto log = OpenLog(&replayed);
  ASSERT_EQ(replayed.size(), acked.size());
  for (const auto& [seq, payload] : acked) EXPECT_EQ(replayed[seq].second, payload) << seq;
  EXPECT_TRUE(log->Verify().intact());
}

// With sync on, one fsync covers every commit group ready behind the
// leader's: each batch (as large as a group may be) is still a group of its
// own, with its own commit record, and all of them replay and verify.
TEST_F(LogTest, OneSyncCoversTheGroupsReadyAtOnce) {
  options_.sync_on_write = true;
  options_.max_batch_size = 4;
  options_.max_file_size = 256 << 10;  // rotations inside the rounds
  constexpr int kThreads = 8, kBatches = 60;
  std::map<uint64_t, std::string> acked;
  std::mutex mu;
  LogStats stats;
  {
    auto log = OpenLog();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kBatches; ++i) {
          std::vector<std::string> payloads;
          for (int k = 0; k < 4; ++k) payloads.push_back(Payload(t * 100000 + i * 4 + k));
          std::vector<Entry> batch;
          for (const auto& p : payloads) batch.push_back({1, p});
          auto seq = log->WriteBatch(batch);
          ASSERT_TRUE(seq.ok()) << seq.status().ToString();
          std::lock_guard lock(mu);
          for (int k = 0; k < 4; ++k) acked[*seq + k] = payloads[k];
        }
      });
    }
    for (auto& t : threads) t.join();
    stats = log->stats();
    VerifyReport report = log->Verify();
    EXPECT_TRUE(report.intact()) << report.error.ToString();
    EXPECT_EQ(report.records, acked.size());
  }
  EXPECT_EQ(stats.groups, uint64_t{kThreads * kBatches});  // a full batch is a group
  EXPECT_LT(stats.syncs, stats.groups) << "every group had an fsync of its own";
  Replayed replayed;
  auto log = OpenLog(&replayed);
  ASSERT_EQ(replayed.size(), acked.size());
  for (const auto& [seq, payload] : acked) EXPECT_EQ(replayed[seq].second, payload) << seq;
  EXPECT_TRUE(log->Verify().intact());
}

TEST_F(LogTest, VerifyWhileWritersAndCheckpointsRun) {
  options_.sync_on_write = false;
  options_.max_file_size = 32 << 10;
  auto log = OpenLog();
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) ASSERT_TRUE(log->Write(1, Payload(t * 1000000 + i)).ok());
    });
  }
  threads.emplace_back([&] {
    while (!stop) ASSERT_TRUE(log->Checkpoint().ok());
  });
  for (int round = 0; round < 20; ++round) {
    VerifyReport report = log->Verify();
    ASSERT_TRUE(report.intact()) << round << ": " << report.error.ToString();
  }
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_TRUE(log->Verify().intact());
}

TEST_F(LogTest, GroupCommitDelayGathersWriters) {
  options_.sync_on_write = false;  // no fsync wait to batch writers by itself
  options_.group_commit_delay_us = 50000;  // far longer than starting 16 threads takes
  auto log = OpenLog();
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] { ASSERT_TRUE(log->Write(1, Payload(t)).ok()); });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(log->size(), 16u);
  EXPECT_LE(log->stats().groups, 4u);  // writers shared commit groups
  EXPECT_EQ(log->stats().records, 16u);
  EXPECT_TRUE(log->Verify().intact());
}

TEST_F(LogTest, TornTailIsTruncatedAndReported) {
  {
    auto log = OpenLog();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Write(1, Payload(i)).ok());
  }
  // A crash mid-append: half a group after the last commit record.
  std::string tail;
  AppendRecord(&tail, 5, 1, Payload(5));
  AppendRecord(&tail, 6, 1, Payload(6));
  const std::string seg = Segment(1);
  const uint64_t size = *Env::Default()->GetFileSize(seg);
  {
    auto f = std::move(Env::Default()->NewAppendableFile(seg)).value();
    ASSERT_TRUE(f->Append(tail.substr(0, tail.size() - 3)).ok());
  }
  Replayed replayed;
  auto log = OpenLog(&replayed);
  ASSERT_TRUE(log->recovery().torn.has_value());
  EXPECT_EQ(log->recovery().torn->file, seg);
  EXPECT_EQ(log->recovery().torn->offset, size);
  EXPECT_EQ(log->recovery().torn->bytes, tail.size() - 3);
  EXPECT_TRUE(log->recovery().broken.ok());
  EXPECT_EQ(replayed.size(), 5u);
  EXPECT_EQ(*Env::Default()->GetFileSize(seg), size);
  EXPECT_EQ(*log->Write(1, "after"), 5u);
  EXPECT_TRUE(log->Verify().intact());
}

TEST_F(LogTest, CorruptionBeforeTheTailRefusesWrites) {
  {
    auto log = OpenLog();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(log->Write(1, Payload(i)).ok());
  }
  {
    // Written after the last checkpoint, in a segment recovery replays.
    auto log = OpenLog();
    for (int i = 5; i < 10; ++i) ASSERT_TRUE(log->Write(1, Payload(i)).ok());
    ASSERT_TRUE(log->Close().ok());
  }
  // Damage the second record of segment 2 (seq 6), so the records after it
  // are committed data, not a tail.
  const std::string seg = Segment(2);
  std::string bytes = *ReadFileToString(Env::Default(), seg);
  std::string first;
  AppendRecord(&first, 5, 1, Payload(5));
  const size_t commit = kRecordHeaderSize + Hash256::kSize;
  const size_t offset = kSegmentHeaderSize + first.size() + commit;
  bytes[offset + kRecordHeaderSize + 2] ^= 0x20;
  ASSERT_TRUE(WriteStringToFile(Env::Default(), bytes, seg, false).ok());
  // Make the checkpoint older than the damage: remove it, so replay starts at 0.
  ASSERT_TRUE(Env::Default()->RemoveFile(dir_.File("integrity/CHECKPOINT")).ok());

  Replayed replayed;
  auto log = OpenLog(&replayed);
  const Status& broken = log->recovery().broken;
  ASSERT_TRUE(broken.IsCorruption()) << broken.ToString();
  EXPECT_NE(broken.message().find("wal 000002"), std::string::npos) << broken.ToString();
  EXPECT_NE(broken.message().find("seq 6"), std::string::npos) << broken.ToString();
  EXPECT_NE(broken.message().find("offset " + std::to_string(offset)), std::string::npos)
      << broken.ToString();
  EXPECT_EQ(replayed.size(), 6u);  // everything before the break
  EXPECT_EQ(log->Write(1, "x").status().code(), Status::Code::kCorruption);
  EXPECT_FALSE(log->Verify().intact());
}

TEST_F(LogTest, WriteFailureSticks) {
  FaultInjectionEnv env(Env::Default());
  options_.env = &env;
  auto log = OpenLog();
  ASSERT_TRUE(log->Write(1, "a").ok());
  env.FailSyncAt(1, EIO);
  Status s = log->Write(1, "b").status();
  EXPECT_TRUE(s.IsIOError());
  env.ClearFaults();
  EXPECT_EQ(log->Write(1, "c").status().ToString(), s.ToString());
  EXPECT_EQ(log->health().ToString(), s.ToString());
  log.reset();
  options_.env = Env::Default();
}

TEST_F(LogTest, ProofsVerifyStandalone) {
  auto log = OpenLog();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(log->Write(1 + i % 3, Payload(i)).ok());
  auto old_cp = log->Checkpoint();
  ASSERT_TRUE(old_cp.ok());
  for (int i = 100; i < 150; ++i) ASSERT_TRUE(log->Write(1, Payload(i)).ok());

  auto proof = log->Prove(120);  // past the checkpoint: a new one is signed
  ASSERT_TRUE(proof.ok()) << proof.status().ToString();
  EXPECT_EQ(proof->checkpoint.head.size, 150u);
  const std::string bytes = integrity::EncodeInclusionProof(*proof);
  EXPECT_TRUE(integrity::VerifyInclusionProof(bytes, log->public_key(), 1, Payload(120)).ok());
  EXPECT_TRUE(integrity::VerifyInclusionProof(bytes, log->public_key(), 1, Payload(121))
                  .IsIntegrityBroken());
  auto p7 = log->Prove(7);
  ASSERT_TRUE(p7.ok());
  EXPECT_TRUE(integrity::VerifyInclusionProof(integrity::EncodeInclusionProof(*p7),
                                              log->public_key(), 2, Payload(7))
                  .ok());
  EXPECT_TRUE(log->Prove(150).status().IsNotFound());

  auto consistency = log->ProveConsistency(*old_cp);
  ASSERT_TRUE(consistency.ok());
  EXPECT_TRUE(integrity::VerifyConsistencyProof(integrity::EncodeConsistencyProof(*consistency),
                                                log->public_key())
                  .ok());
  integrity::Checkpoint forged = *old_cp;
  forged.head.root.bytes[0] ^= 1;
  EXPECT_TRUE(log->ProveConsistency(forged).status().IsIntegrityBroken());
}

TEST_F(LogTest, IntegrityOffStillChecksumsAndRecovers) {
  options_.integrity = false;
  {
    auto log = OpenLog();
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(log->Write(1, Payload(i)).ok());
    EXPECT_TRUE(log->Checkpoint().status().IsInvalidArgument());
  }
  Replayed replayed;
  auto log = OpenLog(&replayed);
  EXPECT_EQ(replayed.size(), 20u);
  EXPECT_TRUE(log->Verify().intact());
  log.reset();
  options_.integrity = true;
  auto on = OpenLog();
  EXPECT_FALSE(on->recovery().broken.ok());
  EXPECT_NE(on->recovery().broken.message().find("[WAL-3]"), std::string::npos);
}

TEST_F(LogTest, CrashAfterAFullReplayStillOpens) {
  {
    auto log = OpenLog();
    for (int i = 0; i < 60; ++i) ASSERT_TRUE(log->Write(1, Payload(i)).ok());
  }  // closed: checkpoint at 60
  FaultInjectionEnv env(Env::Default());
  options_.env = &env;
  {
    Replayed replayed;
    auto log = OpenLog(&replayed, 0);  // replays everything, appends nothing
    EXPECT_EQ(replayed.size(), 60u);
    ASSERT_TRUE(env.SimulatePowerLoss().ok());
  }
  auto log = OpenLog(nullptr, UINT64_MAX);
  EXPECT_TRUE(log->recovery().broken.ok()) << log->recovery().broken.ToString();
  EXPECT_EQ(log->size(), 60u);
  EXPECT_TRUE(log->Verify().intact());
  log.reset();
  options_.env = Env::Default();
}

TEST_F(LogTest, EmptyFirstSegmentIsATornCreation) {
  ASSERT_TRUE(Env::Default()->CreateDirIfMissing(dir_.File("wal")).ok());
  ASSERT_TRUE(WriteStringToFile(Env::Default(), "", Segment(1), true).ok());
  auto log = OpenLog();
  ASSERT_TRUE(log->recovery().broken.ok()) << log->recovery().broken.ToString();
  ASSERT_TRUE(log->recovery().torn.has_value());
  EXPECT_TRUE(log->recovery().torn->whole_file);
  EXPECT_EQ(*log->Write(1, "first"), 0u);
  EXPECT_TRUE(Env::Default()->FileExists(Segment(1)));
  EXPECT_TRUE(log->Verify().intact());
}

TEST_F(LogTest, ZeroedHeaderWithRecordsIsCorruptionNotATornCreation) {
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->Write(1, "a").ok());
    ASSERT_TRUE(log->Checkpoint().ok());
    ASSERT_TRUE(log->Write(1, "b").ok());
  }
  // Segment 2 (from the reopen below) is not involved: zero segment 1's header.
  {
    auto log = OpenLog();
    ASSERT_TRUE(log->Write(1, "c").ok());
    ASSERT_TRUE(log->Close().ok());
  }
  std::string bytes = *ReadFileToString(Env::Default(), Segment(2));
  std::fill(bytes.begin(), bytes.begin() + kSegmentHeaderSize, '\0');
  ASSERT_TRUE(WriteStringToFile(Env::Default(), bytes, Segment(2), false).ok());
  // Segment 2 is the last one: its zeroed header must not make it "torn".
  ASSERT_TRUE(Env::Default()->RemoveFile(dir_.File("integrity/CHECKPOINT")).ok());
  auto log = OpenLog();
  EXPECT_TRUE(log->recovery().broken.IsCorruption()) << log->recovery().broken.ToString();
  EXPECT_NE(log->recovery().broken.message().find("000002.wal"), std::string::npos);
  EXPECT_FALSE(log->recovery().torn.has_value());
  EXPECT_EQ(Env::Default()->GetFileSize(Segment(2)).value(), bytes.size());
}

TEST_F(LogTest, CheckpointInsideAGroupIsDetected) {
  std::string checkpoint_at_5;
  {
    auto log = OpenLog();
    std::vector<std::string> p;
    for (int i = 0; i < 10; ++i) p.push_back(Payload(i));
    std::vector<Entry> first, second;
    for (int i = 0; i < 5; ++i) first.push_back({1, p[i]});
    for (int i = 5; i < 10; ++i) second.push_back({1, p[i]});
    ASSERT_TRUE(log->WriteBatch(first).ok());
    ASSERT_TRUE(log->Checkpoint().ok());
    checkpoint_at_5 = *ReadFileToString(Env::Default(), dir_.File("integrity/CHECKPOINT"));
    ASSERT_TRUE(log->WriteBatch(second).ok());
    ASSERT_TRUE(log->Close().ok());
  }
  // Splice out the commit record at tree size 5, so records 0..9 form one
  // group (the commit at 10 stays valid), and roll the checkpoint back to 5.
  std::string bytes = *ReadFileToString(Env::Default(), Segment(1));
  size_t offset = kSegmentHeaderSize;
  for (int i = 0; i < 5; ++i) offset += kRecordHeaderSize + Payload(i).size();
  bytes.erase(offset, kRecordHeaderSize + Hash256::kSize);
  ASSERT_TRUE(WriteStringToFile(Env::Default(), bytes, Segment(1), false).ok());
  ASSERT_TRUE(
      WriteStringToFile(Env::Default(), checkpoint_at_5, dir_.File("integrity/CHECKPOINT"), false)
          .ok());
  auto log = OpenLog(nullptr, 0);
  EXPECT_TRUE(log->recovery().broken.IsIntegrityBroken()) << log->recovery().broken.ToString();
  EXPECT_NE(log->recovery().broken.message().find("falls inside the commit group"),
            std::string::npos)
      << log->recovery().broken.ToString();
  VerifyReport report = log->Verify();
  EXPECT_NE(report.error.message().find("falls inside the commit group"), std::string::npos)
      << report.error.ToString();
}

TEST_F(LogTest, SecondOpenOfTheSameDirectoryIsBusy) {
  auto log = OpenLog();
  auto second = Log::Open(options_, dir_.path());
  EXPECT_TRUE(second.status().IsBusy()) << second.status().ToString();
}

}  // namespace
}  // namespace hanshiro::wal
