#include "lsm/db.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <new>
#include <optional>
#include <system_error>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/coding.h"
#include "base/record.h"
#include "hanshiro/storage_key.h"
#include "lsm/compaction.h"
#include "lsm/manifest.h"
#include "lsm/merging_iterator.h"
#include "sstable/format.h"
#include "sstable/table_builder.h"

namespace hanshiro::lsm {

namespace {

constexpr std::string_view kRetentionField = "hanshiro.retention";

class ErrorIterator final : public sstable::Iterator {
 public:
  explicit ErrorIterator(Status s) : status_(std::move(s)) {}
  bool Valid() const override { return false; }
  void SeekToFirst() override {}
  void Seek(std::string_view) override {}
  void Next() override {}
  std::string_view key() const override { return {}; }
  uint64_t seq() const override { return 0; }
  std::string_view value() const override { return {}; }
  Status status() const override { return status_; }

 private:
  Status status_;
};

// Seeks no lower than `lower`.
class BoundedIterator final : public sstable::Iterator {
 public:
  BoundedIterator(std::unique_ptr<sstable::Iterator> base, std::string lower)
      : base_(std::move(base)), lower_(std::move(lower)) {}
  bool Valid() const override { return base_->Valid(); }
  void SeekToFirst() override { base_->Seek(lower_); }
  void Seek(std::string_view t) override { base_->Seek(std::max(t, std::string_view(lower_))); }
  void Next() override { base_->Next(); }
  std::string_view key() const override { return base_->key(); }
  uint64_t seq() const override { return base_->seq(); }
  std::string_view value() const override { return base_->value(); }
  Status status() const override { return base_->status(); }

 private:
  std::unique_ptr<sstable::Iterator> base_;
  const std::string lower_;
};

int64_t KeyTime(std::string_view key) {
  return static_cast<int64_t>(DecodeBigEndian64(key.data() + 1));
}

// Arena blocks of 1/16 of the memtable budget (64 KiB .. 4 MiB), so the two
// arenas of an empty memtable take a small part of it.
size_t ArenaBlockBytes(const Options& o) {
  return std::clamp<size_t>(o.memtable_max_bytes / 16, size_t{64} << 10,
                            memtable::Arena::kDefaultBlockBytes);
}

int64_t MonotonicUs(Clock* clock) { return clock->MonotonicNanos() / 1000; }

Status CheckOptions(const Options& o) {
  if (o.partition_window_ns != kHourNs && o.partition_window_ns != kSixHoursNs &&
      o.partition_window_ns != kDayNs) {
    return Status::InvalidArgument("partition_window_ns must be one hour, six hours or a day");
  }
  if (o.memtable_max_entries == 0 || o.memtable_max_bytes < (size_t{1} << 20)) {
    return Status::InvalidArgument(
        "memtable_max_entries must be > 0 and memtable_max_bytes at least 1 MiB");
  }
  if (o.table.block_size < 256 || o.table.block_size > sstable::kMaxRawBlockBytes / 2) {
    return Status::InvalidArgument("block_size must be between 256 bytes and 32 MiB");
  }
  if (o.table.index_interval == 0 || o.table.index_interval > (1u << 20)) {
    return Status::InvalidArgument("index_interval must be between 1 and 1048576");
  }
  if (o.table.bloom_bits_per_key < 1 || o.table.bloom_bits_per_key > 64) {
    return Status::InvalidArgument("bloom_bits_per_key must be between 1 and 64");
  }
  if (o.table.restart_interval < 1) return Status::InvalidArgument("restart_interval must be >= 1");
  if (o.max_open_files < 1) return Status::InvalidArgument("max_open_files must be >= 1");
  if (o.l0_compaction_trigger < 1) return Status::InvalidArgument("l0_compaction_trigger must be >= 1");
  if (o.retention_ns < 0) return Status::InvalidArgument("retention_ns must not be negative");
  if (o.flush_priority_boost < 0 || o.flush_priority_boost > 19) {
    return Status::InvalidArgument("flush_priority_boost must be between 0 and 19");
  }
  return Status::OK();
}

// Running out of memory on the write path. Short enough for the string's
// own buffer, so making it needs no memory.
Status OutOfMemory() { return Status::IOError("out of memory"); }

// The calling thread's nice value (Linux: each thread has its own), when
// it can be read, and a change of it, which may be refused (raising
// priority needs CAP_SYS_NICE or RLIMIT_NICE).
std::optional<int> ThreadNice() {
  errno = 0;
  const int nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  if (errno != 0) return std::nullopt;
  return nice;
}
void SetThreadNice(int nice) {
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
}

}  // namespace

// Runs the jobs it is given on its own thread, one at a time. Made by a
// flush, it starts with that thread's raised priority and keeps it.
class FlushHelper {
 public:
  // Throws std::system_error when no thread can be had.
  FlushHelper() : thread_([this] { Loop(); }) {}
  ~FlushHelper() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  FlushHelper(const FlushHelper&) = delete;
  FlushHelper& operator=(const FlushHelper&) = delete;

  // Starts job; Wait returns once it ran. REQUIRES: the previous job waited for.
  void Start(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      job_ = std::move(job);
      done_ = false;
    }
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_; });
  }

 private:
  void Loop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || job_ != nullptr; });
      if (job_ == nullptr) return;  // stopping, nothing left to run
      std::function<void()> job = std::move(job_);
      job_ = nullptr;
      lock.unlock();
      job();
      lock.lock();
      done_ = true;
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> job_;  // guarded by mu_
  bool done_ = true;           // guarded by mu_
  bool stop_ = false;          // guarded by mu_
  std::thread thread_;         // last: starts once the rest is ready
};

DB::DB(const Options& options, std::string dir)
    : options_(options),
      dir_(std::move(dir)),
      tables_dir_(JoinPath(dir_, "tables")),
      pool_(ArenaBlockBytes(options), options.memtable_max_bytes / ArenaBlockBytes(options) + 2),
      block_cache_(options.block_cache_size),
      ids_(options.clock) {}

Result<std::unique_ptr<DB>> DB::Open(const Options& options, const std::string& dir,
                                     const ReplayHook& hook) {
  HANSHIRO_RETURN_IF_ERROR(CheckOptions(options));
  std::unique_ptr<DB> db(new DB(options, dir));
  HANSHIRO_RETURN_IF_ERROR(db->OpenFiles(hook));
  db->bg_ = std::thread([p = db.get()] { p->BackgroundLoop(); });
  return db;
}

DB::~DB() { (void)Close(); }

Status DB::OpenFiles(const ReplayHook& hook) {
  Env* env = options_.env;
  HANSHIRO_RETURN_IF_ERROR(CreateDirDurably(env, dir_));
  HANSHIRO_RETURN_IF_ERROR(CreateDirDurably(env, tables_dir_));
  table_cache_ = std::make_unique<TableCache>(env, tables_dir_,
                                              static_cast<size_t>(options_.max_open_files),
                                              &block_cache_);
  mem_ = std::make_shared<Mem>(&pool_);
  mem_->created_ns = options_.clock->MonotonicNanos();

  wal::Options wo;
  wo.env = env;
  wo.sync_on_write = options_.sync_on_write;
  wo.max_batch_size = options_.max_batch_size;
  wo.group_commit_delay_us = options_.group_commit_delay_us;
  wo.max_file_size = options_.wal_file_size;
  wo.integrity = options_.integrity;

  // The log takes the directory's lock: only then may files be deleted.
  HANSHIRO_ASSIGN_OR_RETURN(std::optional<Version> stored, manifest::Load(env, dir_));
  const uint64_t mem_from = stored ? stored->wal_position : 0;
  const uint64_t replay_from = hook.fn ? std::min(mem_from, hook.from) : mem_from;
  HANSHIRO_ASSIGN_OR_RETURN(
      log_, wal::Log::Open(wo, dir_, replay_from,
                           [&](uint64_t seq, uint8_t kind, std::string_view payload) {
                             return Replay(seq, kind, payload, mem_from, hook);
                           }));
  if (stored && stored->wal_position > log_->size()) {
    return Status::Corruption(fmt::format(
        "{}: tables hold records below seq {} but the log ends at seq {} [MAN-7]",
        JoinPath(dir_, manifest::kFileName), stored->wal_position, log_->size()));
  }
  if (!stored) {
    Version v;
    v.edit = 1;
    v.window_ns = options_.partition_window_ns;
    HANSHIRO_RETURN_IF_ERROR(manifest::Install(env, dir_, v));
    stored = std::move(v);
  }
  applied_ = log_->size();
  next_table_ = stored->next_table;
  version_ = std::make_shared<const Version>(std::move(*stored));
  return RemoveOrphans();
}

Status DB::RemoveOrphans() {
  HANSHIRO_ASSIGN_OR_RETURN(std::vector<std::string> names, options_.env->GetChildren(tables_dir_));
  for (const std::string& name : names) {
    const bool listed = std::any_of(version_->tables.begin(), version_->tables.end(),
                                    [&](const TableMeta& t) {
                                      return name == sstable::TableFileName(t.number);
                                    });
    if (!listed) HANSHIRO_RETURN_IF_ERROR(options_.env->RemoveFile(JoinPath(tables_dir_, name)));
  }
  return Status::OK();
}

Status DB::Replay(uint64_t seq, uint8_t kind, std::string_view payload, uint64_t mem_from,
                  const ReplayHook& hook) {
  if (hook.fn && seq >= hook.from) HANSHIRO_RETURN_IF_ERROR(hook.fn(seq, kind, payload));
  if (seq < mem_from) return Status::OK();  // in a table already
  auto value = record::Decode(payload);
  if (!value.ok()) return value.status().WithContext(fmt::format("wal record seq {}", seq));
  const StorageKey key = StorageKey::For(*value);
  if (static_cast<uint8_t>(key.kind()) != kind) {
    return Status::Corruption(
        fmt::format("wal record seq {}: logged as kind {} but holds a {} record", seq, kind,
                    static_cast<int>(key.kind())));
  }
  mem_->Add(seq, key.view(), payload);
  return Status::OK();
}

bool DB::MemFull() const {
  // An empty memtable is never full, whatever its arena reserved.
  return mem_->entries() > 0 && (mem_->entries() >= options_.memtable_max_entries ||
                                 mem_->bytes() >= options_.memtable_max_bytes);
}

void DB::SwitchMemtable(std::unique_lock<std::mutex>& lock) {
  auto next = std::make_shared<Mem>(&pool_);  // first: it may throw
  switching_ = true;
  cv_.wait(lock, [&] { return inflight_ == 0; });
  imm_ = std::move(mem_);
  imm_wal_position_ = log_->size();
  ++switches_;
  mem_ = std::move(next);
  mem_->created_ns = options_.clock->MonotonicNanos();
  switching_ = false;
  cv_.notify_all();
}

Status DB::MakeRoom(std::unique_lock<std::mutex>& lock, bool may_stall) {
  while (true) {
    if (!bg_error_.ok()) return bg_error_;
    if (shutting_down_) return Status::InvalidArgument("the store is closed");
    if (switching_) {
      cv_.wait(lock);
    } else if (!MemFull()) {
      return Status::OK();
    } else if (imm_ != nullptr) {
      if (!may_stall) return Status::OK();
      // The flush is behind: wait for it rather than grow without bound.
      const int64_t start = MonotonicUs(options_.clock);
      ++stats_.stalls;
      cv_.wait(lock, [&] { return imm_ == nullptr || !bg_error_.ok() || shutting_down_; });
      stats_.stall_us += static_cast<uint64_t>(MonotonicUs(options_.clock) - start);
    } else {
      SwitchMemtable(lock);
    }
  }
}

Result<uint64_t> DB::Write(std::span<const WriteRecord> records, const ApplyFn& apply) {
  return WriteInternal(records, /*may_stall=*/true, apply);
}

Result<uint64_t> DB::WriteInternal(std::span<const WriteRecord> records, bool may_stall,
                                   const ApplyFn& apply) {
  if (records.empty()) return Status::InvalidArgument("empty write batch");
  std::vector<wal::Entry> entries(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const WriteRecord& r = records[i];
    if (r.key.size() != StorageKey::kSize || r.key[0] < 1 || r.key[0] > 3 ||
        (static_cast<uint8_t>(r.key[1]) & 0x80) != 0) {
      return Status::InvalidArgument(fmt::format("record {}: not a storage key", i));
    }
    if (r.record.size() < 2 || r.record[1] != r.key[0]) {
      return Status::InvalidArgument(fmt::format("record {}: kind differs from the key's", i));
    }
    entries[i] = {static_cast<uint8_t>(r.key[0]), r.record};
  }
  std::unique_lock lock(mu_);
  HANSHIRO_RETURN_IF_ERROR(MakeRoom(lock, may_stall));
  std::shared_ptr<Mem> mem = mem_;
  ++inflight_;
  lock.unlock();

  // The log throws only where the batch failed (a copy of its error).
  Result<uint64_t> first = [&]() -> Result<uint64_t> {
    try {
      return log_->WriteBatch(entries);
    } catch (const std::bad_alloc&) {
      return OutOfMemory();
    }
  }();
  bool added = true;
  if (first.ok()) {
    // The records are copied into the memtable's nodes here, by each writer
    // at once; only linking them in is serialized.
    thread_local Mem::Staged staged;
    // Out of memory, the batch still takes its turn, or every later writer
    // would wait for it; it is in the log but not (wholly) in the memtable,
    // so the store stops (see below) and the next open replays it.
    try {
      mem->Stage(*first, records, &staged);
    } catch (const std::bad_alloc&) {
      added = false;
    }
    // In log order: every batch before this one was committed in an earlier
    // or the same group, and its writer is applying it now. A failed group
    // fails every later one (the log's error is sticky), so no batch waits
    // for one that never comes.
    std::unique_lock write_lock(write_mu_);
    if (applied_ != *first) {
      thread_local std::condition_variable turn;
      bool listed = true;
      try {
        turns_.push_back({*first, &turn});
      } catch (const std::bad_alloc&) {
        listed = false;  // no one will wake it: it looks every millisecond
      }
      while (applied_ != *first) {
        if (listed) {
          turn.wait(write_lock);
        } else {
          turn.wait_for(write_lock, std::chrono::milliseconds(1));
        }
      }
      if (listed) std::erase_if(turns_, [&](const Turn& t) { return t.first == *first; });
    }
    if (added) {
      mem->Link(staged);
      try {
        if (apply) apply(*first);
      } catch (const std::bad_alloc&) {
        added = false;
      }
    }
    applied_ = *first + records.size();
    // Only the writer whose turn it is now wakes, not every one waiting.
    for (const Turn& t : turns_) {
      if (t.first == applied_) {
        t.cv->notify_one();
        break;
      }
    }
  }
  lock.lock();
  if (--inflight_ == 0) cv_.notify_all();
  if (first.ok() && !added) {
    // Sticky like a failed flush: no more writes, and no flush of a memtable
    // that lacks what the log holds. Set before mu_ is let go, whatever
    // building its message does.
    Status error = OutOfMemory();
    try {
      error = Status::IOError(fmt::format(
          "out of memory applying records {}..{}: they are in the log, and the store takes no "
          "more writes until it is reopened",
          *first, *first + records.size() - 1));
    } catch (const std::bad_alloc&) {
    }
    if (bg_error_.ok()) bg_error_ = std::move(error);
    cv_.notify_all();
    return bg_error_;
  }
  if (first.ok()) stats_.writes += records.size();
  return first;
}

DB::ReadState DB::Snapshot() const {
  std::lock_guard lock(mu_);
  return {mem_, imm_, version_};
}

Status DB::Get(std::string_view key, std::string* record, uint64_t* seq) const {
  const auto [mem, imm, v] = Snapshot();
  for (const Mem* m : {mem.get(), imm.get()}) {
    if (m != nullptr && m->records.Get(key, record, seq)) return Status::OK();
  }
  uint64_t best = 0;
  bool found = false;
  std::string value;
  for (const TableMeta& t : v->tables) {
    if (!t.MayHoldKey(key) || (found && t.max_seq < best)) continue;
    HANSHIRO_ASSIGN_OR_RETURN(auto table, table_cache_->Get(t.number));
    uint64_t s = 0;
    Status st = table->Get(key, &value, &s);
    if (st.IsNotFound()) continue;
    HANSHIRO_RETURN_IF_ERROR(st);
    if (!found || s > best) {
      found = true;
      best = s;
      record->swap(value);
    }
  }
  if (!found) return Status::NotFound(StorageKey::Decode(key).ok()
                                          ? StorageKey::Decode(key)->ToString()
                                          : std::string("key"));
  if (seq != nullptr) *seq = best;
  return Status::OK();
}

Result<std::optional<std::string>> DB::FindKey(std::string_view id) const {
  if (id.size() != 16) return Status::InvalidArgument("an id is 16 bytes");
  const auto [mem, imm, v] = Snapshot();
  for (const Mem* m : {mem.get(), imm.get()}) {
    if (m == nullptr) continue;
    if (auto key = m->FindKey(id)) return key;
  }
  for (const TableMeta& t : v->tables) {
    if (!t.MayHoldId(id)) continue;
    HANSHIRO_ASSIGN_OR_RETURN(auto table, table_cache_->Get(t.number));
    HANSHIRO_ASSIGN_OR_RETURN(std::optional<std::string> key, table->FindKey(id));
    if (key) return key;
  }
  return std::optional<std::string>();
}

std::unique_ptr<sstable::Iterator> DB::NewIterator(std::string lower, std::string upper,
                                                   bool fill_cache) const {
  const auto [mem, imm, v] = Snapshot();
  std::vector<std::unique_ptr<sstable::Iterator>> children;
  children.push_back(NewMemIterator(mem));
  if (imm) children.push_back(NewMemIterator(imm));
  for (const TableMeta& t : v->tables) {
    if (t.max_key < lower || (!upper.empty() && t.min_key >= upper)) continue;
    auto table = table_cache_->Get(t.number);
    if (!table.ok()) {
      children.push_back(std::make_unique<ErrorIterator>(table.status()));
      continue;
    }
    children.push_back((*table)->NewIterator(fill_cache));
  }
  auto merged = NewMergingIterator(std::move(children));
  if (!lower.empty()) merged = std::make_unique<BoundedIterator>(std::move(merged), lower);
  return NewNewestIterator(std::move(merged), std::move(upper));
}

namespace {

// Skips entries older than min_seq.
class SinceIterator final : public sstable::Iterator {
 public:
  SinceIterator(std::unique_ptr<sstable::Iterator> base, uint64_t min_seq)
      : base_(std::move(base)), min_seq_(min_seq) {}
  bool Valid() const override { return base_->Valid(); }
  void SeekToFirst() override {
    base_->SeekToFirst();
    Skip();
  }
  void Seek(std::string_view t) override {
    base_->Seek(t);
    Skip();
  }
  void Next() override {
    base_->Next();
    Skip();
  }
  std::string_view key() const override { return base_->key(); }
  uint64_t seq() const override { return base_->seq(); }
  std::string_view value() const override { return base_->value(); }
  Status status() const override { return base_->status(); }

 private:
  void Skip() {
    while (base_->Valid() && base_->seq() < min_seq_) base_->Next();
  }
  std::unique_ptr<sstable::Iterator> base_;
  const uint64_t min_seq_;
};

}  // namespace

std::unique_ptr<sstable::Iterator> DB::NewInternalIterator(uint64_t min_seq) const {
  const auto [mem, imm, v] = Snapshot();
  std::vector<std::unique_ptr<sstable::Iterator>> children;
  children.push_back(NewMemIterator(mem));
  if (imm) children.push_back(NewMemIterator(imm));
  for (const TableMeta& t : v->tables) {
    if (t.max_seq < min_seq) continue;
    auto table = table_cache_->Get(t.number);
    if (!table.ok()) {
      children.push_back(std::make_unique<ErrorIterator>(table.status()));
    } else {
      children.push_back((*table)->NewIterator(false));
    }
  }
  auto merged = NewMergingIterator(std::move(children));
  if (min_seq == 0) return merged;
  return std::make_unique<SinceIterator>(std::move(merged), min_seq);
}

// ---------------------------------------------------------------------------
// Background work

Status DB::Flush() {
  std::unique_lock lock(mu_);
  while (true) {
    if (!bg_error_.ok()) return bg_error_;
    if (shutting_down_) return Status::InvalidArgument("the store is closed");
    if (switching_ || imm_ != nullptr) {
      cv_.wait(lock);
      continue;
    }
    if (mem_->entries() == 0) return Status::OK();
    SwitchMemtable(lock);
    const uint64_t target = switches_;
    cv_.wait(lock, [&] { return flushed_ >= target || !bg_error_.ok() || shutting_down_; });
    if (flushed_ >= target) return Status::OK();
    return bg_error_.ok() ? Status::InvalidArgument("the store is closed") : bg_error_;
  }
}

Status DB::RunInBackground(uint64_t* requested, const uint64_t* done) {
  std::unique_lock lock(mu_);
  const uint64_t ticket = ++*requested;
  cv_.notify_all();
  cv_.wait(lock, [&] { return *done >= ticket || !bg_error_.ok() || shutting_down_; });
  if (*done >= ticket) return Status::OK();
  return bg_error_.ok() ? Status::InvalidArgument("the store is closed") : bg_error_;
}

Status DB::Compact() { return RunInBackground(&compact_requested_, &compact_done_); }
Status DB::ApplyRetention() { return RunInBackground(&retention_requested_, &retention_done_); }

void DB::BackgroundLoop() {
  std::unique_lock lock(mu_);
  int64_t last_compaction = options_.clock->MonotonicNanos();
  const int64_t flush_interval = static_cast<int64_t>(options_.flush_interval_ms) * 1'000'000;
  const int64_t compaction_interval =
      static_cast<int64_t>(options_.compaction_interval_ms) * 1'000'000;
  while (!shutting_down_) {
    const int64_t now = options_.clock->MonotonicNanos();
    const bool failed = !bg_error_.ok();
    const bool interval_due =
        compaction_interval > 0 && now - last_compaction >= compaction_interval;
    Status s;
    if (failed) {
      cv_.notify_all();  // waiters see the error
      cv_.wait(lock);
      continue;
    }
    if (imm_ != nullptr) {
      const uint64_t target = switches_;
      lock.unlock();
      // Read each time: whoever reniced this thread meanwhile is kept.
      const std::optional<int> base =
          options_.flush_priority_boost > 0 ? ThreadNice() : std::nullopt;
      if (base) SetThreadNice(*base - options_.flush_priority_boost);
      s = FlushImmutable();
      if (base) SetThreadNice(*base);
      lock.lock();
      if (s.ok()) {
        imm_ = nullptr;
        flushed_ = target;
      }
    } else if (flush_interval > 0 && mem_->entries() > 0 && !switching_ &&
               now - mem_->created_ns >= flush_interval) {
      SwitchMemtable(lock);
      continue;
    } else if (compact_requested_ > compact_done_ || interval_due ||
               NeedsCompaction(*version_, options_.l0_compaction_trigger)) {
      const uint64_t ticket = compact_requested_;
      const bool force = ticket > compact_done_ || interval_due;
      bool complete = true;
      lock.unlock();
      s = RunCompactions(force, &complete);
      if (s.ok() && interval_due && options_.retention_ns > 0) s = RunRetention();
      lock.lock();
      if (s.ok() && complete) compact_done_ = ticket;
      last_compaction = options_.clock->MonotonicNanos();
    } else if (retention_requested_ > retention_done_) {
      const uint64_t ticket = retention_requested_;
      lock.unlock();
      s = RunRetention();
      lock.lock();
      if (s.ok()) retention_done_ = ticket;
    } else {
      // Sleep until a request, or the next timer.
      int64_t wait_ns = INT64_MAX;
      if (flush_interval > 0 && mem_->entries() > 0) {
        wait_ns = std::min(wait_ns, mem_->created_ns + flush_interval - now);
      }
      if (compaction_interval > 0) {
        wait_ns = std::min(wait_ns, last_compaction + compaction_interval - now);
      }
      if (!pending_deletes_.empty()) {
        lock.unlock();
        DeleteObsoleteTables(/*all=*/false);
        lock.lock();
        wait_ns = std::min<int64_t>(wait_ns, 100'000'000);  // look again soon
      }
      if (wait_ns == INT64_MAX) {
        cv_.wait(lock);
      } else {
        cv_.wait_for(lock, std::chrono::nanoseconds(std::max<int64_t>(wait_ns, 1'000'000)));
      }
      continue;
    }
    if (!s.ok() && bg_error_.ok()) bg_error_ = s;
    cv_.notify_all();
  }
  cv_.notify_all();
}

Status DB::WriteTables(sstable::Iterator* it, std::string_view limit, int level,
                       std::vector<TableMeta>* out, uint64_t* bytes) {
  Env* env = options_.env;
  const int64_t window = version_->window_ns;  // fixed for the store's life
  std::unique_ptr<WritableFile> file;
  std::unique_ptr<sstable::TableBuilder> builder;
  TableMeta meta;
  char prev_key[StorageKey::kSize] = {};

  auto finish = [&]() -> Status {
    HANSHIRO_RETURN_IF_ERROR(builder->Finish());
    const sstable::Footer& f = builder->footer();
    meta.file_size = builder->file_size();
    meta.entries = f.entries;
    meta.min_key = f.min_key;
    meta.max_key = f.max_key;
    meta.min_seq = f.min_seq;
    meta.max_seq = f.max_seq;
    meta.min_id = f.min_id;
    meta.max_id = f.max_id;
    meta.min_time = f.min_time;
    meta.max_time = f.max_time;
    *bytes += meta.file_size;
    out->push_back(meta);
    builder.reset();
    file.reset();
    return Status::OK();
  };

  for (; it->Valid(); it->Next()) {
    const std::string_view key = it->key();
    if (!limit.empty() && key >= limit) break;
    const int64_t partition = PartitionOf(KeyTime(key), window);
    if (builder != nullptr &&
        (key[0] != meta.min_key[0] || partition != meta.partition ||
         (builder->FileSizeEstimate() >= options_.target_file_size &&
          key != std::string_view(prev_key, sizeof(prev_key))))) {
      HANSHIRO_RETURN_IF_ERROR(finish());
    }
    if (builder == nullptr) {
      meta = TableMeta();
      meta.number = next_table_.fetch_add(1);
      meta.level = level;
      meta.partition = partition;
      meta.min_key.assign(key);
      HANSHIRO_ASSIGN_OR_RETURN(
          file, env->NewDirectWritableFile(JoinPath(tables_dir_, sstable::TableFileName(meta.number))));
      builder = std::make_unique<sstable::TableBuilder>(options_.table, file.get());
    }
    HANSHIRO_RETURN_IF_ERROR(builder->Add(key, it->seq(), it->value()));
    std::memcpy(prev_key, key.data(), sizeof(prev_key));
  }
  HANSHIRO_RETURN_IF_ERROR(it->status());
  if (builder != nullptr) HANSHIRO_RETURN_IF_ERROR(finish());
  return Status::OK();
}

Status DB::WriteMemTables(const std::shared_ptr<Mem>& mem, std::vector<TableMeta>* out,
                          uint64_t* bytes) {
  // Halves of a large memtable are written by two threads: one thread
  // leaves most of the second core idle whenever writers wait for the flush
  // or the flush waits for the disk. The halves' tables do not overlap.
  const bool split = options_.parallel_flush && mem->entries() >= kParallelFlushMinEntries;
  const std::string middle = split ? mem->records.ApproximateMiddleKey() : std::string();
  auto first = NewMemIterator(mem);
  first->SeekToFirst();
  if (middle.empty()) return WriteTables(first.get(), {}, 0, out, bytes);
  std::vector<TableMeta> upper_out;
  uint64_t upper_bytes = 0;
  Status upper;
  auto write_upper = [&] {
    auto it = NewMemIterator(mem);
    it->Seek(middle);
    upper = WriteTables(it.get(), {}, 0, &upper_out, &upper_bytes);
  };
  if (flush_helper_ == nullptr) {
    try {
      flush_helper_ = std::make_unique<FlushHelper>();
    } catch (const std::system_error&) {
      // No thread to be had: the halves one after the other.
    }
  }
  if (flush_helper_ != nullptr) {
    flush_helper_->Start(write_upper);
  } else {
    write_upper();
  }
  Status lower;
  {
    // The helper's job refers to this frame: wait for it however we leave.
    struct WaitForHelper {
      FlushHelper* helper;
      ~WaitForHelper() {
        if (helper != nullptr) helper->Wait();
      }
    } wait{flush_helper_.get()};
    lower = WriteTables(first.get(), middle, 0, out, bytes);
  }
  HANSHIRO_RETURN_IF_ERROR(lower);
  HANSHIRO_RETURN_IF_ERROR(upper);
  out->insert(out->end(), upper_out.begin(), upper_out.end());
  *bytes += upper_bytes;
  return Status::OK();
}

Status DB::FlushImmutable() {
  std::shared_ptr<Mem> imm;
  uint64_t wal_position;
  {
    std::lock_guard lock(mu_);
    imm = imm_;
    wal_position = imm_wal_position_;
  }
  const int64_t start = MonotonicUs(options_.clock);
  std::vector<TableMeta> outputs;
  uint64_t bytes = 0;
  HANSHIRO_RETURN_IF_ERROR(WriteMemTables(imm, &outputs, &bytes));
  if (!outputs.empty()) HANSHIRO_RETURN_IF_ERROR(options_.env->SyncDir(tables_dir_));
  // The manifest will say the log need not be replayed below wal_position:
  // with sync off, the log must first be durable that far, or a power cut
  // could leave tables holding records the log no longer has.
  if (!options_.sync_on_write) HANSHIRO_RETURN_IF_ERROR(log_->Sync());
  auto next = std::make_shared<Version>(*current());
  next->tables.insert(next->tables.end(), outputs.begin(), outputs.end());
  next->wal_position = std::max(next->wal_position, wal_position);
  const uint64_t in_tables_below = next->wal_position;
  HANSHIRO_RETURN_IF_ERROR(InstallVersion(next, {}));
  RemoveLogSegments(in_tables_below);
  std::lock_guard lock(mu_);
  ++stats_.flushes;
  stats_.flush_bytes += bytes;
  stats_.flush_us += static_cast<uint64_t>(MonotonicUs(options_.clock) - start);
  return Status::OK();
}

void DB::RemoveLogSegments(uint64_t in_tables_below) {
  // The records below in_tables_below were applied before their memtable
  // became immutable, so the sync covers them. It runs only when a segment
  // is due to go; when it fails, the segments stay.
  Result<size_t> removed = log_->RemoveSegmentsBelow(in_tables_below, options_.sync_applied);
  std::lock_guard lock(mu_);
  if (removed.ok()) stats_.log_segments_removed += *removed;
}

Status DB::RunCompactions(bool force, bool* complete) {
  *complete = true;
  // Each round either moves or merges something, so this ends.
  while (auto plan = PickCompaction(*current(), options_.l0_compaction_trigger, force)) {
    const int64_t start = MonotonicUs(options_.clock);
    auto next = std::make_shared<Version>(*current());
    std::vector<uint64_t> obsolete;
    for (TableMeta& t : next->tables) {
      if (std::find(plan->moves.begin(), plan->moves.end(), t.number) != plan->moves.end()) {
        t.level = 1;
      }
    }
    uint64_t read = 0, written = 0;
    for (const std::vector<TableMeta>& group : plan->merges) {
      std::vector<std::unique_ptr<sstable::Iterator>> inputs;
      for (const TableMeta& t : group) {
        HANSHIRO_ASSIGN_OR_RETURN(auto table, table_cache_->Get(t.number));
        inputs.push_back(table->NewIterator(/*fill_cache=*/false));
        read += t.file_size;
        obsolete.push_back(t.number);
      }
      auto merged = NewMergingIterator(std::move(inputs));
      std::vector<TableMeta> outputs;
      merged->SeekToFirst();
      HANSHIRO_RETURN_IF_ERROR(WriteTables(merged.get(), {}, 1, &outputs, &written));
      next->tables.insert(next->tables.end(), outputs.begin(), outputs.end());
    }
    if (written > 0) HANSHIRO_RETURN_IF_ERROR(options_.env->SyncDir(tables_dir_));
    std::erase_if(next->tables, [&](const TableMeta& t) {
      return std::find(obsolete.begin(), obsolete.end(), t.number) != obsolete.end();
    });
    HANSHIRO_RETURN_IF_ERROR(InstallVersion(next, obsolete));
    std::lock_guard lock(mu_);
    stats_.trivial_moves += plan->moves.size();
    stats_.compactions += plan->merges.size();
    stats_.compaction_bytes_read += read;
    stats_.compaction_bytes_written += written;
    stats_.compaction_us += static_cast<uint64_t>(MonotonicUs(options_.clock) - start);
    // A flush waiting behind a long compaction would stall writers: let it
    // go first, and come back.
    if (imm_ != nullptr) {
      *complete = PickCompaction(*version_, options_.l0_compaction_trigger, force) == std::nullopt;
      break;
    }
  }
  return Status::OK();
}

Status DB::RunRetention() {
  if (options_.retention_ns <= 0) return Status::OK();
  const int64_t now = options_.clock->NowUnixNanos();
  const int64_t cutoff = now - options_.retention_ns;
  std::shared_ptr<const Version> v = current();
  std::map<int64_t, DroppedPartition> drops;
  for (const TableMeta& t : v->tables) {
    if (t.partition + v->window_ns > cutoff) continue;
    DroppedPartition& d = drops[t.partition];
    if (d.tables == 0) {
      d.partition = t.partition;
      d.min_seq = t.min_seq;
      d.max_seq = t.max_seq;
    }
    ++d.tables;
    d.entries += t.entries;
    d.bytes += t.file_size;
    d.min_seq = std::min(d.min_seq, t.min_seq);
    d.max_seq = std::max(d.max_seq, t.max_seq);
    d.dropped_at_ns = now;
  }
  for (const auto& drop : drops) {
    const int64_t partition = drop.first;  // named: lambdas below capture it
    const DroppedPartition& d = drop.second;
    // First the log: a crash after it and before the manifest only repeats
    // the drop; the other order could lose records without a trace.
    IndexEntry entry;
    entry.id = ids_.Next();
    entry.time_ns = now;
    entry.field = std::string(kRetentionField);
    entry.value = fmt::format(
        "dropped partition {} (window {} s): {} tables, {} records, seq {}..{}", partition,
        v->window_ns / 1'000'000'000, d.tables, d.entries, d.min_seq, d.max_seq);
    std::string rec;
    HANSHIRO_RETURN_IF_ERROR(record::Encode(entry, &rec));
    const StorageKey key = StorageKey::For(entry);
    const WriteRecord w{key.view(), rec};
    HANSHIRO_RETURN_IF_ERROR(WriteInternal({&w, 1}, /*may_stall=*/false, nullptr).status());

    auto next = std::make_shared<Version>(*current());
    std::vector<uint64_t> obsolete;
    std::erase_if(next->tables, [&](const TableMeta& t) {
      if (t.partition != partition) return false;
      obsolete.push_back(t.number);
      return true;
    });
    auto old = std::find_if(next->dropped.begin(), next->dropped.end(),
                            [&](const DroppedPartition& x) { return x.partition == partition; });
    if (old == next->dropped.end()) {
      next->dropped.push_back(d);
    } else {
      old->tables += d.tables;
      old->entries += d.entries;
      old->bytes += d.bytes;
      old->min_seq = std::min(old->min_seq, d.min_seq);
      old->max_seq = std::max(old->max_seq, d.max_seq);
      old->dropped_at_ns = now;
    }
    HANSHIRO_RETURN_IF_ERROR(InstallVersion(next, obsolete));
    std::lock_guard lock(mu_);
    ++stats_.retention_drops;
  }
  return Status::OK();
}

Status DB::InstallVersion(std::shared_ptr<Version> next, const std::vector<uint64_t>& obsolete) {
  next->edit = current()->edit + 1;
  next->next_table = next_table_.load();
  next->Sort();
  HANSHIRO_RETURN_IF_ERROR(manifest::Install(options_.env, dir_, *next));
  std::shared_ptr<const Version> old;
  {
    std::lock_guard lock(mu_);
    old = std::exchange(version_, std::move(next));
  }
  if (!obsolete.empty()) pending_deletes_.push_back({old, obsolete});
  old.reset();
  DeleteObsoleteTables(/*all=*/false);
  return Status::OK();
}

void DB::DeleteObsoleteTables(bool all) {
  // A reader may still hold an older version listing the tables and not
  // have opened them yet: a table goes once its version and every older
  // one are gone. (A file left behind by a crash is an orphan: the next
  // open deletes it.)
  size_t done = 0;
  while (done < pending_deletes_.size() && (all || pending_deletes_[done].version.expired())) {
    for (const uint64_t number : pending_deletes_[done].tables) {
      table_cache_->Evict(number);
      (void)options_.env->RemoveFile(JoinPath(tables_dir_, sstable::TableFileName(number)));
    }
    ++done;
  }
  pending_deletes_.erase(pending_deletes_.begin(), pending_deletes_.begin() + static_cast<ptrdiff_t>(done));
}

bool DB::WouldStall() const {
  std::lock_guard lock(mu_);
  return bg_error_.ok() && imm_ != nullptr && MemFull();  // after an error, writes fail instead
}

uint64_t DB::applied() const {
  std::lock_guard lock(write_mu_);
  return applied_;
}

std::shared_ptr<const Version> DB::current() const {
  std::lock_guard lock(mu_);
  return version_;
}

Status DB::Close() {
  std::lock_guard close_lock(close_mu_);
  bool first = false;
  {
    std::lock_guard lock(mu_);
    first = !shutting_down_;
    shutting_down_ = true;
    cv_.notify_all();
  }
  if (first) {
    if (bg_.joinable()) bg_.join();
    flush_helper_.reset();
    try {
      if (table_cache_) DeleteObsoleteTables(/*all=*/true);
    } catch (const std::bad_alloc&) {
      // Out of memory (from ~DB, a throw would end the process): the tables
      // left are orphans, which the next open deletes.
    }
  }
  // A log whose Close was Busy (out of memory) is closed again by the next
  // call.
  if (!log_ || log_->closed()) return Status::OK();
  return log_->Close();
}

Stats DB::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.memtable_entries = mem_->entries();
  s.memtable_bytes = mem_->bytes();
  s.immutable_bytes = imm_ ? imm_->bytes() : 0;
  s.tables = version_->tables.size();
  s.level0_tables = static_cast<uint64_t>(std::count_if(
      version_->tables.begin(), version_->tables.end(), [](const TableMeta& t) { return t.level == 0; }));
  s.table_bytes = version_->TotalBytes();
  s.open_tables = table_cache_->open();
  s.block_cache_bytes = block_cache_.bytes();
  s.block_cache_hits = block_cache_.hits();
  s.block_cache_misses = block_cache_.misses();
  s.wal_position = version_->wal_position;
  return s;
}

}  // namespace hanshiro::lsm
