// Power cuts at every write and fsync point of a small workload: after
// reopening, every acknowledged record (sync_on_write=true) is present with
// its bytes, and the integrity tree verifies.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "env/fault_injection_env.h"
#include "env/test_dir.h"
#include "wal/log.h"

namespace hanshiro::wal {
namespace {

using Acked = std::map<uint64_t, std::string>;

std::string Payload(int i) { return "record " + std::to_string(i) + std::string(i % 37, '.'); }

Options CrashOptions(Env* env) {
  Options options;
  options.env = env;
  options.sync_on_write = true;
  options.max_file_size = 1024;  // rotations (and their checkpoints) inside the workload
  return options;
}

// Writes 40 records in batches of 1..4 with a checkpoint halfway, stopping at
// the first error. Returns what was acknowledged.
Acked RunWorkload(Env* env, const std::string& dir, std::unique_ptr<Log>* log) {
  Acked acked;
  auto opened = Log::Open(CrashOptions(env), dir);
  if (!opened.ok()) return acked;
  *log = std::move(opened).value();
  int i = 0;
  while (i < 40) {
    const int n = std::min(1 + i % 4, 40 - i);
    std::vector<std::string> payloads;
    for (int k = 0; k < n; ++k) payloads.push_back(Payload(i + k));
    std::vector<Entry> batch;
    for (const auto& p : payloads) batch.push_back({1, p});
    auto seq = (*log)->WriteBatch(batch);
    if (!seq.ok()) return acked;
    for (int k = 0; k < n; ++k) acked[*seq + k] = payloads[k];
    i += n;
    if (i == 20 && !(*log)->Checkpoint().ok()) return acked;
  }
  return acked;
}

void ExpectRecovered(Env* env, const std::string& dir, const Acked& acked, const std::string& at) {
  std::map<uint64_t, std::string> replayed;
  auto log = Log::Open(CrashOptions(env), dir, 0,
                       [&](uint64_t seq, uint8_t, std::string_view payload) {
                         replayed[seq] = std::string(payload);
                         return Status::OK();
                       });
  ASSERT_TRUE(log.ok()) << at << ": " << log.status().ToString();
  ASSERT_TRUE((*log)->recovery().broken.ok()) << at << ": " << (*log)->recovery().broken.ToString();
  ASSERT_EQ(replayed.size(), (*log)->size())
      << at << ": checkpoint " << (*log)->recovery().checkpoint_size << " tree "
      << (*log)->recovery().tree_size << " replayed " << (*log)->recovery().replayed;
  for (const auto& [seq, payload] : acked) {
    auto it = replayed.find(seq);
    ASSERT_NE(it, replayed.end()) << at << ": acknowledged seq " << seq << " lost";
    EXPECT_EQ(it->second, payload) << at << ": seq " << seq;
  }
  EXPECT_EQ(replayed.size(), (*log)->size()) << at;
  VerifyReport report = (*log)->Verify();
  EXPECT_TRUE(report.intact()) << at << ": " << report.error.ToString();
  // The log takes new writes after recovery.
  EXPECT_TRUE((*log)->Write(1, "after the crash").ok()) << at;
}

enum class Point { kWrite, kSync };

// Fails the nth write (or sync), cuts the power there, and checks recovery;
// returns false once n is past the end of the workload.
bool CrashAt(Point point, uint64_t n) {
  testing::TestDir dir;
  FaultInjectionEnv env(Env::Default());
  if (point == Point::kWrite) {
    env.FailWriteAt(n);
  } else {
    env.FailSyncAt(n);
  }
  std::unique_ptr<Log> log;
  const Acked acked = RunWorkload(&env, dir.path(), &log);
  const bool hit = acked.size() < 40 || log == nullptr;
  EXPECT_TRUE(env.SimulatePowerLoss().ok());
  log.reset();
  env.ClearFaults();
  const std::string at = (point == Point::kWrite ? "write " : "sync ") + std::to_string(n);
  ExpectRecovered(&env, dir.path(), acked, at);
  return hit;
}

TEST(WalCrashTest, PowerCutAtEveryWrite) {
  uint64_t n = 1;
  while (CrashAt(Point::kWrite, n) && !::testing::Test::HasFailure()) ++n;
  EXPECT_GT(n, 50u);  // the workload really had that many write points
}

TEST(WalCrashTest, PowerCutAtEverySync) {
  uint64_t n = 1;
  while (CrashAt(Point::kSync, n) && !::testing::Test::HasFailure()) ++n;
  EXPECT_GT(n, 20u);
}

TEST(WalCrashTest, PowerCutAfterTheWorkloadKeepsEverything) {
  testing::TestDir dir;
  FaultInjectionEnv env(Env::Default());
  std::unique_ptr<Log> log;
  const Acked acked = RunWorkload(&env, dir.path(), &log);
  ASSERT_EQ(acked.size(), 40u);
  ASSERT_TRUE(env.SimulatePowerLoss().ok());
  log.reset();
  ExpectRecovered(&env, dir.path(), acked, "end");
}

// With max_batch_size 1 every write is a commit group of its own, so one
// fsync covers several groups whenever writers wait behind a leader.
class WalConcurrentCrashTest : public ::testing::TestWithParam<size_t> {};

TEST_P(WalConcurrentCrashTest, PowerCutDuringConcurrentWrites) {
  for (int round = 0; round < 5; ++round) {
    testing::TestDir dir;
    FaultInjectionEnv env(Env::Default());
    Options options = CrashOptions(&env);
    options.max_file_size = 16 << 10;
    options.max_batch_size = GetParam();
    auto log = std::move(Log::Open(options, dir.path())).value();
    Acked acked;
    std::mutex mu;
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int t = 0; t < 4; ++t) {
      writers.emplace_back([&, t] {
        for (int i = 0; !stop; ++i) {
          const std::string p = Payload(t * 1000000 + i);
          auto seq = log->Write(1, p);
          if (!seq.ok()) return;
          std::lock_guard lock(mu);
          acked[*seq] = p;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + 10 * round));
    ASSERT_TRUE(env.SimulatePowerLoss().ok());
    stop = true;
    for (auto& w : writers) w.join();
    log.reset();
    ExpectRecovered(&env, dir.path(), acked, "round " + std::to_string(round));
    EXPECT_GT(acked.size(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(GroupSizes, WalConcurrentCrashTest, ::testing::Values(size_t{1}, size_t{100}));

}  // namespace
}  // namespace hanshiro::wal
