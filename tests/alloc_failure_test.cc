// Running out of memory in the middle of a write (and of a checkpoint, a
// sync or a close, at the end of the file): the writing thread's Nth
// allocation from some point on fails (this binary replaces operator new),
// for every N the write makes. The write returns an error or throws
// std::bad_alloc, and never hangs; the writes after it go through or fail
// with the store's error; every acknowledged record reads back before
// closing; closing does not hang; and after reopening, every acknowledged
// record is there with its bytes and the log verifies.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <new>
#include <thread>

#include "env/test_dir.h"
#include "lsm/db.h"
#include "lsm/test_util.h"

namespace {

// 0: allocations succeed; n > 0: the nth allocation from now on this thread
// fails, and the count goes back to 0.
thread_local long fail_in = 0;

}  // namespace

void* operator new(std::size_t size) {
  if (fail_in > 0 && --fail_in == 0) throw std::bad_alloc();
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
// GCC cannot see that the operator new above is what these pair with.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace hanshiro::lsm {
namespace {

using Acked = std::map<std::string, std::string>;  // key -> record
constexpr int64_t kT0 = 1'700'000'000'000'000'000;

Options SmallOptions() {
  Options o;
  o.wal_file_size = 8192;
  o.table.block_size = 512;
  o.memtable_max_entries = 20;  // the failing write switches memtables
  return o;
}

std::vector<testing::TestRecord> Batch(int first, int n) {
  std::vector<testing::TestRecord> batch;
  for (int i = first; i < first + n; ++i) batch.push_back(testing::MakeEvent(i, kT0 + i, 0));
  return batch;
}

// Runs fn on its own thread; a hang is reported and ends the test binary
// (the hung thread cannot be joined).
template <typename Fn>
void WithinTenSeconds(const std::string& what, Fn fn) {
  std::packaged_task<void()> task(std::move(fn));
  std::future<void> done = task.get_future();
  std::thread(std::move(task)).detach();
  if (done.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    std::fprintf(stderr, "%s: hung\n", what.c_str());
    std::_Exit(1);
  }
  done.get();
}

// Writes `batch`, with this thread's nth allocation failing when n > 0.
// Adds it to *acked when acknowledged; returns whether the failure was
// reached (false: the write made fewer than n allocations).
bool WriteFailingAt(DB* db, const std::vector<testing::TestRecord>& batch, long n, Acked* acked,
                    std::mutex* acked_mu) {
  std::vector<WriteRecord> w;
  for (const auto& r : batch) w.push_back({r.key, r.record});
  fail_in = n;
  bool ok = false;
  try {
    ok = db->Write(w).ok();
  } catch (const std::bad_alloc&) {
  }
  const bool reached = n > 0 && fail_in == 0;
  fail_in = 0;
  if (ok) {
    std::lock_guard lock(*acked_mu);
    for (const auto& r : batch) (*acked)[r.key] = r.record;
  }
  return reached;
}

// Every acknowledged record reads back with its bytes.
void ExpectAcked(const DB& db, const Acked& acked, const std::string& at) {
  for (const auto& [key, record] : acked) {
    std::string got;
    Status s = db.Get(key, &got);
    ASSERT_TRUE(s.ok()) << at << ": acknowledged record lost: " << s.ToString();
    ASSERT_EQ(got, record) << at;
  }
}

// The store in dir; null (and a failure) when it does not open.
std::unique_ptr<DB> OpenOrFail(const std::string& dir, const std::string& at) {
  auto opened = DB::Open(SmallOptions(), dir);
  EXPECT_TRUE(opened.ok()) << at << ": " << opened.status().ToString();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

// Reopens dir: it recovers whole, every acknowledged record reads back, and
// the log verifies. Returns the store (null when it did not open).
std::unique_ptr<DB> ExpectReopensWhole(const std::string& dir, const Acked& acked,
                                       const std::string& at) {
  std::unique_ptr<DB> db = OpenOrFail(dir, at + ", reopening");
  if (db == nullptr) return nullptr;
  EXPECT_TRUE(db->recovery().broken.ok()) << at << ": " << db->recovery().broken.ToString();
  ExpectAcked(*db, acked, at + ", after reopening");
  const wal::VerifyReport report = db->log()->Verify();
  EXPECT_TRUE(report.intact()) << at << ": " << report.error.ToString();
  return db;
}

// `writers` threads each write three batches of 20 at once; writer 0's nth
// allocation in its second batch fails. Then the checks of the file comment.
// Returns whether the failure was reached.
bool RunCase(int writers, long n) {
  const std::string at = std::to_string(writers) + " writers, allocation " + std::to_string(n);
  ::hanshiro::testing::TestDir dir;
  Acked acked;
  std::mutex acked_mu;
  bool reached = false;
  {
    std::unique_ptr<DB> db = OpenOrFail(dir.path(), at);
    if (db == nullptr) return false;
    WithinTenSeconds(at, [&] {
      std::vector<std::thread> threads;
      for (int t = 0; t < writers; ++t) {
        threads.emplace_back([&, t] {
          for (int b = 0; b < 3; ++b) {
            const long fail = t == 0 && b == 1 ? n : 0;
            const bool hit =
                WriteFailingAt(db.get(), Batch((t * 3 + b) * 20, 20), fail, &acked, &acked_mu);
            if (fail > 0) reached = hit;
          }
        });
      }
      for (std::thread& th : threads) th.join();
    });
    if (!reached) {
      EXPECT_EQ(acked.size(), static_cast<size_t>(writers) * 60) << at << ": a write failed";
    }
    ExpectAcked(*db, acked, at + ", before closing");
    WithinTenSeconds(at + ", closing", [&] { db.reset(); });
  }
  std::unique_ptr<DB> db = ExpectReopensWhole(dir.path(), acked, at);
  if (db == nullptr) return false;
  // The reopened store takes writes.
  EXPECT_TRUE(WriteFailingAt(db.get(), Batch(1000, 5), 0, &acked, &acked_mu) == false);
  EXPECT_EQ(acked.count(testing::MakeEvent(1000, kT0 + 1000, 0).key), 1u) << at;
  return reached;
}

TEST(AllocFailureTest, EveryAllocationOfAWriteMayFail) {
  long n = 1;
  while (RunCase(1, n) && !::testing::Test::HasFailure()) ++n;
  EXPECT_GT(n, 50);  // the write really made that many allocations
}

// With writers queued behind the one that fails, as followers in its group
// and as the leaders after it. Where they are differs from run to run, so
// each allocation fails in five runs.
TEST(AllocFailureTest, EveryAllocationMayFailAmongConcurrentWriters) {
  long n = 1;
  for (bool reached = true; reached && !::testing::Test::HasFailure(); ++n) {
    reached = false;
    for (int run = 0; run < 5; ++run) reached = RunCase(4, n) || reached;
  }
  EXPECT_GT(n, 50);
}

// Signing a checkpoint, syncing and closing with the nth allocation of the
// calling thread failing, on a log just opened (whose pool has no writer
// yet) or after writes: each returns (OK or an error) and never throws or
// hangs, even from the destructor, which tries a failed Close again; every
// acknowledged record is there after reopening, and the log verifies.
enum class Control { kCheckpoint, kSync, kClose };

bool RunControlCase(Control control, bool write_first, long n) {
  const std::string at = std::string(control == Control::kCheckpoint ? "checkpoint"
                                     : control == Control::kSync     ? "sync"
                                                                     : "close") +
                         (write_first ? " after writes" : " first") + ", allocation " +
                         std::to_string(n);
  ::hanshiro::testing::TestDir dir;
  Acked acked;
  std::mutex acked_mu;
  bool reached = false;
  {
    std::unique_ptr<DB> db = OpenOrFail(dir.path(), at);
    if (db == nullptr) return false;
    if (write_first) {
      WriteFailingAt(db.get(), Batch(0, 30), 0, &acked, &acked_mu);
      EXPECT_EQ(acked.size(), 30u) << at;
    }
    bool threw = false;
    WithinTenSeconds(at, [&] {
      fail_in = n;
      try {
        switch (control) {
          case Control::kCheckpoint: (void)db->log()->Checkpoint(); break;
          case Control::kSync: (void)db->log()->Sync(); break;
          case Control::kClose: (void)db->Close(); break;
        }
      } catch (const std::bad_alloc&) {
        threw = true;
      }
      reached = fail_in == 0;
      fail_in = 0;
    });
    EXPECT_FALSE(threw) << at;
    if (control != Control::kClose) {
      WriteFailingAt(db.get(), Batch(30, 10), 0, &acked, &acked_mu);  // may meet the error
      ExpectAcked(*db, acked, at + ", before closing");
      WithinTenSeconds(at + ", closing", [&] { db.reset(); });
    } else {
      // A close that failed is done by the next one.
      WithinTenSeconds(at + ", closing again", [&] { EXPECT_TRUE(db->Close().ok()) << at; });
      EXPECT_TRUE(db->log()->closed()) << at;
      db.reset();
    }
  }
  (void)ExpectReopensWhole(dir.path(), acked, at);
  return reached;
}

TEST(AllocFailureTest, EveryAllocationOfACheckpointSyncOrCloseMayFail) {
  for (Control control : {Control::kCheckpoint, Control::kSync, Control::kClose}) {
    for (bool write_first : {false, true}) {
      long n = 1;
      while (RunControlCase(control, write_first, n) && !::testing::Test::HasFailure()) ++n;
      EXPECT_GT(n, 1) << "control " << static_cast<int>(control)  // it allocated at all
                      << (write_first ? " after writes" : " first");
    }
  }
}

}  // namespace
}  // namespace hanshiro::lsm
