// Power cuts at every write and every fsync of a workload that writes,
// flushes and compacts: after reopening, every acknowledged record
// (sync_on_write=true) is there with its bytes, exactly once, and the log
// verifies.
#include <gtest/gtest.h>

#include <map>

#include "env/fault_injection_env.h"
#include "env/test_dir.h"
#include "lsm/db.h"
#include "lsm/test_util.h"

namespace hanshiro::lsm {
namespace {

using Acked = std::map<std::string, std::string>;  // key -> newest record
constexpr int64_t kT0 = 1'700'000'000'000'000'000;

Options CrashOptions(Env* env) {
  Options o;
  o.env = env;
  o.sync_on_write = true;
  o.wal_file_size = 4096;
  o.table.block_size = 512;
  o.target_file_size = 4096;
  o.l0_compaction_trigger = 1000;
  return o;
}

// Batches of events with flushes and compactions between them; one batch
// rewrites earlier keys. Stops at the first error; returns what was
// acknowledged.
Acked RunWorkload(Env* env, const std::string& dir) {
  Acked acked;
  auto opened = DB::Open(CrashOptions(env), dir);
  if (!opened.ok()) return acked;
  std::unique_ptr<DB> db = std::move(opened).value();
  for (int round = 0; round < 6; ++round) {
    std::vector<testing::TestRecord> batch;
    for (int i = 0; i < 15; ++i) {
      const int n = round == 4 ? i : round * 15 + i;  // round 4 rewrites round 0
      batch.push_back(testing::MakeEvent(n, kT0 + (n % 7) * 1'000'000 + n, round));
    }
    std::vector<WriteRecord> w;
    for (const auto& r : batch) w.push_back({r.key, r.record});
    if (!db->Write(w).ok()) return acked;
    for (const auto& r : batch) acked[r.key] = r.record;
    if (round % 2 == 1 && !db->Flush().ok()) return acked;
    if (round == 3 && !db->Compact().ok()) return acked;
  }
  (void)db->Compact();
  return acked;
}

void ExpectRecovered(Env* env, const std::string& dir, const Acked& acked, const std::string& at) {
  auto opened = DB::Open(CrashOptions(env), dir);
  ASSERT_TRUE(opened.ok()) << at << ": " << opened.status().ToString();
  std::unique_ptr<DB> db = std::move(opened).value();
  ASSERT_TRUE(db->recovery().broken.ok()) << at << ": " << db->recovery().broken.ToString();
  for (const auto& [key, rec] : acked) {
    std::string got;
    Status s = db->Get(key, &got);
    ASSERT_TRUE(s.ok()) << at << ": acknowledged record lost: " << s.ToString();
    ASSERT_EQ(got, rec) << at;
  }
  // Exactly once: the merged view collapses a record held twice (same key
  // and seq), so count what each source holds and compare with the
  // distinct records.
  std::map<uint64_t, int> seen;
  {
    auto it = db->NewInternalIterator();
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ASSERT_EQ(++seen[it->seq()], 1) << at << ": seq " << it->seq() << " under two keys";
    }
    ASSERT_TRUE(it->status().ok()) << at << ": " << it->status().ToString();
  }
  uint64_t held = db->stats().memtable_entries;
  for (const TableMeta& t : db->current()->tables) held += t.entries;
  EXPECT_EQ(held, seen.size()) << at << ": a record is stored twice";
  EXPECT_LE(seen.size(), db->log()->size()) << at;
  wal::VerifyReport report = db->log()->Verify();
  EXPECT_TRUE(report.intact()) << at << ": " << report.error.ToString();
  // It takes writes again, and they survive a clean reopen.
  const auto r = testing::MakeEvent(999, kT0 + 12345);
  const WriteRecord w{r.key, r.record};
  ASSERT_TRUE(db->Write({&w, 1}).ok()) << at;
  ASSERT_TRUE(db->Flush().ok()) << at;
}

enum class Point { kWrite, kSync };

bool CrashAt(Point point, uint64_t n) {
  ::hanshiro::testing::TestDir dir;
  FaultInjectionEnv env(Env::Default());
  if (point == Point::kWrite) {
    env.FailWriteAt(n);
  } else {
    env.FailSyncAt(n);
  }
  const Acked acked = RunWorkload(&env, dir.path());
  const bool hit = point == Point::kWrite ? env.appends() >= n : env.syncs() >= n;
  EXPECT_TRUE(env.SimulatePowerLoss().ok());
  env.ClearFaults();
  ExpectRecovered(&env, dir.path(), acked,
                  (point == Point::kWrite ? "write " : "sync ") + std::to_string(n));
  return hit;
}

TEST(LsmCrashTest, PowerCutAtEverySync) {
  uint64_t n = 1;
  while (CrashAt(Point::kSync, n) && !::testing::Test::HasFailure()) ++n;
  EXPECT_GT(n, 30u);  // the workload really had that many sync points
}

TEST(LsmCrashTest, PowerCutAtEveryWrite) {
  uint64_t n = 1;
  while (CrashAt(Point::kWrite, n) && !::testing::Test::HasFailure()) ++n;
  EXPECT_GT(n, 100u);
}

TEST(LsmCrashTest, PowerCutAfterTheWorkloadKeepsEverything) {
  ::hanshiro::testing::TestDir dir;
  FaultInjectionEnv env(Env::Default());
  const Acked acked = RunWorkload(&env, dir.path());
  ASSERT_EQ(acked.size(), 75u);
  ASSERT_TRUE(env.SimulatePowerLoss().ok());
  ExpectRecovered(&env, dir.path(), acked, "end");
  // The workload's flushes removed log segments: every cut above ran with removals in it.
  auto db = DB::Open(CrashOptions(&env), dir.path());
  ASSERT_TRUE(db.ok());
  EXPECT_GT((*db)->log()->Verify().log_start, 0u);
}

}  // namespace
}  // namespace hanshiro::lsm
