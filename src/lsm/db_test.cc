#include "lsm/db.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

#include "base/coding.h"
#include "env/fault_injection_env.h"
#include "env/test_dir.h"
#include "lsm/test_util.h"
#include "sstable/format.h"

namespace hanshiro::lsm {
namespace {

using testing::MakeEvent;
using testing::TestRecord;

constexpr int64_t kT0 = 1'700'000'000'000'000'000;  // 13:46:40 UTC: mid-hour

Options SmallOptions() {
  Options o;
  o.sync_on_write = false;
  o.memtable_max_entries = 1 << 20;
  o.table.block_size = 1024;
  o.table.index_interval = 16;
  o.l0_compaction_trigger = 100;  // compactions only when a test asks
  return o;
}

class DBTest : public ::testing::Test {
 protected:
  void Open(Options o = SmallOptions()) {
    db_.reset();
    auto db = DB::Open(o, dir_.path());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }
  uint64_t Put(const std::vector<TestRecord>& records) {
    std::vector<WriteRecord> batch;
    for (const auto& r : records) batch.push_back({r.key, r.record});
    auto seq = db_->Write(batch);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    for (const auto& r : records) model_[r.key] = r.record;
    return seq.ok() ? *seq : 0;
  }
  // Every record of the model, by key and by id, and a full scan.
  void ExpectModel(const std::string& at) {
    for (const auto& [key, rec] : model_) {
      std::string got;
      Status s = db_->Get(key, &got);
      ASSERT_TRUE(s.ok()) << at << ": " << s.ToString();
      ASSERT_EQ(got, rec) << at;
      auto found = db_->FindKey(key.substr(9));
      ASSERT_TRUE(found.ok()) << at << ": " << found.status().ToString();
      ASSERT_TRUE(found->has_value()) << at;
      ASSERT_EQ(**found, key) << at;
    }
    auto it = db_->NewIterator();
    auto m = model_.begin();
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++m) {
      ASSERT_NE(m, model_.end()) << at << ": scan returned more than was written";
      ASSERT_EQ(it->key(), m->first) << at;
      ASSERT_EQ(it->value(), m->second) << at;
    }
    ASSERT_TRUE(it->status().ok()) << at << ": " << it->status().ToString();
    ASSERT_EQ(m, model_.end()) << at << ": scan missed records";
  }

  ::hanshiro::testing::TestDir dir_;
  std::unique_ptr<DB> db_;
  std::map<std::string, std::string> model_;
};

std::vector<TestRecord> Events(uint64_t first, uint64_t n, int64_t t0, int64_t step) {
  std::vector<TestRecord> out;
  for (uint64_t i = 0; i < n; ++i) out.push_back(MakeEvent(first + i, t0 + static_cast<int64_t>(i) * step));
  return out;
}

TEST_F(DBTest, ReadsAfterFlushCompactionAndReopen) {
  Open();
  Put(Events(0, 500, kT0, 1'000'000));
  ExpectModel("memtable");
  ASSERT_TRUE(db_->Flush().ok());
  EXPECT_GE(db_->stats().tables, 1u);
  EXPECT_EQ(db_->stats().memtable_entries, 0u);
  ExpectModel("flushed");
  Put(Events(500, 500, kT0 + 100'000'000, 1'000'000));  // overlaps the first flush
  ASSERT_TRUE(db_->Flush().ok());
  ExpectModel("two flushes");
  Open();
  ExpectModel("reopened");
  ASSERT_TRUE(db_->Compact().ok());
  EXPECT_GE(db_->stats().compactions, 1u);
  ExpectModel("compacted");
  Open();
  ExpectModel("reopened after compaction");
  EXPECT_EQ(db_->stats().level0_tables, 0u);
}

TEST_F(DBTest, MemtableIsReplayedFromTheLogAfterReopen) {
  Open();
  Put(Events(0, 100, kT0, 10));
  ASSERT_TRUE(db_->Flush().ok());
  Put(Events(100, 100, kT0 + 5000, 10));  // only in the log and memtable
  Open();
  EXPECT_EQ(db_->recovery().replayed, 100u);  // not the flushed ones
  ExpectModel("replayed");
}

TEST_F(DBTest, LogSegmentsInTablesAreRemovedAndVerifyStillCoversTheirLeaves) {
  Options o = SmallOptions();
  o.wal_file_size = 4096;
  Open(o);
  auto wal_files = [&] {
    std::vector<std::string> files;
    auto children = Env::Default()->GetChildren(dir_.path() + "/wal");
    EXPECT_TRUE(children.ok());
    for (const std::string& f : *children) {
      if (f.ends_with(".wal")) files.push_back(f);
    }
    std::sort(files.begin(), files.end());
    return files;
  };
  auto segments = [&] { return wal_files().size(); };
  for (int round = 0; round < 4; ++round) {
    Put(Events(static_cast<uint64_t>(round) * 200, 200, kT0 + int64_t{round} * 1'000'000'000, 1000));
    ASSERT_TRUE(db_->Flush().ok());
  }
  Put(Events(800, 50, kT0 + 5'000'000'000, 1000));  // in the log and the memtable only
  EXPECT_GT(db_->stats().log_segments_removed, 0u);
  const size_t left = segments();
  wal::VerifyReport v = db_->log()->Verify();
  ASSERT_TRUE(v.error.ok()) << v.error.ToString();
  EXPECT_GT(v.log_start, 0u);
  EXPECT_LE(v.log_start, db_->current()->wal_position);  // nothing unflushed went
  EXPECT_EQ(v.tree_size, 850u);
  EXPECT_EQ(v.records, 850u - v.log_start);
  Open(o);
  EXPECT_EQ(db_->recovery().replayed, 50u);
  ExpectModel("reopened with the early segments gone");
  EXPECT_LE(segments(), left + 1);
  // Writes go on, and a later flush removes more.
  Put(Events(850, 300, kT0 + 6'000'000'000, 1000));
  ASSERT_TRUE(db_->Flush().ok());
  v = db_->log()->Verify();
  ASSERT_TRUE(v.error.ok()) << v.error.ToString();
  EXPECT_EQ(v.tree_size, 1150u);
  ExpectModel("after more writes");
  // A removed segment in the middle of what is left is a break, not a silent gap.
  for (uint64_t i = 0; i < 4; ++i) {  // unflushed: their segments stay
    Put(Events(1150 + i * 100, 100, kT0 + 7'000'000'000 + static_cast<int64_t>(i) * 1'000'000, 1000));
  }
  const std::vector<std::string> files = wal_files();
  ASSERT_GE(files.size(), 3u);
  ASSERT_TRUE(Env::Default()->RemoveFile(dir_.path() + "/wal/" + files[1]).ok());
  v = db_->log()->Verify();
  EXPECT_FALSE(v.error.ok());
}

TEST_F(DBTest, TimeRangeScanReturnsExactlyTheRange) {
  Open();
  const auto events = Events(0, 2000, kT0, 1000);
  Put(events);
  ASSERT_TRUE(db_->Flush().ok());
  Put(Events(2000, 10, kT0 + 500, 1000));  // interleaved, still in the memtable
  const int64_t from = kT0 + 300'000, to = kT0 + 700'000;
  std::string lower = std::string(StorageKey(ValueKind::kLog, from, EventId()).view());
  std::string upper = std::string(StorageKey(ValueKind::kLog, to, EventId()).view());
  size_t expected = 0;
  for (const auto& [key, rec] : model_) {
    const auto t = static_cast<int64_t>(DecodeBigEndian64(key.data() + 1));
    if (t >= from && t < to) ++expected;
  }
  auto it = db_->NewIterator(lower, upper);
  size_t n = 0;
  std::string prev;
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++n) {
    const auto t = static_cast<int64_t>(DecodeBigEndian64(it->key().data() + 1));
    ASSERT_GE(t, from);
    ASSERT_LT(t, to);
    ASSERT_GT(std::string(it->key()), prev);
    prev = it->key();
  }
  EXPECT_TRUE(it->status().ok());
  EXPECT_EQ(n, expected);
  EXPECT_EQ(expected, 400u);
}

TEST_F(DBTest, NewestVersionWinsAndEveryVersionIsKept) {
  Open();
  const TestRecord v0 = MakeEvent(7, kT0, 0), v1 = MakeEvent(7, kT0, 1), v2 = MakeEvent(7, kT0, 2);
  ASSERT_EQ(v0.key, v1.key);
  Put({v0});
  ASSERT_TRUE(db_->Flush().ok());
  Put({v1});
  ASSERT_TRUE(db_->Flush().ok());
  const uint64_t s2 = Put({v2});
  std::string got;
  uint64_t seq = 0;
  ASSERT_TRUE(db_->Get(v0.key, &got, &seq).ok());
  EXPECT_EQ(got, v2.record);
  EXPECT_EQ(seq, s2);
  ASSERT_TRUE(db_->Flush().ok());
  ASSERT_TRUE(db_->Compact().ok());
  ASSERT_TRUE(db_->Get(v0.key, &got, &seq).ok());
  EXPECT_EQ(got, v2.record);
  // Compaction keeps all three versions (each is a leaf of the tree).
  auto it = db_->NewInternalIterator();
  std::vector<std::string> versions;
  for (it->SeekToFirst(); it->Valid(); it->Next()) versions.emplace_back(it->value());
  EXPECT_EQ(versions, (std::vector<std::string>{v2.record, v1.record, v0.record}));
  ExpectModel("after compaction");
}

TEST_F(DBTest, FlushCutsTablesAtPartitionBoundaries) {
  Open();
  const int64_t hour0 = PartitionOf(kT0, kHourNs);
  Put(Events(0, 300, hour0 + kHourNs - 150 * 1'000'000, 1'000'000));  // straddles an hour
  ASSERT_TRUE(db_->Flush().ok());
  auto v = db_->current();
  ASSERT_EQ(v->tables.size(), 2u);
  EXPECT_EQ(v->tables[0].partition, hour0);
  EXPECT_EQ(v->tables[1].partition, hour0 + kHourNs);
  EXPECT_EQ(v->tables[0].entries + v->tables[1].entries, 300u);
  ExpectModel("split");
}

// A large memtable is flushed as two halves at once: two tables that do not
// overlap, every version of a key in one of them, nothing lost or repeated;
// with parallel flushes off, one table holds the same.
TEST_F(DBTest, LargeMemtableIsFlushedAsTwoDisjointHalves) {
  constexpr uint64_t kKeys = DB::kParallelFlushMinEntries / 2 + 1000;  // two versions each
  for (const bool parallel : {true, false}) {
    SCOPED_TRACE(parallel ? "parallel" : "serial");
    db_.reset();
    std::filesystem::remove_all(dir_.path());
    std::filesystem::create_directory(dir_.path());
    model_.clear();
    Options o = SmallOptions();
    o.table.block_size = 64 << 10;
    o.table.index_interval = 256;
    o.target_file_size = 1ull << 30;  // size alone never cuts
    o.parallel_flush = parallel;
    Open(o);
    for (int version = 0; version < 2; ++version) {
      for (uint64_t first = 0; first < kKeys; first += 5000) {
        std::vector<TestRecord> batch;
        for (uint64_t i = first; i < std::min(kKeys, first + 5000); ++i) {
          batch.push_back(MakeEvent(i, kT0 + static_cast<int64_t>(i) * 1000, version, 8));
        }
        Put(batch);
      }
    }
    ASSERT_TRUE(db_->Flush().ok());
    auto v = db_->current();
    ASSERT_EQ(v->tables.size(), parallel ? 2u : 1u);
    uint64_t entries = 0;
    for (const TableMeta& t : v->tables) {
      EXPECT_EQ(t.level, 0);
      entries += t.entries;
    }
    EXPECT_EQ(entries, 2 * kKeys);
    if (parallel) {
      const TableMeta& a = v->tables[0];
      const TableMeta& b = v->tables[1];
      EXPECT_TRUE(a.max_key < b.min_key || b.max_key < a.min_key) << "the halves overlap";
    }
    // Versions of a key stay together, newest first.
    uint64_t n = 0;
    {
      auto it = db_->NewInternalIterator();  // gone before the store is
      for (it->SeekToFirst(); it->Valid(); it->Next(), ++n) {
        const std::string key(it->key());
        const std::string newest(it->value());
        it->Next();
        ASSERT_TRUE(it->Valid()) << "a key's older version is missing: entry " << n;
        ASSERT_EQ(it->key(), key) << "entry " << n;
        ASSERT_EQ(newest, model_[key]) << "entry " << n;
      }
    }
    EXPECT_EQ(n, kKeys);
    ExpectModel("flushed");
    Open(o);
    ExpectModel("reopened");
  }
}

// The nice values of this process's threads (Linux: /proc/self/task/*/stat,
// field 19).
std::vector<int> ThreadNiceValues() {
  std::vector<int> values;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t name_end = stat.rfind(')');
    if (name_end == std::string::npos) continue;  // the thread has gone
    std::istringstream fields(stat.substr(name_end + 1));  // after the name
    std::string field;
    for (int i = 3; i <= 19 && fields >> field; ++i) {
    }
    values.push_back(std::stoi(field));
  }
  return values;
}

// A split flush's helper thread keeps the raised priority it was made with
// (the background thread goes back to its own after each flush); with no
// boost, no thread's priority changes.
TEST_F(DBTest, FlushThreadsRunAtARaisedPriority) {
  // Counted from this thread's nice value, which the store's threads
  // inherit; skipped where raising priority is refused.
  errno = 0;
  const int base = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  ASSERT_EQ(errno, 0);
  if (base - 5 < -20 || ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), base - 5) != 0) {
    GTEST_SKIP() << "this process may not raise a thread's priority (CAP_SYS_NICE, RLIMIT_NICE)";
  }
  ASSERT_EQ(::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), base), 0);
  for (const int boost : {5, 0}) {
    SCOPED_TRACE(boost);
    db_.reset();
    std::filesystem::remove_all(dir_.path());
    std::filesystem::create_directory(dir_.path());
    model_.clear();
    Options o = SmallOptions();
    o.target_file_size = 1ull << 30;
    o.flush_priority_boost = boost;
    Open(o);
    for (uint64_t first = 0; first < DB::kParallelFlushMinEntries + 1000; first += 5000) {
      Put(Events(first, 5000, kT0 + static_cast<int64_t>(first) * 1000, 1000));
    }
    ASSERT_TRUE(db_->Flush().ok());
    ASSERT_EQ(db_->current()->tables.size(), 2u);  // split: the helper exists
    const std::vector<int> nice = ThreadNiceValues();
    const auto at = [&](int n) {
      return static_cast<size_t>(std::count(nice.begin(), nice.end(), n));
    };
    if (boost > 0) {
      EXPECT_EQ(at(base - boost), 1u);  // the helper
      EXPECT_EQ(at(base), nice.size() - 1);
    } else {
      EXPECT_EQ(at(base), nice.size());
    }
  }
  Options bad = SmallOptions();
  bad.flush_priority_boost = 20;
  EXPECT_TRUE(DB::Open(bad, dir_.path() + "-bad").status().IsInvalidArgument());
}

TEST_F(DBTest, DisjointFlushesAreMovedNotRewritten) {
  Open();
  for (int i = 0; i < 4; ++i) {
    Put(Events(i * 100, 100, kT0 + i * 1'000'000, 1000));
    ASSERT_TRUE(db_->Flush().ok());
  }
  ASSERT_TRUE(db_->Compact().ok());
  const Stats s = db_->stats();
  EXPECT_EQ(s.trivial_moves, 4u);
  EXPECT_EQ(s.compactions, 0u);
  EXPECT_EQ(s.compaction_bytes_written, 0u);
  EXPECT_EQ(s.level0_tables, 0u);
  EXPECT_EQ(s.tables, 4u);
  ExpectModel("moved");
}

TEST_F(DBTest, OverlappingFlushesAreMergedIntoOneRun) {
  Options o = SmallOptions();
  o.target_file_size = 16 << 10;  // several outputs
  Open(o);
  for (int i = 0; i < 4; ++i) {
    Put(Events(i * 300, 300, kT0 + i * 7, 1000));  // interleaved in time
    ASSERT_TRUE(db_->Flush().ok());
  }
  ASSERT_TRUE(db_->Compact().ok());
  const Stats s = db_->stats();
  EXPECT_GE(s.compactions, 1u);  // one per group of overlapping tables
  EXPECT_GT(s.compaction_bytes_written, 0u);
  EXPECT_EQ(s.level0_tables, 0u);
  EXPECT_GT(s.tables, 1u);
  auto v = db_->current();
  for (size_t i = 1; i < v->tables.size(); ++i) {
    EXPECT_LT(v->tables[i - 1].max_key, v->tables[i].min_key);  // one sorted run
  }
  ExpectModel("merged");
  // The inputs are gone from disk.
  auto files = Env::Default()->GetChildren(JoinPath(dir_.path(), "tables"));
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), v->tables.size());
}

TEST_F(DBTest, RetentionDropsWholeOldPartitionsAndLogsIt) {
  ManualClock clock(PartitionOf(kT0, kHourNs) + 10 * kHourNs);
  Options o = SmallOptions();
  o.clock = &clock;
  o.retention_ns = 3 * kHourNs;
  Open(o);
  const int64_t hour0 = PartitionOf(kT0, kHourNs);
  for (int h = 0; h < 8; ++h) Put(Events(h * 10, 10, hour0 + h * kHourNs, 1000));
  ASSERT_TRUE(db_->Flush().ok());
  const uint64_t before = db_->log()->size();
  ASSERT_TRUE(db_->ApplyRetention().ok());
  // Now = hour 10; windows ending at or before hour 7 go: hours 0..6.
  auto v = db_->current();
  ASSERT_EQ(v->dropped.size(), 7u);
  EXPECT_EQ(v->dropped[0].entries, 10u);
  for (const TableMeta& t : v->tables) EXPECT_GE(t.partition, hour0 + 7 * kHourNs);
  EXPECT_EQ(db_->stats().retention_drops, 7u);
  EXPECT_EQ(db_->log()->size(), before + 7);  // one logged record per drop
  std::string got;
  EXPECT_TRUE(db_->Get(MakeEvent(0, hour0).key, &got).IsNotFound());
  EXPECT_TRUE(db_->Get(MakeEvent(70, hour0 + 7 * kHourNs).key, &got).ok());
  // The retention records are index entries in the store.
  int logged = 0;
  {
    auto it = db_->NewIterator(std::string(1, '\x03'), std::string(1, '\x04'));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->value().find("hanshiro.retention") != std::string_view::npos) ++logged;
    }
  }
  EXPECT_EQ(logged, 7);
  Open(o);
  EXPECT_EQ(db_->current()->dropped.size(), 7u);
  db_.reset();  // before the clock it borrows
}

// Sync off: a flush makes the log durable up to the position its manifest
// records, so a power cut after it leaves a store that opens and holds the
// flushed records (what was neither flushed nor synced may be lost).
TEST_F(DBTest, PowerCutAfterAFlushWithSyncOff) {
  FaultInjectionEnv env(Env::Default());
  Options o = SmallOptions();
  o.env = &env;
  Open(o);
  Put(Events(0, 200, kT0, 1000));
  ASSERT_TRUE(db_->Flush().ok());
  const auto flushed = model_;
  Put(Events(200, 50, kT0 + 10, 1000));  // neither flushed nor synced
  ASSERT_TRUE(env.SimulatePowerLoss().ok());
  db_.reset();
  env.ClearFaults();
  Open(o);
  ASSERT_GE(db_->log()->size(), 200u);
  for (const auto& [key, rec] : flushed) {
    std::string got;
    ASSERT_TRUE(db_->Get(key, &got).ok());
    EXPECT_EQ(got, rec);
  }
  EXPECT_TRUE(db_->log()->Verify().intact());
  // New records take sequence numbers no table holds.
  const uint64_t seq = Put(Events(900, 1, kT0 + 5, 1));
  EXPECT_GE(seq, db_->current()->wal_position);
  db_.reset();
}

TEST_F(DBTest, BadWritesAreRefusedAndNamed) {
  Open();
  const TestRecord r = MakeEvent(1, kT0);
  std::vector<WriteRecord> empty;
  EXPECT_TRUE(db_->Write(empty).status().IsInvalidArgument());
  WriteRecord short_key{std::string_view(r.key).substr(1), r.record};
  auto s = db_->Write({&short_key, 1});
  EXPECT_TRUE(s.status().IsInvalidArgument());
  EXPECT_NE(s.status().message().find("record 0"), std::string::npos);
  std::string code_key = r.key;
  code_key[0] = 2;
  WriteRecord mismatch{code_key, r.record};
  EXPECT_TRUE(db_->Write({&mismatch, 1}).status().IsInvalidArgument());
  EXPECT_EQ(db_->log()->size(), 0u);  // nothing logged
}

TEST_F(DBTest, CorruptTableIsReportedNamedNeverAWrongAnswer) {
  Open();
  Put(Events(0, 200, kT0, 1000));
  ASSERT_TRUE(db_->Flush().ok());
  const uint64_t number = db_->current()->tables[0].number;
  db_.reset();
  const std::string path = JoinPath(JoinPath(dir_.path(), "tables"), sstable::TableFileName(number));
  std::string bytes = *ReadFileToString(Env::Default(), path);
  bytes[50] = static_cast<char>(bytes[50] ^ 1);
  ASSERT_TRUE(WriteStringToFile(Env::Default(), bytes, path, false).ok());
  Open();
  std::string got;
  Status s = db_->Get(model_.begin()->first, &got);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(sstable::TableName(number)), std::string::npos) << s.message();
  auto it = db_->NewIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
  }
  EXPECT_TRUE(it->status().IsCorruption());
}

TEST_F(DBTest, FlushIntervalFlushesOnItsOwn) {
  Options o = SmallOptions();
  o.flush_interval_ms = 20;
  Open(o);
  Put(Events(0, 10, kT0, 1));
  for (int i = 0; i < 500 && db_->stats().flushes == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(db_->stats().flushes, 1u);
  ExpectModel("interval flush");
}

TEST_F(DBTest, SizeLimitFlushesAndConcurrentWritersAllLand) {
  Options o = SmallOptions();
  o.memtable_max_entries = 500;
  o.l0_compaction_trigger = 4;  // background compactions too
  Open(o);
  // Eight writers of small batches: most wait for their turn to link, and
  // each must be woken when it comes (a missed one hangs the test).
  std::vector<std::thread> writers;
  std::vector<std::vector<TestRecord>> per(8);
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&, w] {
      for (int b = 0; b < 40; ++b) {
        auto batch = Events(w * 100000 + b * 25, 25, kT0 + w * 13 + b * 100000, 997);
        std::vector<WriteRecord> wr;
        for (const auto& r : batch) wr.push_back({r.key, r.record});
        ASSERT_TRUE(db_->Write(wr).ok());
        per[w].insert(per[w].end(), batch.begin(), batch.end());
      }
    });
  }
  for (auto& t : writers) t.join();
  for (const auto& v : per) {
    for (const auto& r : v) model_[r.key] = r.record;
  }
  EXPECT_GE(db_->stats().flushes, 3u);
  ExpectModel("concurrent");
  Open(o);
  ExpectModel("concurrent, reopened");
}

// A budget smaller than the arena blocks two empty memtables reserve must
// not turn every write into a flush of nothing (or a livelock).
TEST_F(DBTest, ASmallMemtableBudgetStillTakesManyWritesPerFlush) {
  Options o = SmallOptions();
  o.memtable_max_bytes = 1 << 20;
  Open(o);
  for (int i = 0; i < 100; ++i) Put(Events(i * 100, 100, kT0 + i * 100000, 1));
  for (int i = 0; i < 500 && db_->stats().flushes < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const Stats s = db_->stats();
  EXPECT_GE(s.flushes, 2u);    // 10000 records (with the id list): several MiB
  EXPECT_LE(s.flushes, 50u);   // but not one per write
  ExpectModel("small budget");
}

TEST_F(DBTest, BatchesApplyInLogOrder) {
  Open();
  std::mutex mu;
  std::vector<std::pair<uint64_t, size_t>> applied;  // (first seq, size) as applied
  std::vector<std::thread> writers;
  for (int w = 0; w < 6; ++w) {
    writers.emplace_back([&, w] {
      for (int b = 0; b < 30; ++b) {
        const size_t n = 1 + (w + b) % 7;
        auto batch = Events(w * 10000 + b * 10, n, kT0 + w * 1000 + b, 1);
        std::vector<WriteRecord> wr;
        for (const auto& r : batch) wr.push_back({r.key, r.record});
        auto seq = db_->Write(wr, [&](uint64_t first) {
          std::lock_guard lock(mu);
          applied.emplace_back(first, n);
        });
        ASSERT_TRUE(seq.ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  ASSERT_EQ(applied.size(), 180u);
  uint64_t expect = 0;
  for (const auto& [first, n] : applied) {
    ASSERT_EQ(first, expect);  // no batch applied before an earlier one
    expect += n;
  }
  EXPECT_EQ(expect, db_->log()->size());
}

// Random writes (new keys, new versions of old ones), flushes, compactions
// and reopens, checked against a std::map after every step.
TEST_F(DBTest, RandomizedAgainstAModel) {
  std::mt19937_64 rng(42);
  Options o = SmallOptions();
  o.target_file_size = 8 << 10;
  o.memtable_max_entries = 300;
  Open(o);
  std::vector<std::pair<uint64_t, int64_t>> written;  // (event number, time)
  uint64_t next = 0;
  for (int step = 0; step < 60; ++step) {
    std::vector<TestRecord> batch;
    const int n = 1 + static_cast<int>(rng() % 50);
    for (int i = 0; i < n; ++i) {
      if (!written.empty() && rng() % 4 == 0) {
        const auto& [number, t] = written[rng() % written.size()];
        batch.push_back(MakeEvent(number, t, static_cast<int>(rng() % 1000)));
      } else {
        const int64_t t = kT0 + static_cast<int64_t>(rng() % (3 * kHourNs));
        written.emplace_back(next, t);
        batch.push_back(MakeEvent(next++, t));
      }
    }
    // One batch holds each key once (a later version in the same batch
    // would get a higher sequence number anyway, but keep the model simple).
    std::map<std::string, TestRecord> unique;
    for (auto& r : batch) unique[r.key] = r;
    batch.clear();
    for (auto& [k, r] : unique) batch.push_back(r);
    Put(batch);
    switch (rng() % 6) {
      case 0: ASSERT_TRUE(db_->Flush().ok()); break;
      case 1: ASSERT_TRUE(db_->Compact().ok()); break;
      case 2: Open(o); break;
      default: break;
    }
    if (step % 10 == 9) ExpectModel("step " + std::to_string(step));
  }
  ExpectModel("end");
}

}  // namespace
}  // namespace hanshiro::lsm
