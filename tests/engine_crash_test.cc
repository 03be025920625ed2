// Power cuts at every sync of mixed writes through the public API — events
// with vectors, code artifacts, index entries, links, a flush and a
// correlation run: after reopening, everything acknowledged is there, the
// vector store agrees with the log, and the integrity checks pass.
#include <gtest/gtest.h>

#include <map>

#include "env/fault_injection_env.h"
#include "env/test_dir.h"
#include "hanshiro/db.h"

namespace hanshiro {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000'000'000;

struct Acked {
  std::map<EventId, std::string> events;  // id -> raw data
  std::map<EventId, std::string> code;    // id -> first file name
  std::vector<EventId> index_entries;
  std::vector<std::pair<EventId, EventId>> links;  // (code, log)
};

Options CrashOptions(Env* env) {
  Options o = Options::MaxDurability();
  o.env = env;
  o.wal_file_size = 1024;  // rotations, and removals after the flush
  o.memtable_max_bytes = 1 << 20;
  o.flush_interval_ms = 0;
  o.compaction_interval_ms = 0;
  return o;
}

Acked RunWorkload(Env* env, const std::string& dir) {
  Acked acked;
  auto opened = DB::Open(CrashOptions(env), dir);
  if (!opened.ok()) return acked;
  std::unique_ptr<DB> db = std::move(opened).value();
  for (int round = 0; round < 4; ++round) {
    std::vector<Event> events;
    for (int i = 0; i < 5; ++i) {
      Event e;
      const int n = round * 5 + i;
      e.event_time_ns = kT0 + n;
      e.source.host = "h" + std::to_string(n % 2);
      e.raw_data = "event " + std::to_string(n) + (n == 7 ? " dropper.exe" : "");
      e.vector = {static_cast<float>(n), 1.0f, 0.5f};
      events.push_back(e);
    }
    auto ids = db->WriteBatch(events);
    if (!ids.ok()) return acked;
    for (size_t i = 0; i < ids->size(); ++i) acked.events[(*ids)[i]] = events[i].raw_data;
    CodeArtifact a;
    a.first_seen_ns = kT0 + round;
    a.file_names = {"dropper.exe"};
    a.vector = {1.0f, 0.0f, static_cast<float>(round)};
    auto code = db->WriteCode(a);
    if (!code.ok()) return acked;
    acked.code[*code] = a.file_names[0];
    auto entry = db->CreateIndex("round", std::to_string(round), *ids);
    if (!entry.ok()) return acked;
    acked.index_entries.push_back(*entry);
    if (!db->LinkCodeToLogs(*code, {(*ids)[0]}).ok()) return acked;
    acked.links.emplace_back(*code, (*ids)[0]);
    if (round == 1 && !db->Flush().ok()) return acked;
    if (round == 2 && !db->Correlate().ok()) return acked;
  }
  return acked;
}

void ExpectRecovered(Env* env, const std::string& dir, const Acked& acked, const std::string& at,
                     uint64_t* log_start) {
  auto opened = DB::Open(CrashOptions(env), dir);
  ASSERT_TRUE(opened.ok()) << at << ": " << opened.status().ToString();
  std::unique_ptr<DB> db = std::move(opened).value();
  for (const auto& [id, raw] : acked.events) {
    auto e = db->Get(id);
    ASSERT_TRUE(e.ok()) << at << ": acknowledged event lost: " << e.status().ToString();
    EXPECT_EQ(e->raw_data, raw) << at;
    // Its vector is in the store: it is its own nearest neighbour.
    auto hits = db->FindSimilar(e->vector, 1);
    ASSERT_TRUE(hits.ok()) << at;
    ASSERT_FALSE(hits->empty()) << at;
    EXPECT_NEAR((*hits)[0].score, 1.0f, 1e-5) << at;
  }
  for (const auto& [id, name] : acked.code) {
    auto c = db->GetCode(id);
    ASSERT_TRUE(c.ok()) << at << ": acknowledged artifact lost";
    EXPECT_EQ(c->file_names[0], name);
  }
  for (size_t round = 0; round < acked.index_entries.size(); ++round) {
    auto found = db->LookupIndex("round", std::to_string(round));
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(*found, std::vector<EventId>{acked.index_entries[round]}) << at;
  }
  for (const auto& [code, log] : acked.links) {
    auto links = db->FindCorrelated(code);
    ASSERT_TRUE(links.ok());
    bool found = false;
    for (const Correlation& c : *links) found = found || c.log_id == log;
    EXPECT_TRUE(found) << at << ": acknowledged link lost";
  }
  // No vector for a record the log does not have.
  EXPECT_LE(db->Stats().vectors, db->Stats().records) << at;
  VerifyResult v = db->Verify();
  EXPECT_TRUE(v.intact()) << at << ": " << v.error.ToString();
  *log_start = v.log_start;
  Event after;
  after.raw_data = "after";
  after.vector = {0, 0, 1};
  EXPECT_TRUE(db->Write(after).ok()) << at;
}

TEST(EngineCrashTest, PowerCutAtEverySyncOfMixedWrites) {
  uint64_t n = 1;
  for (;; ++n) {
    ::hanshiro::testing::TestDir dir;
    FaultInjectionEnv env(Env::Default());
    env.FailSyncAt(n);
    const Acked acked = RunWorkload(&env, dir.path());
    const bool hit = env.syncs() >= n;
    ASSERT_TRUE(env.SimulatePowerLoss().ok());
    env.ClearFaults();
    uint64_t log_start = 0;
    ExpectRecovered(&env, dir.path(), acked, "sync " + std::to_string(n), &log_start);
    if (!hit || ::testing::Test::HasFailure()) {
      // The whole workload ran: its flush removed log segments, so the cuts
      // above fell around removals too.
      EXPECT_GT(log_start, 0u);
      break;
    }
  }
  EXPECT_GT(n, 40u);  // the workload had that many sync points
}

}  // namespace
}  // namespace hanshiro
