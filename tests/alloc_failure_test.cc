// Running out of memory in the middle of a write: the writing thread's Nth
// allocation from some point on fails (this binary replaces operator new),
// for every N the write makes. The write returns an error or throws
// std::bad_alloc, and never hangs; the next write goes through or fails with
// the store's error; closing does not hang; and after reopening, every
// acknowledged record is there with its bytes and the log verifies.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
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

// Writes `batch`, with the writing thread's nth allocation failing when
// n > 0. Adds it to *acked when acknowledged; returns whether the failure
// was reached (false: the write made fewer than n allocations).
bool WriteFailingAt(DB* db, const std::vector<testing::TestRecord>& batch, long n, Acked* acked,
                    const std::string& at) {
  bool reached = false;
  WithinTenSeconds(at, [&] {
    std::vector<WriteRecord> w;
    for (const auto& r : batch) w.push_back({r.key, r.record});
    fail_in = n;
    bool ok = false;
    try {
      ok = db->Write(w).ok();
    } catch (const std::bad_alloc&) {
    }
    reached = n > 0 && fail_in == 0;
    fail_in = 0;
    if (ok) {
      for (const auto& r : batch) (*acked)[r.key] = r.record;
    }
  });
  return reached;
}

TEST(AllocFailureTest, EveryAllocationOfAWriteMayFail) {
  long n = 1;
  for (;; ++n) {
    const std::string at = "allocation " + std::to_string(n);
    ::hanshiro::testing::TestDir dir;
    Acked acked;
    bool reached = false;
    {
      auto opened = DB::Open(SmallOptions(), dir.path());
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      std::unique_ptr<DB> db = std::move(opened).value();
      WriteFailingAt(db.get(), Batch(0, 20), 0, &acked, at);
      ASSERT_EQ(acked.size(), 20u) << at;
      reached = WriteFailingAt(db.get(), Batch(20, 20), n, &acked, at);
      if (!reached) {
        ASSERT_EQ(acked.size(), 40u) << at << ": a write with no failure failed";
      }
      // The next write goes through or meets the store's error, at once.
      WriteFailingAt(db.get(), Batch(40, 20), 0, &acked, at);
      WithinTenSeconds(at + ", closing", [&] { db.reset(); });
    }
    auto opened = DB::Open(SmallOptions(), dir.path());
    ASSERT_TRUE(opened.ok()) << at << ": " << opened.status().ToString();
    std::unique_ptr<DB> db = std::move(opened).value();
    ASSERT_TRUE(db->recovery().broken.ok()) << at << ": " << db->recovery().broken.ToString();
    for (const auto& [key, record] : acked) {
      std::string got;
      Status s = db->Get(key, &got);
      ASSERT_TRUE(s.ok()) << at << ": acknowledged record lost: " << s.ToString();
      ASSERT_EQ(got, record) << at;
    }
    const wal::VerifyReport report = db->log()->Verify();
    ASSERT_TRUE(report.intact()) << at << ": " << report.error.ToString();
    // The reopened store takes writes.
    WriteFailingAt(db.get(), Batch(60, 5), 0, &acked, at);
    EXPECT_EQ(acked.count(testing::MakeEvent(60, kT0 + 60, 0).key), 1u) << at;
    if (!reached) break;
  }
  EXPECT_GT(n, 50);  // the write really made that many allocations
  std::printf("a write made %ld allocations\n", n - 1);
}

}  // namespace
}  // namespace hanshiro::lsm
