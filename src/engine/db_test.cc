// End-to-end tests through the public API (include/hanshiro/db.h).
#include "hanshiro/db.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <set>

#include "base/hex.h"
#include "base/record.h"
#include "engine/db_impl.h"
#include "engine/write_keeping_good.h"
#include "env/fault_injection_env.h"
#include "env/test_dir.h"
#include "integrity/checkpoint.h"
#include "sstable/table.h"
#include "sstable/table_builder.h"
#include "vector/chunk.h"
#include "vector/vector_format.h"

namespace hanshiro {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000'000'000;

Options TestOptions() {
  Options o = Options::Balanced();
  o.sync_on_write = false;
  o.group_commit_delay_us = 0;
  o.flush_interval_ms = 0;
  o.compaction_interval_ms = 0;
  return o;
}

Event MakeEvent(int i, std::vector<float> vec = {}) {
  Event e;
  e.event_time_ns = kT0 + int64_t{i} * 1'000'000;
  e.type = EventType::Named(i % 2 ? EventTypeCode::kDnsQuery : EventTypeCode::kAuthentication);
  e.source.host = "host-" + std::to_string(i % 3);
  e.source.collector = "test";
  e.raw_data = "event number " + std::to_string(i);
  e.metadata = {{"user", "u" + std::to_string(i % 4)}, {"n", std::to_string(i)}};
  e.vector = std::move(vec);
  return e;
}

class EngineTest : public ::testing::Test {
 protected:
  void Open(Options o = TestOptions()) {
    db_.reset();
    auto db = DB::Open(o, dir_.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }
  engine::DBImpl* impl() { return static_cast<engine::DBImpl*>(db_.get()); }
  // Logs e through the store alone: it is in the log, and never given to
  // the vector store (as after a crash between the two).
  void LogBehindTheVectorStore(const Event& e) {
    std::string rec;
    ASSERT_TRUE(record::Encode(e, &rec).ok());
    const std::string key(StorageKey::For(e).view());
    const lsm::WriteRecord w{key, rec};
    ASSERT_TRUE(impl()->store()->Write({&w, 1}).ok());
  }

  ::hanshiro::testing::TestDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(EngineTest, EventsAreFoundByIdAfterFlushAndReopen) {
  Open();
  std::vector<Event> events;
  for (int i = 0; i < 300; ++i) events.push_back(MakeEvent(i));
  auto ids = db_->WriteBatch(events);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_EQ(ids->size(), 300u);
  for (size_t i = 1; i < ids->size(); ++i) EXPECT_LT((*ids)[i - 1], (*ids)[i]);  // time-ordered
  auto check = [&](const char* at) {
    for (size_t i = 0; i < ids->size(); i += 7) {
      auto e = db_->Get((*ids)[i]);
      ASSERT_TRUE(e.ok()) << at << ": " << e.status().ToString();
      EXPECT_EQ(e->id, (*ids)[i]);
      EXPECT_EQ(e->raw_data, events[i].raw_data);
      EXPECT_EQ(e->metadata, events[i].metadata);
      EXPECT_GT(e->ingest_time_ns, 0);  // set at write
    }
    EXPECT_TRUE(db_->Get(EventId(1, 2)).status().IsNotFound()) << at;
  };
  check("memtable");
  ASSERT_TRUE(db_->Flush().ok());
  check("flushed");
  Open();
  check("reopened");
  EXPECT_EQ(db_->Stats().records, 300u);
}

TEST_F(EngineTest, ABadValueRefusesTheWholeBatchNamingIt) {
  Open();
  std::vector<Event> events = {MakeEvent(0), MakeEvent(1), MakeEvent(2)};
  events[1].source.host = "\xff\xfe";  // not UTF-8
  auto ids = db_->WriteBatch(events);
  ASSERT_FALSE(ids.ok());
  EXPECT_TRUE(ids.status().IsInvalidArgument());
  EXPECT_NE(ids.status().message().find("value 1"), std::string::npos) << ids.status().message();
  EXPECT_EQ(db_->Stats().records, 0u);
  events[1].source.host = "fine";
  events[2].event_time_ns = -5;
  ids = db_->WriteBatch(events);
  EXPECT_NE(ids.status().message().find("value 2"), std::string::npos) << ids.status().message();
  EXPECT_TRUE(db_->WriteBatch({}).status().IsInvalidArgument());
}

TEST_F(EngineTest, WriteKeepingGoodKeepsTheGoodEventsOfARefusedBatch) {
  Open();
  std::vector<Event> events = {MakeEvent(0, {1, 0}), MakeEvent(1, {1, 0, 0}), MakeEvent(2), MakeEvent(3)};
  events[3].source.host = "\xff";  // not UTF-8
  auto results = engine::WriteKeepingGood(db_.get(), events);  // event 1: a second vector dimension
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), 4u);
  EXPECT_TRUE((*results)[0].ok());
  EXPECT_TRUE((*results)[1].status().IsInvalidArgument());
  EXPECT_TRUE((*results)[2].ok());
  EXPECT_TRUE((*results)[3].status().IsInvalidArgument());
  EXPECT_EQ(db_->Get(*(*results)[2])->raw_data, events[2].raw_data);
  EXPECT_EQ(db_->Stats().records, 2u);
  auto all_good = engine::WriteKeepingGood(db_.get(), {MakeEvent(4), MakeEvent(5)});  // one batch
  ASSERT_TRUE(all_good.ok());
  EXPECT_TRUE((*all_good)[0].ok() && (*all_good)[1].ok());
  EXPECT_EQ(db_->Stats().records, 4u);
}

TEST_F(EngineTest, ScanFiltersAndPagesThroughATimeRange) {
  Open();
  std::vector<Event> events;
  for (int i = 0; i < 100; ++i) events.push_back(MakeEvent(i));
  ASSERT_TRUE(db_->WriteBatch(events).ok());
  ASSERT_TRUE(db_->Flush().ok());
  ASSERT_TRUE(db_->WriteBatch({MakeEvent(100), MakeEvent(101)}).ok());  // memtable too
  ScanQuery q;
  q.from_ns = kT0 + 10 * 1'000'000;
  q.to_ns = kT0 + 90 * 1'000'000;
  q.host = "host-1";
  q.metadata = {{"user", "u1"}};
  q.limit = 2;
  std::vector<std::string> got;
  for (int page = 0; page < 100; ++page) {
    auto p = db_->Scan(q);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    for (const Value& v : p->values) got.push_back(std::get<Event>(v).metadata.at("n"));
    if (p->next_cursor.empty()) break;
    q.cursor = p->next_cursor;
  }
  std::vector<std::string> want;
  for (int i = 10; i < 90; ++i) {
    if (i % 3 == 1 && i % 4 == 1) want.push_back(std::to_string(i));
  }
  EXPECT_EQ(got, want);
  q.cursor = "nonsense";
  EXPECT_TRUE(db_->Scan(q).status().IsInvalidArgument());
  q.cursor.clear();
  q.limit = 0;
  EXPECT_TRUE(db_->Scan(q).status().IsInvalidArgument());
  q = ScanQuery();
  q.type = EventType::Named(EventTypeCode::kDnsQuery);
  q.limit = 1000;
  EXPECT_EQ(db_->Scan(q)->values.size(), 51u);
}

TEST_F(EngineTest, CodeArtifactsAndIndexEntriesSurviveReopen) {
  Open();
  CodeArtifact a;
  a.first_seen_ns = kT0;
  a.sha256.fill(0xab);
  a.file_names = {"C:\\Temp\\dropper.exe"};
  auto code = db_->WriteCode(a);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  auto log = db_->Write(MakeEvent(1));
  ASSERT_TRUE(log.ok());
  auto entry = db_->CreateIndex("user", "alice", {*log});
  ASSERT_TRUE(entry.ok());
  EXPECT_TRUE(db_->CreateIndex("hanshiro.mine", "x", {}).status().IsInvalidArgument());
  EXPECT_TRUE(db_->Get(*code).status().IsNotFound());  // an artifact, not an event
  Open();
  auto back = db_->GetCode(*code);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->file_names, a.file_names);
  EXPECT_EQ(*db_->LookupIndex("user", "alice"), std::vector<EventId>{*entry});
  EXPECT_TRUE(db_->LookupIndex("user", "bob")->empty());
}

TEST_F(EngineTest, ArtifactBatchesAreAllOrNothingAndIndexedForCorrelation) {
  Open();
  std::vector<CodeArtifact> batch(3);
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].first_seen_ns = kT0;
    batch[i].sha256.fill(static_cast<uint8_t>(0x10 + i));
    batch[i].file_names = {"drop" + std::to_string(i) + ".exe"};
  }
  std::vector<CodeArtifact> bad = batch;
  bad[1].file_names = {"\xff not text"};
  auto refused = db_->WriteCodeBatch(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsInvalidArgument()) << refused.status().ToString();
  EXPECT_EQ(db_->Stats().records, 0u);
  auto ids = db_->WriteCodeBatch(batch);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_EQ(ids->size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(db_->GetCode((*ids)[i])->file_names, batch[i].file_names);
  Event log = MakeEvent(1);
  log.raw_data = "launched drop2.exe from temp";
  auto log_id = db_->Write(log);
  ASSERT_TRUE(log_id.ok());
  ASSERT_TRUE(db_->Correlate().ok());
  auto links = db_->FindCorrelated(*log_id);
  ASSERT_TRUE(links.ok());
  ASSERT_EQ(links->size(), 1u);
  EXPECT_EQ((*links)[0].code_id, (*ids)[2]);
}

TEST_F(EngineTest, SimilarIsExactFilteredAndSurvivesReopen) {
  Open();
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  std::vector<std::vector<float>> vecs;
  std::vector<Event> events;
  for (int i = 0; i < 200; ++i) {
    std::vector<float> v(16);
    for (float& x : v) x = g(rng);
    vecs.push_back(v);
    events.push_back(MakeEvent(i, v));
  }
  auto ids = db_->WriteBatch(events);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  CodeArtifact a;
  a.first_seen_ns = kT0;
  a.vector = vecs[5];
  auto code = db_->WriteCode(a);
  ASSERT_TRUE(code.ok());
  // A wrong dimension is refused before anything is logged.
  const uint64_t before = db_->Stats().records;
  EXPECT_TRUE(db_->Write(MakeEvent(999, {1, 2, 3})).status().IsInvalidArgument());
  EXPECT_EQ(db_->Stats().records, before);

  auto check = [&](const char* at) {
    auto hits = db_->FindSimilar(vecs[5], 3);
    ASSERT_TRUE(hits.ok()) << at << ": " << hits.status().ToString();
    ASSERT_EQ(hits->size(), 3u);
    std::set<EventId> top2 = {(*hits)[0].id, (*hits)[1].id};
    EXPECT_EQ(top2, (std::set<EventId>{(*ids)[5], *code})) << at;  // both identical to the query
    EXPECT_NEAR((*hits)[0].score, 1.0f, 1e-5) << at;
    SimilarFilter only_code;
    only_code.kind = ValueKind::kCode;
    auto codes = db_->FindSimilar(vecs[7], 5, only_code);
    ASSERT_EQ(codes->size(), 1u) << at;
    EXPECT_EQ((*codes)[0].id, *code);
    SimilarFilter host;
    host.host = "host-2";
    auto on_host = db_->FindSimilar(vecs[5], 10, host);
    ASSERT_EQ(on_host->size(), 10u) << at;
    for (const SimilarHit& h : *on_host) EXPECT_EQ(db_->Get(h.id)->source.host, "host-2") << at;
    EXPECT_EQ(db_->Stats().vectors, 201u) << at;
  };
  check("live");
  ASSERT_TRUE(db_->Flush().ok());
  Open();
  check("reopened");
  EXPECT_TRUE(db_->FindSimilar(std::vector<float>(3, 1.0f), 3).status().IsInvalidArgument());
}

// The crash between the log's acknowledgement and the vector store: the
// record is logged, its vector never reached the store. Reopening replays it.
TEST_F(EngineTest, FlushedLogSegmentsGoAndEverythingStaysFoundAndVerified) {
  Options o = TestOptions();
  o.wal_file_size = 16 << 10;
  Open(o);
  std::vector<EventId> ids;
  for (int round = 0; round < 5; ++round) {
    std::vector<Event> batch;
    for (int i = 0; i < 100; ++i) {
      const int n = round * 100 + i;
      const float a = static_cast<float>(n) * 0.006f;  // 500 directions in half a circle
      batch.push_back(MakeEvent(n, {std::cos(a), std::sin(a), 0.0f}));
    }
    auto written = db_->WriteBatch(std::move(batch));
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    ids.insert(ids.end(), written->begin(), written->end());
    if (round < 4) {
      ASSERT_TRUE(db_->Flush().ok());
    }
  }
  VerifyResult v = db_->Verify();
  ASSERT_TRUE(v.intact()) << v.error.ToString();
  EXPECT_GT(v.log_start, 0u);
  EXPECT_EQ(v.tree_size, 500u);
  EXPECT_LT(v.records, 500u);
  EXPECT_GE(v.table_records, 400u);
  for (int reopen = 0; reopen < 2; ++reopen) {
    Open(o);
    for (size_t i = 0; i < ids.size(); i += 37) {
      auto e = db_->Get(ids[i]);
      ASSERT_TRUE(e.ok()) << i << ": " << e.status().ToString();
      auto hits = db_->FindSimilar(e->vector, 1);
      ASSERT_TRUE(hits.ok());
      ASSERT_EQ(hits->size(), 1u);
      EXPECT_EQ((*hits)[0].id, ids[i]) << i;
    }
    EXPECT_EQ(db_->Stats().vectors, 500u);
    auto proof = db_->Proof(ids[3]);  // its segment is gone; the ledger proves it
    ASSERT_TRUE(proof.ok()) << proof.status().ToString();
    ASSERT_TRUE(db_->Verify().intact());
  }
}

TEST_F(EngineTest, VectorsMissingFromTheStoreAreReplayedFromTheLog) {
  Open();
  ASSERT_TRUE(db_->Write(MakeEvent(0, {1, 0, 0, 0})).ok());  // fixes the dimension
  Event e = MakeEvent(1, {0, 1, 0, 0});
  e.id = EventId::FromParts(1'700'000'000'000, 7, 7);
  e.ingest_time_ns = kT0;
  LogBehindTheVectorStore(e);
  auto hits = db_->FindSimilar(std::vector<float>{0, 1, 0, 0}, 1);
  ASSERT_NE((*hits)[0].id, e.id);
  Open();
  hits = db_->FindSimilar(std::vector<float>{0, 1, 0, 0}, 1);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ((*hits)[0].id, e.id);
  EXPECT_EQ(db_->Stats().vectors, 2u);
}

// [ENG-2] A newer version of a value replaces its vector, or, without one,
// removes it; in batch order within a batch; and so after reopening.
TEST_F(EngineTest, NewerVersionsReplaceOrRemoveTheirVector) {
  Open();
  auto version = [](uint64_t n, std::vector<float> vec) {
    Event e = MakeEvent(static_cast<int>(n), std::move(vec));
    e.id = EventId::FromParts(1'700'000'000'000, 7, n);
    e.event_time_ns = kT0;  // every version under the same key
    return e;
  };
  const EventId x = version(1, {}).id;
  ASSERT_TRUE(db_->Write(version(1, {1, 0, 0, 0})).ok());
  ASSERT_TRUE(db_->Write(MakeEvent(9, {0, 0, 1, 0})).ok());  // stays throughout
  ASSERT_TRUE(db_->Write(version(1, {0, 1, 0, 0})).ok());
  // Within one batch the later value wins: z ends without a row, w with one.
  ASSERT_TRUE(db_->WriteBatch({version(2, {0, 0, 0, 1}), version(2, {})}).ok());
  ASSERT_TRUE(db_->WriteBatch({version(3, {}), version(3, {0, 0, 0, 1})}).ok());
  const EventId z = version(2, {}).id;
  const EventId w = version(3, {}).id;

  auto ids_near = [&](std::vector<float> q) {
    auto hits = db_->FindSimilar(q, 10);
    EXPECT_TRUE(hits.ok()) << hits.status().ToString();
    std::set<EventId> near;
    for (const SimilarHit& h : *hits) {
      if (h.score > 0.999f) near.insert(h.id);
    }
    return near;
  };
  auto check_replaced = [&](const char* at) {
    EXPECT_EQ(db_->Stats().vectors, 3u) << at;  // x's newer row, the stayer, w
    EXPECT_EQ(ids_near({0, 1, 0, 0}), std::set<EventId>{x}) << at;
    EXPECT_TRUE(ids_near({1, 0, 0, 0}).empty()) << at;  // x's older row went
    EXPECT_EQ(ids_near({0, 0, 0, 1}), std::set<EventId>{w}) << at;
    EXPECT_FALSE(ids_near({0, 0, 0, 1}).contains(z)) << at;
  };
  check_replaced("live");
  Open();
  check_replaced("reopened");

  ASSERT_TRUE(db_->Write(version(1, {})).ok());  // x's newest version has no vector
  auto check_removed = [&](const char* at) {
    EXPECT_EQ(db_->Stats().vectors, 2u) << at;
    EXPECT_TRUE(ids_near({0, 1, 0, 0}).empty()) << at;
    auto got = db_->Get(x);
    ASSERT_TRUE(got.ok()) << at;
    EXPECT_TRUE(got->vector.empty()) << at;
  };
  check_removed("live");
  Open();
  check_removed("reopened");
  ASSERT_TRUE(db_->Flush().ok());
  Open();
  check_removed("flushed and reopened");
}

// The same when the newer versions reach the vector store only through the
// log's replay at open.
TEST_F(EngineTest, ReplayedNewerVersionsReplaceOrRemoveTheirVector) {
  Open();
  Event x = MakeEvent(1, {1, 0, 0, 0});
  x.id = EventId::FromParts(1'700'000'000'000, 7, 1);
  x.event_time_ns = kT0;
  x.ingest_time_ns = kT0;
  ASSERT_TRUE(db_->Write(x).ok());
  Event v = x;  // a second id: a row added and removed, both in the replay
  v.id = EventId::FromParts(1'700'000'000'000, 7, 2);
  v.vector = {0, 0, 1, 0};
  LogBehindTheVectorStore(v);
  v.vector.clear();
  LogBehindTheVectorStore(v);
  x.vector.clear();
  LogBehindTheVectorStore(x);  // x's row was in the store before the replay
  EXPECT_EQ(db_->Stats().vectors, 1u);  // the store has not seen them yet
  Open();
  EXPECT_EQ(db_->Stats().vectors, 0u);
  auto hits = db_->FindSimilar(std::vector<float>{1, 0, 0, 0}, 5);
  ASSERT_TRUE(hits.ok()) << hits.status().ToString();
  EXPECT_TRUE(hits->empty());
  // The dimension stays, and new rows go on from there.
  auto fresh = db_->Write(MakeEvent(5, {0, 1, 0, 0}));
  ASSERT_TRUE(fresh.ok());
  Open();
  EXPECT_EQ(db_->Stats().vectors, 1u);
  hits = db_->FindSimilar(std::vector<float>{1, 0, 0, 0}, 5);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].id, *fresh);
}

// A power cut may keep a vector row's tombstone and lose the log record
// that removed it (sync off): the newest surviving version of the value has
// its vector again.
TEST_F(EngineTest, ARemovalThePowerCutTookFromTheLogIsUndone) {
  FaultInjectionEnv env(Env::Default());
  Options o = TestOptions();
  o.env = &env;
  Open(o);
  Event x = MakeEvent(1, {1, 0, 0, 0});
  x.id = EventId::FromParts(1'700'000'000'000, 7, 1);
  ASSERT_TRUE(db_->Write(x).ok());
  ASSERT_TRUE(db_->Checkpoint().ok());  // durable up to here
  Event newer = x;
  newer.vector.clear();
  ASSERT_TRUE(db_->Write(newer).ok());  // tombstones x's row; its record is not synced
  EXPECT_EQ(db_->Stats().vectors, 0u);
  ASSERT_TRUE(env.SimulatePowerLoss().ok());
  db_.reset();
  Open(o);
  EXPECT_EQ(db_->Stats().records, 1u);
  EXPECT_FALSE(db_->Get(x.id)->vector.empty());
  EXPECT_EQ(db_->Stats().vectors, 1u);
  auto hits = db_->FindSimilar(std::vector<float>{1, 0, 0, 0}, 1);
  EXPECT_EQ(hits->size(), 1u);
  if (!hits->empty()) {
    EXPECT_EQ((*hits)[0].id, x.id);
  }
  db_.reset();
}

// The other way round: the removal's record reached the disk, its tombstone
// did not, and a later row did. Reopening redoes the removal from the log.
TEST_F(EngineTest, ARemovalWhoseTombstoneThePowerCutLostIsRedone) {
  Open();
  Event x = MakeEvent(1, {1, 0, 0, 0});
  x.id = EventId::FromParts(1'700'000'000'000, 7, 1);
  ASSERT_TRUE(db_->Write(x).ok());
  Event newer = x;
  newer.vector.clear();
  ASSERT_TRUE(db_->Write(newer).ok());
  auto later = db_->Write(MakeEvent(2, {0, 1, 0, 0}));
  ASSERT_TRUE(later.ok());
  db_.reset();
  {  // the page with x's tombstone never made it: the row reads as live
    const std::string path = dir_.path() + "/vectors/d4-cosine/chunk-000001.vec";
    auto chunk = vector::Chunk::Open(path, vector::Geometry{}, 1);
    ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
    ASSERT_EQ((*chunk)->meta(0).id, x.id);
    ASSERT_EQ((*chunk)->state(0), vector::kStateRemoved);
    (*chunk)->SetState(0, vector::kStateLive);
  }
  Open();
  EXPECT_EQ(db_->Stats().vectors, 1u);
  auto hits = db_->FindSimilar(std::vector<float>{1, 0, 0, 0}, 5);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].id, *later);
  Open();  // and it stays redone
  EXPECT_EQ(db_->Stats().vectors, 1u);
}

// A batch whose vectors the store cannot take (here: its next chunk file
// cannot be created) is in the log but not in the vector store. Writes stop,
// and the log keeps every segment from then on, flushes or not, so the next
// open replays every vector.
TEST_F(EngineTest, VectorsTheStoreFailedToTakeAreKeptInTheLogUntilReopened) {
  constexpr int kDim = 4096;  // 4092 rows fill a chunk
  const std::string collection = dir_.path() + "/vectors/d4096-cosine";
  const std::string obstacle = collection + "/chunk-000002.vec";
  std::filesystem::create_directories(obstacle);  // a directory where the file goes
  Options o = TestOptions();
  o.wal_file_size = 1 << 20;  // segments of about 60 events, removed after flushes
  Open(o);
  auto vector_of = [](int i) {
    std::vector<float> v(kDim, 0.0f);
    v[i % kDim] = 1.0f;
    v[(i * 7 + 1) % kDim] += 0.5f;
    return v;
  };
  int logged = 0;
  Status failed;
  for (int b = 0; failed.ok() && b < 30; ++b) {
    std::vector<Event> batch;
    for (int i = 0; i < 250; ++i) batch.push_back(MakeEvent(b * 250 + i, vector_of(b * 250 + i)));
    auto ids = db_->WriteBatch(std::move(batch));
    logged += 250;  // a batch that fails here is logged all the same
    if (!ids.ok()) failed = ids.status();
    if (b % 4 == 3) {
      ASSERT_TRUE(db_->Flush().ok());
    }
  }
  ASSERT_FALSE(failed.ok()) << "the second chunk was created";
  EXPECT_LT(logged, 30 * 250);
  EXPECT_FALSE(db_->Write(MakeEvent(99999, vector_of(3))).ok());  // writes stop
  {
    // A record logged after the failed batch (as another writer's batch
    // could be) starts a new segment, so the failed batch's is not the
    // one being written: a flush could remove it.
    Event e = MakeEvent(99999);
    e.id = EventId::FromParts(1'700'000'000'000, 7, 7);
    e.ingest_time_ns = kT0;
    LogBehindTheVectorStore(e);
  }
  ASSERT_TRUE(db_->Flush().ok());  // the flush goes on; the log's segments stay
  db_.reset();
  std::filesystem::remove(obstacle);
  Open(o);
  EXPECT_EQ(db_->Stats().vectors, static_cast<uint64_t>(logged));
  for (const int i : {0, logged - 1}) {
    auto hits = db_->FindSimilar(vector_of(i), 1);
    ASSERT_TRUE(hits.ok()) << hits.status().ToString();
    ASSERT_EQ(hits->size(), 1u);
    EXPECT_NEAR((*hits)[0].score, 1.0f, 1e-5) << i;
  }
}

// Vectors whose records a power cut took from the log are dropped: a vector
// exists only for an acknowledged (here: surviving) record.
TEST_F(EngineTest, VectorsOfRecordsTheLogLostAreDropped) {
  FaultInjectionEnv env(Env::Default());
  Options o = TestOptions();
  o.env = &env;
  Open(o);
  ASSERT_TRUE(db_->Write(MakeEvent(0, {1, 0})).ok());
  ASSERT_TRUE(db_->Checkpoint().ok());  // durable up to here
  auto lost = db_->WriteBatch({MakeEvent(1, {0, 1}), MakeEvent(2, {1, 1})});  // sync off
  ASSERT_TRUE(lost.ok());
  ASSERT_TRUE(env.SimulatePowerLoss().ok());
  db_.reset();
  Open(o);
  EXPECT_EQ(db_->Stats().records, 1u);
  EXPECT_EQ(db_->Stats().vectors, 1u);
  auto hits = db_->FindSimilar(std::vector<float>{0, 1}, 5);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_TRUE(db_->Get((*hits)[0].id).ok());
  // New vectors go on from there.
  ASSERT_TRUE(db_->Write(MakeEvent(3, {0, 1})).ok());
  EXPECT_EQ(db_->Stats().vectors, 2u);
  db_.reset();
}

TEST_F(EngineTest, CorrelationLinksByHashNameStringAndVectorIncrementally) {
  Open();
  CodeArtifact a;
  a.first_seen_ns = kT0;
  for (size_t i = 0; i < 32; ++i) a.sha256[i] = static_cast<uint8_t>(i * 7 + 1);
  a.file_names = {"C:\\Users\\Public\\svch0st.exe"};
  a.strings = {"gate.php?id=", "Mozilla/5.0 (EvilBot)"};
  a.vector = {1, 0, 0, 0};
  auto code = db_->WriteCode(a);
  ASSERT_TRUE(code.ok());
  const std::string sha = HexEncode(std::string_view(reinterpret_cast<const char*>(a.sha256.data()), 32));
  std::vector<Event> logs = {MakeEvent(0), MakeEvent(1), MakeEvent(2), MakeEvent(3),
                             MakeEvent(4), MakeEvent(5, {0.99f, 0.1f, 0, 0}),
                             MakeEvent(6, {0, 1, 0, 0})};
  logs[0].raw_data = "blocked file hash=" + sha;
  logs[1].metadata["sha"] = sha.substr(0, 16);
  logs[2].raw_data = "process started: svch0st.exe -k netsvcs";
  logs[3].raw_data = "GET /gate.php?id=42 HTTP/1.1 user-agent Mozilla/5.0 (EvilBot)";
  logs[4].raw_data = "nothing to see, svchost.exe is fine";
  auto ids = db_->WriteBatch(logs);
  ASSERT_TRUE(ids.ok());
  auto report = db_->Correlate();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->logs_examined, 7u);
  EXPECT_EQ(report->artifacts_examined, 1u);
  std::map<EventId, CorrelationReason> linked;
  const auto links = db_->FindCorrelated(*code);
  ASSERT_TRUE(links.ok());
  for (const Correlation& c : *links) {
    EXPECT_EQ(c.code_id, *code);
    linked[c.log_id] = c.reason;
  }
  EXPECT_EQ(linked.size(), 5u);
  EXPECT_EQ(linked[(*ids)[0]], CorrelationReason::kSha256);
  EXPECT_EQ(linked[(*ids)[1]], CorrelationReason::kSha256Prefix);
  EXPECT_EQ(linked[(*ids)[2]], CorrelationReason::kFileName);
  EXPECT_EQ(linked[(*ids)[3]], CorrelationReason::kString);
  EXPECT_EQ(linked[(*ids)[5]], CorrelationReason::kVector);
  EXPECT_EQ(linked.count((*ids)[4]), 0u);
  EXPECT_EQ(linked.count((*ids)[6]), 0u);
  // The other direction.
  auto of_log = db_->FindCorrelated((*ids)[2]);
  ASSERT_EQ(of_log->size(), 1u);
  EXPECT_EQ((*of_log)[0].code_id, *code);
  // Incremental: nothing new, nothing examined; one new log, one examined.
  report = db_->Correlate();
  EXPECT_EQ(report->logs_examined, 0u);
  EXPECT_EQ(report->links_added, 0u);
  Event later = MakeEvent(7);
  later.raw_data = "again " + sha;
  ASSERT_TRUE(db_->Write(later).ok());
  report = db_->Correlate();
  EXPECT_EQ(report->logs_examined, 1u);
  EXPECT_EQ(report->links_added, 1u);
  // Links and the cursor survive a restart.
  Open();
  EXPECT_EQ(db_->FindCorrelated(*code)->size(), 6u);
  EXPECT_EQ(db_->Correlate()->logs_examined, 0u);
}

TEST_F(EngineTest, ManualLinksGoBothWaysAndNameUnknownIds) {
  Open();
  CodeArtifact a;
  a.first_seen_ns = kT0;
  auto code = db_->WriteCode(a);
  auto log = db_->Write(MakeEvent(1));
  ASSERT_TRUE(db_->LinkCodeToLogs(*code, {*log}).ok());
  Status s = db_->LinkCodeToLogs(*code, {EventId(9, 9)});
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_NE(s.message().find(EventId(9, 9).ToString()), std::string::npos);
  Open();
  ASSERT_EQ(db_->FindCorrelated(*log)->size(), 1u);
  EXPECT_EQ((*db_->FindCorrelated(*log))[0].reason, CorrelationReason::kManual);
  EXPECT_EQ((*db_->FindCorrelated(*code))[0].log_id, *log);
}

TEST_F(EngineTest, VerifyChecksTablesAndProofsVerifyStandalone) {
  Open();
  std::vector<Event> events;
  for (int i = 0; i < 50; ++i) events.push_back(MakeEvent(i));
  auto ids = db_->WriteBatch(events);
  ASSERT_TRUE(db_->Flush().ok());
  VerifyResult v = db_->Verify();
  EXPECT_TRUE(v.intact()) << v.error.ToString();
  EXPECT_EQ(v.tree_size, 50u);
  EXPECT_EQ(v.table_records, 50u);
  auto proof = db_->Proof((*ids)[17]);
  ASSERT_TRUE(proof.ok()) << proof.status().ToString();
  integrity::PublicKey key;
  std::string raw;
  ASSERT_TRUE(HexDecode(proof->public_key_hex, &raw));
  std::copy(raw.begin(), raw.end(), key.begin());
  EXPECT_TRUE(integrity::VerifyInclusionProof(proof->encoded, key, 1, proof->record).ok());
  std::string altered = proof->record;
  altered.back() ^= 1;
  EXPECT_FALSE(integrity::VerifyInclusionProof(proof->encoded, key, 1, altered).ok());
  EXPECT_TRUE(db_->Proof(EventId(4, 4)).status().IsNotFound());
}

TEST_F(EngineTest, VerifyReportsItsProgressPerPass) {
  Open();
  for (int b = 0; b < 35; ++b) {
    std::vector<Event> batch;
    for (int i = 0; i < 2000; ++i) batch.push_back(MakeEvent(b * 2000 + i));
    ASSERT_TRUE(db_->WriteBatch(std::move(batch)).ok());
  }
  ASSERT_TRUE(db_->Flush().ok());
  std::map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> seen;
  VerifyResult r = db_->Verify([&](std::string_view pass, uint64_t done, uint64_t total) {
    seen[std::string(pass)].emplace_back(done, total);
  });
  ASSERT_TRUE(r.intact()) << r.error.ToString();
  ASSERT_EQ(seen.size(), 2u);
  for (const auto& [pass, calls] : seen) {
    ASSERT_FALSE(calls.empty()) << pass;
    for (size_t i = 0; i < calls.size(); ++i) {
      EXPECT_EQ(calls[i].second, 70'000u) << pass;
      EXPECT_LE(calls[i].first, calls[i].second) << pass;
      if (i > 0) {
        EXPECT_GT(calls[i].first, calls[i - 1].first) << pass;
      }
    }
  }
}

TEST_F(EngineTest, TodaysLogExtendsAnExportedCheckpoint) {
  Open();
  ASSERT_TRUE(db_->Write(MakeEvent(1)).ok());
  auto early = db_->Checkpoint();
  ASSERT_TRUE(early.ok());
  ASSERT_TRUE(db_->WriteBatch({MakeEvent(2), MakeEvent(3)}).ok());
  EXPECT_TRUE(db_->VerifyAgainst(early->encoded).ok());
  std::string forged = early->encoded;
  forged[20] ^= 1;  // inside the root: the signature no longer holds
  EXPECT_FALSE(db_->VerifyAgainst(forged).ok());
  // Another database's checkpoint is not this log's.
  ::hanshiro::testing::TestDir other_dir;
  auto other = DB::Open(TestOptions(), other_dir.path());
  ASSERT_TRUE((*other)->Write(MakeEvent(9)).ok());
  auto foreign = (*other)->Checkpoint();
  EXPECT_TRUE(db_->VerifyAgainst(foreign->encoded).IsIntegrityBroken());
}

// Someone rewrites a table with one record changed and every checksum
// recomputed: the tree's leaf exposes it, located by sequence number.
TEST_F(EngineTest, VerifyFindsARecordAlteredInATable) {
  Open();
  std::vector<Event> events;
  for (int i = 0; i < 20; ++i) events.push_back(MakeEvent(i));
  ASSERT_TRUE(db_->WriteBatch(events).ok());
  ASSERT_TRUE(db_->Flush().ok());
  const uint64_t number = impl()->store()->current()->tables[0].number;
  db_.reset();
  const std::string path = JoinPath(JoinPath(dir_.path(), "tables"), sstable::TableFileName(number));
  std::vector<std::tuple<std::string, uint64_t, std::string>> entries;
  {
    auto table = sstable::Table::Open(Env::Default(), path, number, nullptr);
    ASSERT_TRUE(table.ok());
    auto it = (*table)->NewIterator();
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      entries.emplace_back(std::string(it->key()), it->seq(), std::string(it->value()));
    }
  }
  std::get<2>(entries[3]).back() ^= 1;  // the last byte of a record
  {
    auto file = Env::Default()->NewWritableFile(path);
    sstable::TableOptions options;
    options.compression = sstable::Compression::kSnappy;
    sstable::TableBuilder builder(options, file->get());
    for (const auto& [k, s, v] : entries) ASSERT_TRUE(builder.Add(k, s, v).ok());
    ASSERT_TRUE(builder.Finish().ok());
  }
  Open();
  VerifyResult v = db_->Verify();
  EXPECT_TRUE(v.error.IsIntegrityBroken()) << v.error.ToString();
  EXPECT_NE(v.error.message().find("seq " + std::to_string(std::get<1>(entries[3]))), std::string::npos)
      << v.error.message();
}

TEST_F(EngineTest, PresetsMatchTheirDescriptionsAndCanBeOverridden) {
  const Options hp = Options::HighPerformance();
  EXPECT_FALSE(hp.sync_on_write);
  EXPECT_EQ(hp.max_batch_size, 2000u);
  EXPECT_EQ(hp.group_commit_delay_us, 500u);
  EXPECT_EQ(hp.wal_file_size, 2ull << 30);
  EXPECT_EQ(hp.memtable_max_entries, 2'000'000u);
  EXPECT_EQ(hp.memtable_max_bytes, size_t{1} << 30);
  EXPECT_EQ(hp.compression, Compression::kNone);
  EXPECT_EQ(hp.block_size, 128u << 10);
  EXPECT_EQ(hp.bloom_bits_per_key, 10);
  EXPECT_EQ(hp.index_interval, 256u);
  EXPECT_EQ(hp.flush_interval_ms, 120'000u);
  EXPECT_EQ(hp.compaction_interval_ms, 600'000u);
  const Options b = Options::Balanced();
  EXPECT_TRUE(b.sync_on_write);
  EXPECT_EQ(b.max_batch_size, 100u);
  EXPECT_EQ(b.group_commit_delay_us, 10'000u);
  EXPECT_EQ(b.compression, Compression::kSnappy);
  const Options m = Options::MaxDurability();
  EXPECT_TRUE(m.sync_on_write);
  EXPECT_EQ(m.group_commit_delay_us, 0u);
  EXPECT_EQ(Options::FromPresetName("balanced")->max_batch_size, 100u);
  EXPECT_TRUE(Options::FromPresetName("fast").status().IsInvalidArgument());
  Options o = Options::HighPerformance();
  o.sync_on_write = true;  // a preset is a starting point
  o.env = nullptr;
  o.memtable_max_bytes = 8 << 20;
  Open(o);
  ASSERT_TRUE(db_->Write(MakeEvent(1)).ok());
}

TEST_F(EngineTest, MetricsAreInPrometheusTextFormat) {
  Open();
  ASSERT_TRUE(db_->WriteBatch({MakeEvent(1), MakeEvent(2)}).ok());
  ASSERT_TRUE(db_->Write(MakeEvent(3)).ok());
  ASSERT_TRUE(db_->Flush().ok());
  const std::string text = db_->MetricsText();
  EXPECT_NE(text.find("# TYPE hanshiro_events_written_total counter\nhanshiro_events_written_total 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("hanshiro_write_batch_size_bucket{le=\"2\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("hanshiro_write_batch_size_count 2\n"), std::string::npos);
  EXPECT_NE(text.find("hanshiro_flushes_total 1\n"), std::string::npos);
  for (size_t start = 0; start < text.size();) {  // every line: comment or "name value"
    const size_t end = text.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    const std::string line = text.substr(start, end - start);
    EXPECT_TRUE(line.starts_with("# ") || line.find(' ') != std::string::npos) << line;
    start = end + 1;
  }
}

}  // namespace
}  // namespace hanshiro
