#include "wal/log.h"

#include <algorithm>
#include <chrono>
#include <new>

#include <fmt/format.h>

#include "integrity/merkle.h"
#include "wal/segment.h"

namespace hanshiro::wal {

struct Log::Writer {
  enum class Control { kNone, kCheckpoint, kSync, kClose };
  std::span<const Entry> entries;
  Control control = Control::kNone;
  uint64_t first_seq = 0;
  std::string buf;               // the encoded records
  integrity::RangeNodes nodes;   // their leaf hashes and the tree nodes among them
  bool prepared = false;         // guarded by mu_
  bool done = false;             // guarded by mu_
  bool failed = false;           // guarded by mu_; its group failed: the log's error_ says why
  std::optional<integrity::Checkpoint> checkpoint;
  std::condition_variable cv;
};

namespace {

constexpr std::string_view kCheckpointFile = "CHECKPOINT";

// The error for running out of memory once a batch has its place in the
// log. Short enough for the string's own buffer (15 characters in
// libstdc++), so making and copying it needs no memory.
Status NoMemory() { return Status::IOError("wal: no memory"); }

// Runs fn (which returns a Status), turning running out of memory into
// NoMemory(): an exception thrown out of the queue would leave every writer
// behind it waiting for ever.
template <typename Fn>
Status Guarded(Fn&& fn) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    return NoMemory();
  }
}

// Longest a leader waits for writers recent groups released (sync on).
constexpr uint64_t kCatchUpMaxUs = 200;

// Most commit groups one fsync covers (sync on).
constexpr size_t kMaxGroupsPerSync = 16;

// Every this many bytes of a segment, the leader asks for the written part
// to go to disk and leave the page cache (WritableFile::DropCacheBefore).
constexpr uint64_t kCacheReleaseBytes = uint64_t{32} << 20;

uint64_t NowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Recovery's tree: leaves below the checkpoint go into a tree rebuilt from
// the ledger at the replay start, which must reach the checkpoint's root
// exactly at a group boundary; later leaves extend the ledger.
class RecoverySink final : public TreeSink {
 public:
  RecoverySink(integrity::Ledger* ledger, uint64_t trusted,
               const std::optional<integrity::Checkpoint>& checkpoint, integrity::CompactTree below)
      : ledger_(ledger), trusted_(trusted), checkpoint_(checkpoint), below_(std::move(below)) {}

  uint64_t size() const override {
    return below_.size() < trusted_ ? below_.size() : ledger_->size();
  }
  Hash256 Root() const override {
    return below_.size() < trusted_ ? below_.Root() : ledger_->Root();
  }

  Status Append(const Group& g, size_t first) override {
    const auto leaves = g.leaves.subspan(first);
    const uint64_t begin = size();
    const uint64_t end = begin + leaves.size();
    if (begin >= trusted_) return ledger_->Append(leaves);
    if (end > trusted_) {
      return Status::IntegrityBroken(fmt::format(
          "{}: the signed checkpoint's tree size {} falls inside the commit group of records "
          "{}..{} (commit at offset {})",
          *g.file, trusted_, begin, end - 1, g.commit_offset));
    }
    // Locate a record that differs from the ledger's copy of its leaf.
    HANSHIRO_RETURN_IF_ERROR(ledger_->ReadEntries(0, begin, leaves.size(), &stored_));
    for (size_t i = 0; i < leaves.size(); ++i) {
      if (stored_[i] != leaves[i]) {
        return Status::IntegrityBroken(fmt::format(
            "{}: record {} (offset {}) hashes to a leaf that differs from {} entry {} [LED-4]",
            *g.file, begin + i, g.records[first + i].offset, ledger_->LevelFileName(0),
            begin + i));
      }
    }
    below_.Append(leaves);
    if (end == trusted_ && checkpoint_ && below_.Root() != checkpoint_->head.root) {
      return Status::IntegrityBroken(fmt::format(
          "{}: the tree rebuilt from the records up to the commit at offset {} differs from the "
          "signed checkpoint of size {}",
          *g.file, g.commit_offset, trusted_));
    }
    return Status::OK();
  }

 private:
  integrity::Ledger* ledger_;
  const uint64_t trusted_;
  const std::optional<integrity::Checkpoint>& checkpoint_;
  integrity::CompactTree below_;
  std::vector<Hash256> stored_;
};

// Verify rebuilds the tree in memory and compares every leaf and every
// stored tile entry with the ledger.
class VerifySink final : public TreeSink {
 public:
  VerifySink(const integrity::Ledger* ledger, VerifyReport* report)
      : ledger_(ledger), report_(report) {}
  void set_checkpoint_size(uint64_t size) { checkpoint_size_ = size; }
  uint64_t size() const override { return tree_.size(); }
  Hash256 Root() const override { return tree_.Root(); }

  Status Append(const Group& g, size_t first) override {
    const auto leaves = g.leaves.subspan(first);
    const uint64_t start = tree_.size();
    if (start < checkpoint_size_ && start + leaves.size() > checkpoint_size_) {
      return Status::IntegrityBroken(fmt::format(
          "{}: the signed checkpoint's tree size {} falls inside the commit group of records "
          "{}..{} (commit at offset {})",
          *g.file, checkpoint_size_, start, start + leaves.size() - 1, g.commit_offset));
    }
    HANSHIRO_RETURN_IF_ERROR(ledger_->ReadEntries(0, start, leaves.size(), &stored_)
                                 .WithContext("ledger level 0"));
    for (size_t i = 0; i < leaves.size(); ++i) {
      if (stored_[i] != leaves[i]) {
        return Status::IntegrityBroken(fmt::format(
            "{}: leaf hash of seq {} (offset {}) differs from the one recomputed from {} offset "
            "{} [LED-4]",
            ledger_->LevelFileName(0), start + i, integrity::Ledger::EntryOffset(start + i),
            *g.file, g.records[first + i].offset));
      }
    }
    return AppendChecked(leaves);
  }

  // The leaves of records no longer in the log (their segments were removed
  // once the records were durable elsewhere), as the ledger holds them, up to
  // tree size `n`: every node above them is still recomputed and compared.
  Status AppendFromLedger(uint64_t n) {
    std::vector<Hash256> leaves;
    while (tree_.size() < n) {
      const uint64_t count = std::min<uint64_t>(n - tree_.size(), 1 << 16);
      HANSHIRO_RETURN_IF_ERROR(ledger_->ReadEntries(0, tree_.size(), count, &leaves)
                                   .WithContext("ledger level 0"));
      HANSHIRO_RETURN_IF_ERROR(AppendChecked(leaves));
    }
    return Status::OK();
  }

 private:
  Status AppendChecked(std::span<const Hash256> leaves) {
    Status s;
    const integrity::NodeSink sink = [&](int height, uint64_t index,
                                         std::span<const Hash256> nodes) {
      if (height % integrity::Ledger::kTileHeight != 0 || !s.ok()) return;
      const int level = height / integrity::Ledger::kTileHeight;
      s = ledger_->ReadEntries(level, index, nodes.size(), &stored_);
      for (size_t i = 0; s.ok() && i < nodes.size(); ++i) {
        if (stored_[i] != nodes[i]) {
          s = Status::IntegrityBroken(fmt::format(
              "{}: entry {} (offset {}) differs from the node recomputed from the records [LED-4]",
              ledger_->LevelFileName(level), index + i,
              integrity::Ledger::EntryOffset(index + i)));
        }
      }
      report_->ledger_entries_checked += nodes.size();
    };
    tree_.Append(leaves, &sink);
    report_->ledger_entries_checked += leaves.size();
    return s;
  }

  const integrity::Ledger* ledger_;
  VerifyReport* report_;
  integrity::CompactTree tree_;
  std::vector<Hash256> stored_;
  uint64_t checkpoint_size_ = 0;
};

// Reads a file that is at most `max` bytes long (Corruption otherwise), so a
// damaged or hostile file cannot make us allocate its size.
Result<std::string> ReadSmallFile(Env* env, const std::string& path, uint64_t max) {
  HANSHIRO_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(path));
  if (size > max) {
    return Status::Corruption(fmt::format("{}: {} bytes, expected at most {}", path, size, max));
  }
  return ReadFileToString(env, path);
}

Result<std::vector<uint64_t>> ListSegments(Env* env, const std::string& dir) {
  HANSHIRO_ASSIGN_OR_RETURN(auto names, env->GetChildren(dir));
  std::vector<uint64_t> numbers;
  for (const std::string& name : names) {
    if (uint64_t n = ParseSegmentFileName(name); n != 0) numbers.push_back(n);
  }
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

}  // namespace

Log::Log(const Options& options, std::string dir)
    : options_(options),
      dir_(std::move(dir)),
      wal_dir_(JoinPath(dir_, "wal")),
      integrity_dir_(JoinPath(dir_, "integrity")) {}

Log::~Log() {
  bool closed;
  {
    std::lock_guard lock(mu_);
    closed = closed_;
  }
  if (!closed) (void)Close();
}

Result<std::unique_ptr<Log>> Log::Open(const Options& options, const std::string& dir,
                                       uint64_t replay_from, const ReplayFn& replay) {
  if (options.env == nullptr || options.max_batch_size == 0 || options.max_file_size == 0) {
    return Status::InvalidArgument("wal options: env, max_batch_size and max_file_size are required");
  }
  std::unique_ptr<Log> log(new Log(options, dir));
  Status s = log->Recover(replay_from, replay);
  if (!s.ok()) {
    log->closed_ = true;  // nothing to close: the destructor just releases
    return s;
  }
  return log;
}

Status Log::LoadCheckpoint(uint64_t* trusted) {
  *trusted = 0;
  const std::string path = JoinPath(integrity_dir_, kCheckpointFile);
  if (!options_.env->FileExists(path)) return Status::OK();
  HANSHIRO_ASSIGN_OR_RETURN(std::string bytes,
                            ReadSmallFile(options_.env, path, integrity::kCheckpointSize));
  HANSHIRO_ASSIGN_OR_RETURN(integrity::Checkpoint cp, integrity::DecodeCheckpoint(bytes));
  HANSHIRO_RETURN_IF_ERROR(integrity::VerifyCheckpoint(cp, public_key_));
  checkpoint_ = cp;
  *trusted = cp.head.size;
  return Status::OK();
}

Status Log::Recover(uint64_t replay_from, const ReplayFn& replay) {
  Env* env = options_.env;
  HANSHIRO_RETURN_IF_ERROR(CreateDirDurably(env, dir_));
  HANSHIRO_RETURN_IF_ERROR(CreateDirDurably(env, wal_dir_));
  HANSHIRO_ASSIGN_OR_RETURN(lock_, env->LockFile(JoinPath(wal_dir_, "LOCK")));

  // 1. The signed checkpoint (size `trusted`) and the ledger up to it.
  uint64_t trusted = 0;
  Status broken;
  if (options_.integrity) {
    HANSHIRO_RETURN_IF_ERROR(CreateDirDurably(env, integrity_dir_));
    HANSHIRO_ASSIGN_OR_RETURN(
        key_, integrity::LoadOrCreateSigningKey(env, JoinPath(integrity_dir_, "signing.key")));
    public_key_ = key_->public_key();
    HANSHIRO_ASSIGN_OR_RETURN(ledger_,
                              integrity::Ledger::Open(env, JoinPath(integrity_dir_, "ledger")));
    broken = LoadCheckpoint(&trusted).WithContext(JoinPath(integrity_dir_, kCheckpointFile));
    if (broken.ok()) broken = ledger_->Truncate(trusted);
    if (broken.ok() && checkpoint_ && ledger_->Root() != checkpoint_->head.root) {
      broken = Status::IntegrityBroken(fmt::format(
          "{}: the tree of the first {} leaves differs from the signed checkpoint (run verify "
          "to locate the entry) [LED-4]",
          ledger_->LevelFileName(0), trusted));
    }
  }
  recovery_.checkpoint_size = trusted;

  // 2. The segments; a last one whose creation a crash cut short goes.
  HANSHIRO_ASSIGN_OR_RETURN(std::vector<uint64_t> numbers, ListSegments(env, wal_dir_));
  uint64_t next_number = numbers.empty() ? 1 : numbers.back() + 1;
  if (!numbers.empty()) {
    const std::string last = SegmentFileName(wal_dir_, numbers.back());
    auto reader = SegmentReader::Open(env, last, UINT64_MAX);
    if (!reader.ok() && reader.status().IsNotFound()) {
      HANSHIRO_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(last));
      recovery_.torn = TornTail{last, 0, size, true};
      HANSHIRO_RETURN_IF_ERROR(TruncateTornTail(*recovery_.torn));
      next_number = numbers.back();
      numbers.pop_back();
    }
  }
  if (broken.ok() && numbers.empty() && trusted > 0) {
    broken = Status::Corruption(
        fmt::format("wal: no segments, but the signed checkpoint covers {} records", trusted));
  }

  // 3. Replay from the last segment that starts at or before both the
  // checkpoint and replay_from: records before the checkpoint are hashed
  // into a tree that must reach the checkpoint's root; later ones extend the
  // ledger.
  ScanResult scan;
  scan.next_seq = trusted;
  if (broken.ok() && !numbers.empty()) {
    // Records below the first segment left were durable elsewhere before
    // their segments were removed (RemoveSegmentsBelow): nothing to replay.
    if (auto first = SegmentReader::Open(env, SegmentFileName(wal_dir_, numbers.front()), UINT64_MAX); first.ok()) {
      replay_from = std::max(replay_from, (*first)->header().first_seq);
    }
    size_t start = 0;
    broken = FindReplayStart(numbers, options_.integrity ? std::min(trusted, replay_from) : replay_from, &start);
    std::optional<RecoverySink> sink;
    if (broken.ok() && options_.integrity) {
      auto below = ledger_->CompactTreeAt(start_seq_);
      if (below.ok()) {
        sink.emplace(ledger_.get(), trusted, checkpoint_, std::move(below).value());
      } else {
        broken = below.status();
      }
    }
    if (broken.ok()) {
      ScanParams params;
      params.integrity = options_.integrity;
      params.tree = sink ? &*sink : nullptr;
      params.on_group = [&](const Group& g) -> Status {
        for (const GroupRecord& r : g.records) {
          if (r.seq < replay_from) continue;
          if (replay) HANSHIRO_RETURN_IF_ERROR(replay(r.seq, r.kind, r.payload));
          ++recovery_.replayed;
        }
        return Status::OK();
      };
      scan = ScanSegments(env, wal_dir_, std::span(numbers).subspan(start), params);
      broken = scan.error;
    }
    if (broken.ok() && scan.next_seq < trusted) {
      broken = Status::IntegrityBroken(fmt::format(
          "wal {:06d}: log ends at seq {} but the signed checkpoint covers {} records",
          numbers.back(), scan.next_seq, trusted));
    }
  }
  if (!broken.ok()) {
    // Refuse writes; what was recovered stays readable and Verify still runs.
    recovery_.broken = broken;
    error_ = broken;
    committed_segment_ = numbers.empty() ? 0 : numbers.back();
    committed_segment_bytes_ = UINT64_MAX;
    committed_.store(scan.next_seq);
    return Status::OK();
  }

  // 4. Cut a torn tail, start a new segment, and sign what was replayed.
  if (scan.torn) {
    HANSHIRO_RETURN_IF_ERROR(TruncateTornTail(*scan.torn));
    recovery_.torn = scan.torn;
  }
  next_seq_ = scan.next_seq;
  committed_.store(scan.next_seq);
  recovery_.tree_size = scan.next_seq;
  HANSHIRO_CHECK(!options_.integrity || ledger_->size() == scan.next_seq);
  HANSHIRO_RETURN_IF_ERROR(StartSegment(next_number));
  if (options_.integrity && scan.next_seq > trusted) {
    HANSHIRO_RETURN_IF_ERROR(SignAndStore().status());
  }
  return Status::OK();
}

Status Log::FindReplayStart(const std::vector<uint64_t>& numbers, uint64_t target, size_t* start) {
  for (size_t i = numbers.size(); i-- > 0;) {
    auto reader =
        SegmentReader::Open(options_.env, SegmentFileName(wal_dir_, numbers[i]), UINT64_MAX);
    if (!reader.ok()) continue;  // the scan reports it, if it matters
    if ((*reader)->header().first_seq <= target) {
      *start = i;
      start_seq_ = (*reader)->header().first_seq;
      return Status::OK();
    }
  }
  return Status::Corruption(fmt::format(
      "wal {:06d}: no segment holds seq {} (checkpoint or replay start) [WAL-12]",
      numbers.front(), target));
}

Status Log::TruncateTornTail(const TornTail& torn) {
  Env* env = options_.env;
  if (torn.whole_file) {
    HANSHIRO_RETURN_IF_ERROR(env->RemoveFile(torn.file));
  } else {
    HANSHIRO_RETURN_IF_ERROR(env->TruncateFile(torn.file, torn.offset));
    HANSHIRO_ASSIGN_OR_RETURN(auto f, env->NewAppendableFile(torn.file));
    HANSHIRO_RETURN_IF_ERROR(f->Sync());
    HANSHIRO_RETURN_IF_ERROR(f->Close());
  }
  return env->SyncDir(wal_dir_);
}

Status Log::StartSegment(uint64_t number) {
  SegmentHeader header;
  header.hash_algorithm = options_.integrity ? kHashBlake3 : kHashNone;
  header.number = number;
  header.first_seq = committed_.load();
  if (options_.integrity) header.root = ledger_->Root();
  const std::string path = SegmentFileName(wal_dir_, number);
  HANSHIRO_ASSIGN_OR_RETURN(file_, options_.env->NewWritableFile(path));
  HANSHIRO_RETURN_IF_ERROR(file_->Append(EncodeSegmentHeader(header)));
  HANSHIRO_RETURN_IF_ERROR(file_->Sync());
  HANSHIRO_RETURN_IF_ERROR(options_.env->SyncDir(wal_dir_));
  segment_number_ = number;
  segment_bytes_ = kSegmentHeaderSize;
  cache_released_ = 0;
  std::lock_guard lock(mu_);
  committed_segment_ = number;
  committed_segment_bytes_ = segment_bytes_;
  return Status::OK();
}

Result<integrity::Checkpoint> Log::SignAndStore() {
  HANSHIRO_RETURN_IF_ERROR(file_->Sync());
  HANSHIRO_RETURN_IF_ERROR(ledger_->Sync());
  integrity::TreeHead head{committed_.load(), ledger_->Root(), NowNs()};
  HANSHIRO_ASSIGN_OR_RETURN(integrity::Checkpoint cp, integrity::SignTreeHead(*key_, head));
  const std::string path = JoinPath(integrity_dir_, kCheckpointFile);
  HANSHIRO_RETURN_IF_ERROR(
      WriteStringToFile(options_.env, integrity::EncodeCheckpoint(cp), path + ".tmp", true));
  HANSHIRO_RETURN_IF_ERROR(options_.env->RenameFile(path + ".tmp", path));
  HANSHIRO_RETURN_IF_ERROR(options_.env->SyncDir(integrity_dir_));
  std::lock_guard lock(mu_);
  checkpoint_ = cp;
  return cp;
}

Result<uint64_t> Log::Write(uint8_t kind, std::string_view payload) {
  const Entry entry{kind, payload};
  return WriteBatch({&entry, 1});
}

Result<uint64_t> Log::WriteBatch(std::span<const Entry> entries) {
  if (entries.empty()) return Status::InvalidArgument("wal: empty batch");
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!IsLeafKind(entries[i].kind)) {
      return Status::InvalidArgument(
          fmt::format("wal: entry {}: kind {} is not a data kind (1..15)", i, entries[i].kind));
    }
    if (entries[i].payload.size() > kMaxPayloadBytes) {
      return Status::InvalidArgument(fmt::format("wal: entry {}: payload of {} bytes exceeds {}",
                                                 i, entries[i].payload.size(), kMaxPayloadBytes));
    }
  }
  // The largest allocation of a write, made while nothing depends on it.
  size_t bytes = 0;
  for (const Entry& e : entries) bytes += kRecordHeaderSize + e.payload.size();
  Writer* w = nullptr;
  try {
    w = AcquireWriter();
    w->buf.reserve(bytes);
  } catch (const std::bad_alloc&) {
    if (w != nullptr) ReleaseWriter(w);
    return Status::Busy(fmt::format("wal: no memory for a batch of {} records ({} bytes)",
                                    entries.size(), bytes));
  }
  w->entries = entries;
  return Submit(w, nullptr);
}

void Log::Prepare(Writer* w) const {
  thread_local std::vector<size_t> offsets;
  offsets.clear();
  uint64_t seq = w->first_seq;
  for (const Entry& e : w->entries) {
    offsets.push_back(w->buf.size());
    AppendRecord(&w->buf, seq++, e.kind, e.payload);
  }
  if (!options_.integrity) return;
  // Leaf inputs are the records after their CRC [WAL-7]. Each is hashed
  // where it lies, the CRC's last byte standing in for the leaf prefix
  // meanwhile (no leader reads buf before the writer is marked prepared).
  thread_local std::vector<std::string_view> inputs;
  thread_local std::vector<char> lent;
  // The nodes' scratch buffer, kept between batches.
  thread_local std::vector<char> node_scratch;
  thread_local std::vector<Hash256> leaves;
  inputs.clear();
  lent.resize(offsets.size());
  char* const buf = w->buf.data();
  for (size_t i = 0; i < offsets.size(); ++i) {
    const size_t end = i + 1 < offsets.size() ? offsets[i + 1] : w->buf.size();
    char* const prefix = buf + offsets[i] + kCrcSize - 1;
    lent[i] = *prefix;
    *prefix = static_cast<char>(integrity::kLeafPrefix);
    inputs.emplace_back(prefix, end - offsets[i] - kCrcSize + 1);
  }
  leaves.resize(inputs.size());
  integrity::LeafHashManyPrefixed(inputs, leaves);
  for (size_t i = 0; i < offsets.size(); ++i) buf[offsets[i] + kCrcSize - 1] = lent[i];
  integrity::BuildRangeNodes(w->first_seq, leaves, &w->nodes, &node_scratch);
}

Log::Writer* Log::AcquireWriter() {
  std::lock_guard lock(mu_);
  if (free_writers_.empty()) {
    writers_.push_back(std::make_unique<Writer>());
    // Room for every writer, so that handing one back never allocates.
    free_writers_.reserve(writers_.size());
    free_writers_.push_back(writers_.back().get());
  }
  Writer* w = free_writers_.back();
  free_writers_.pop_back();
  w->entries = {};
  w->control = Writer::Control::kNone;
  w->first_seq = 0;
  w->buf.clear();
  if (w->buf.capacity() > (4u << 20)) w->buf.shrink_to_fit();  // after a huge batch
  w->prepared = false;
  w->done = false;
  w->failed = false;
  w->checkpoint.reset();
  return w;
}

Result<Log::Writer*> Log::TryAcquireWriter() {
  try {
    return AcquireWriter();
  } catch (const std::bad_alloc&) {
    return Status::Busy("wal: no memory");  // short enough to need no heap
  }
}

void Log::ReleaseWriter(Writer* w) {
  std::lock_guard lock(mu_);
  free_writers_.push_back(w);
}

Result<uint64_t> Log::Submit(Writer* w, std::optional<integrity::Checkpoint>* checkpoint) {
  std::unique_lock lock(mu_);
  // Writers live in a pool owned by the log, so a leader may signal one after
  // letting go of mu_ even if it has already returned.
  auto finish = [&](Result<uint64_t> result) {
    if (checkpoint != nullptr) *checkpoint = w->checkpoint;
    free_writers_.push_back(w);
    return result;
  };
  if (closed_) return finish(Status::InvalidArgument("wal: the log is closed"));
  if (!error_.ok()) return finish(error_);
  // Running out of memory must not leave a writer in the queue for ever, nor
  // a group half told: what may allocate comes before a writer has a place
  // (Busy then), or before its group is written (the log fails then).
  try {
    queue_.push_back(w);
  } catch (const std::bad_alloc&) {
    return finish(Status::Busy("wal: no memory to queue a batch"));
  }
  if (w->control == Writer::Control::kNone) {
    w->first_seq = next_seq_;
    next_seq_ += w->entries.size();
    lock.unlock();
    Status s = Guarded([&] {
      Prepare(w);
      return Status::OK();
    });
    lock.lock();
    // Its sequence numbers are taken, and the log cannot skip them: it
    // fails from here, this batch in the group that meets the error.
    if (!s.ok() && error_.ok()) error_ = std::move(s);
  }
  w->prepared = true;
  if (queue_.front() != w) queue_.front()->cv.notify_one();
  while (!w->done && queue_.front() != w) w->cv.wait(lock);
  if (w->done) {
    if (w->failed) return finish(GroupFailure());
    return finish(w->first_seq);
  }

  // This writer leads the next group: itself and the ready writers behind
  // it, at most max_batch_size records (a larger batch goes alone). With
  // sync on, the groups ready behind that one go under the same fsync, up
  // to kMaxGroupsPerSync: each is written whole with its own commit record,
  // and none is acknowledged before the fsync. `ends` gets where each
  // group ends in `writers`.
  auto form_group = [&](std::vector<Writer*>* writers, std::vector<size_t>* ends) {
    writers->clear();
    ends->clear();
    size_t records = 0, in_group = 0;
    for (Writer* x : queue_) {
      if (!x->prepared) break;
      if (x->control != Writer::Control::kNone) {
        if (writers->empty()) writers->push_back(x);
        break;
      }
      if (!writers->empty() && in_group + x->entries.size() > options_.max_batch_size) {
        if (!options_.sync_on_write || ends->size() + 1 >= kMaxGroupsPerSync) break;
        ends->push_back(writers->size());
        in_group = 0;
      }
      writers->push_back(x);
      in_group += x->entries.size();
      records += x->entries.size();
    }
    ends->push_back(writers->size());
    return records;
  };
  std::vector<Writer*> group;
  std::vector<size_t> ends;
  std::vector<Writer*> wake;
  size_t records = 0;
  Status s;
  try {
    records = form_group(&group, &ends);
    if (options_.group_commit_delay_us > 0 && w->control == Writer::Control::kNone &&
        records < options_.max_batch_size) {
      const auto deadline = std::chrono::steady_clock::now() +
                            std::chrono::microseconds(options_.group_commit_delay_us);
      while (records < options_.max_batch_size &&
             w->cv.wait_until(lock, deadline) != std::cv_status::timeout) {
        records = form_group(&group, &ends);
      }
      records = form_group(&group, &ends);
    } else if (options_.sync_on_write && w->control == Writer::Control::kNone &&
               records < recent_max_group_records_) {
      // The writers recent groups released are likely on their way back: a
      // group smaller than the largest recent one waits for them, for at most
      // half an fsync, rather than paying a whole fsync for a few records.
      const auto deadline =
          std::chrono::steady_clock::now() +
          std::chrono::microseconds(std::min<uint64_t>(kCatchUpMaxUs, last_sync_us_ / 2));
      while (records < recent_max_group_records_ &&
             w->cv.wait_until(lock, deadline) != std::cv_status::timeout) {
        records = form_group(&group, &ends);
      }
      records = form_group(&group, &ends);
    }
    s = error_;
    if (s.ok() && closed_) s = Status::InvalidArgument("wal: the log is closed");
    wake.reserve(group.size() + 1);
  } catch (const std::bad_alloc&) {
    // Nothing of this round is written yet. This writer fails alone, and
    // the log with it if it holds records (their sequence numbers are
    // taken); the writers behind lead in turn and meet the error.
    if (!lock.owns_lock()) lock.lock();
    const Status failure = NoMemory();
    if (w->control == Writer::Control::kNone && error_.ok()) error_ = failure;
    w->done = true;
    queue_.pop_front();
    if (!queue_.empty()) queue_.front()->cv.notify_one();
    return finish(failure);
  }

  // From the commit to the wakeups nothing allocates: every writer of the
  // group must be told, and none written twice.
  bool in_error = false;  // the outcome was moved into error_
  if (s.ok()) {
    lock.unlock();
    s = Guarded([&] {
      return group[0]->control == Writer::Control::kNone ? CommitGroups(group, ends)
                                                         : RunControl(group[0]);
    });
    lock.lock();
    const bool sticky = group[0]->control == Writer::Control::kNone || s.IsIOError();
    if (!s.ok() && sticky && error_.ok()) {
      error_ = std::move(s);  // moved, not copied: a copy could run out of memory
      in_error = true;
    }
    if (!in_error && s.ok()) {
      committed_segment_ = segment_number_;
      committed_segment_bytes_ = segment_bytes_;
      if (group[0]->control == Writer::Control::kNone) {
        // Largest of the last 8 rounds: how many writers are around.
        recent_groups_[rounds_++ % recent_groups_.size()] = records;
        recent_max_group_records_ =
            *std::max_element(recent_groups_.begin(), recent_groups_.end());
        last_sync_us_ = group_sync_us_;
        stats_.groups += ends.size();
        stats_.records += records;
        stats_.syncs += options_.sync_on_write ? 1 : 0;
        stats_.sync_us += group_sync_us_;
        stats_.bytes += group_bytes_;
      }
    }
  }
  const bool ok = !in_error && s.ok();
  for (Writer* x : group) {
    x->failed = !ok;
    x->done = true;
    queue_.pop_front();
  }
  // The next leader first, so the next group starts while the others wake.
  if (!queue_.empty()) wake.push_back(queue_.front());
  for (Writer* x : group) {
    if (x != w) wake.push_back(x);
  }
  // Signalled without mu_ held, so the woken threads do not queue on it. A
  // writer that already left is back in the pool: at worst a spurious wakeup.
  if (ok) {
    Result<uint64_t> result = finish(w->first_seq);
    lock.unlock();
    for (Writer* x : wake) x->cv.notify_one();
    return result;
  }
  lock.unlock();
  for (Writer* x : wake) x->cv.notify_one();
  lock.lock();
  return finish(in_error ? error_ : s);  // a copy: it may throw, now that no one waits
}

Status Log::GroupFailure() const {
  return error_.ok() ? Status::InvalidArgument("wal: the log is closed") : error_;
}


Status Log::CommitGroups(std::span<Writer* const> writers, std::span<const size_t> ends) {
  if (segment_bytes_ >= options_.max_file_size) HANSHIRO_RETURN_IF_ERROR(Rotate());
  uint64_t bytes = 0;
  uint64_t end_seq = 0;
  size_t begin = 0;
  for (const size_t end : ends) {
    const std::span<Writer* const> group = writers.subspan(begin, end - begin);
    begin = end;
    const Writer& last = *group.back();
    end_seq = last.first_seq + last.entries.size();
    commit_buf_.clear();
    if (options_.integrity) {
      for (const Writer* x : group) HANSHIRO_RETURN_IF_ERROR(ledger_->AppendRange(x->nodes));
      AppendRecord(&commit_buf_, end_seq, static_cast<uint8_t>(Kind::kCommit),
                   ledger_->Root().view());
    } else {
      AppendRecord(&commit_buf_, end_seq, static_cast<uint8_t>(Kind::kCommit), {});
    }
    for (const Writer* x : group) {
      HANSHIRO_RETURN_IF_ERROR(file_->Append(x->buf));
      bytes += x->buf.size();
    }
    HANSHIRO_RETURN_IF_ERROR(file_->Append(commit_buf_));
    bytes += commit_buf_.size();
  }
  if (options_.sync_on_write) {
    const auto start = std::chrono::steady_clock::now();
    HANSHIRO_RETURN_IF_ERROR(file_->Sync());
    group_sync_us_ = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::steady_clock::now() - start)
                                               .count());
  } else {
    HANSHIRO_RETURN_IF_ERROR(file_->Flush());
  }
  segment_bytes_ += bytes;
  group_bytes_ = bytes;
  // The log is read again only by recovery and verify: what is written need
  // not stay in the page cache, where it would push out table blocks (and
  // take fresh memory for every new page).
  if (segment_bytes_ - cache_released_ >= kCacheReleaseBytes) {
    file_->DropCacheBefore(segment_bytes_);
    cache_released_ = segment_bytes_;
  }
  committed_.store(end_seq, std::memory_order_release);
  return Status::OK();
}

Status Log::Rotate() {
  HANSHIRO_RETURN_IF_ERROR(file_->Sync());
  HANSHIRO_RETURN_IF_ERROR(file_->Close());
  HANSHIRO_RETURN_IF_ERROR(StartSegment(segment_number_ + 1));
  if (options_.integrity) return SignAndStore().status();
  return Status::OK();
}

Status Log::RunControl(Writer* w) {
  if (w->control == Writer::Control::kCheckpoint) {
    if (!options_.integrity) return Status::InvalidArgument("wal: integrity is off: no checkpoints");
    HANSHIRO_ASSIGN_OR_RETURN(w->checkpoint, SignAndStore());
    return Status::OK();
  }
  // A log that opened broken has no segment open.
  if (file_ == nullptr) return Status::OK();
  if (w->control == Writer::Control::kSync) return file_->Sync();
  // kClose.
  Status s = options_.integrity ? SignAndStore().status() : file_->Sync();
  Status c = file_->Close();
  if (s.ok()) s = c;
  std::lock_guard lock(mu_);
  closed_ = true;
  return s;
}

Result<integrity::Checkpoint> Log::Checkpoint() {
  HANSHIRO_ASSIGN_OR_RETURN(Writer* w, TryAcquireWriter());
  w->control = Writer::Control::kCheckpoint;
  std::optional<integrity::Checkpoint> cp;
  HANSHIRO_RETURN_IF_ERROR(Submit(w, &cp).status());
  return *cp;
}

Status Log::Sync() {
  HANSHIRO_ASSIGN_OR_RETURN(Writer* w, TryAcquireWriter());
  w->control = Writer::Control::kSync;
  return Submit(w, nullptr).status();
}

std::optional<integrity::Checkpoint> Log::LatestCheckpoint() const {
  std::lock_guard lock(mu_);
  return checkpoint_;
}

LogStats Log::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool Log::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

Status Log::health() const {
  std::lock_guard lock(mu_);
  return error_;
}

Status Log::Close() {
  HANSHIRO_ASSIGN_OR_RETURN(Writer* w, TryAcquireWriter());
  w->control = Writer::Control::kClose;
  Status s = Submit(w, nullptr).status();
  if (s.IsBusy()) return s;  // not queued, so not closed: the destructor tries again
  std::lock_guard lock(mu_);
  closed_ = true;
  return s;
}

Result<integrity::InclusionProof> Log::Prove(uint64_t seq) {
  if (!options_.integrity) return Status::InvalidArgument("wal: integrity is off: no proofs");
  if (seq >= size()) {
    return Status::NotFound(fmt::format("wal: no record {} (the log holds {})", seq, size()));
  }
  std::optional<integrity::Checkpoint> cp = LatestCheckpoint();
  if (!cp || cp->head.size <= seq) {
    HANSHIRO_ASSIGN_OR_RETURN(cp, Checkpoint());
  }
  integrity::InclusionProof proof;
  proof.checkpoint = *cp;
  proof.index = seq;
  HANSHIRO_ASSIGN_OR_RETURN(proof.path, ledger_->InclusionPath(seq, cp->head.size));
  return proof;
}

Result<integrity::ConsistencyProof> Log::ProveConsistency(
    const integrity::Checkpoint& old_checkpoint) {
  if (!options_.integrity) return Status::InvalidArgument("wal: integrity is off: no proofs");
  HANSHIRO_RETURN_IF_ERROR(integrity::VerifyCheckpoint(old_checkpoint, public_key_));
  std::optional<integrity::Checkpoint> cp = LatestCheckpoint();
  if (!cp || cp->head.size < old_checkpoint.head.size) {
    HANSHIRO_ASSIGN_OR_RETURN(cp, Checkpoint());
  }
  const uint64_t old_size = old_checkpoint.head.size;
  if (old_size > cp->head.size) {
    return Status::IntegrityBroken(fmt::format(
        "the log holds {} records, fewer than the checkpoint's {}", cp->head.size, old_size));
  }
  HANSHIRO_ASSIGN_OR_RETURN(Hash256 root_then, ledger_->RootAt(old_size));
  if (root_then != old_checkpoint.head.root) {
    return Status::IntegrityBroken(fmt::format(
        "the log's first {} records differ from the signed checkpoint of that size", old_size));
  }
  integrity::ConsistencyProof proof{old_checkpoint, *cp, {}};
  if (old_size > 0) {
    HANSHIRO_ASSIGN_OR_RETURN(proof.path, ledger_->ConsistencyPath(old_size, cp->head.size));
  }
  return proof;
}

VerifyReport Log::Verify(const std::function<void(uint64_t done, uint64_t total)>& progress) {
  VerifyReport report;
  std::shared_lock segments(segments_mu_);  // no segment goes while we read them
  // The checkpoint as stored, not as remembered: it is untrusted input too.
  // Read before the snapshot below, so the snapshot covers what it signed.
  if (options_.integrity) {
    const std::string cp_path = JoinPath(integrity_dir_, kCheckpointFile);
    if (options_.env->FileExists(cp_path)) {
      auto bytes = ReadSmallFile(options_.env, cp_path, integrity::kCheckpointSize);
      auto cp = bytes.ok() ? integrity::DecodeCheckpoint(*bytes)
                           : Result<integrity::Checkpoint>(bytes.status());
      if (!cp.ok()) {
        report.error = cp.status().WithContext(cp_path);
        return report;
      }
      report.checkpoint = *cp;
    }
  }
  uint64_t last_segment, last_bytes;
  {
    std::lock_guard lock(mu_);
    last_segment = committed_segment_;
    last_bytes = committed_segment_bytes_;
  }
  auto numbers = ListSegments(options_.env, wal_dir_);
  if (!numbers.ok()) {
    report.error = numbers.status();
    return report;
  }
  std::erase_if(*numbers, [&](uint64_t n) { return n > last_segment; });

  VerifySink sink(ledger_.get(), &report);
  if (report.checkpoint) sink.set_checkpoint_size(report.checkpoint->head.size);
  ScanParams params;
  params.integrity = options_.integrity;
  params.tree = options_.integrity ? &sink : nullptr;
  params.last_segment_limit = last_bytes;
  bool checkpoint_seen = !report.checkpoint.has_value() || report.checkpoint->head.size == 0;
  if (report.checkpoint) {
    report.error = integrity::VerifyCheckpoint(*report.checkpoint, public_key_)
                       .WithContext(JoinPath(integrity_dir_, kCheckpointFile));
    if (!report.error.ok()) return report;
  }
  const uint64_t total = size();
  uint64_t done = 0, reported = 0;
  params.on_group = [&](const Group& g) -> Status {
    done += g.records.size();
    if (progress && done - reported >= (uint64_t{1} << 16)) {
      reported = done;
      progress(done, total);
    }
    if (report.checkpoint && sink.size() == report.checkpoint->head.size && !checkpoint_seen) {
      checkpoint_seen = true;
      if (sink.Root() != report.checkpoint->head.root) {
        return Status::IntegrityBroken(fmt::format(
            "{}: the tree of the first {} records (ending at offset {}) differs from the signed "
            "checkpoint",
            *g.file, sink.size(), g.commit_offset));
      }
    }
    return Status::OK();
  };
  if (numbers->empty()) {
    report.error = Status::Corruption("wal: no segments");
    return report;
  }
  // Segments removed after their records were flushed: the tree below the
  // first one left is rebuilt from the ledger's leaves (and checked against
  // its nodes and a checkpoint in that range); tables hold those records.
  {
    auto first = SegmentReader::Open(options_.env, SegmentFileName(wal_dir_, numbers->front()), UINT64_MAX);
    if (first.ok()) report.log_start = (*first)->header().first_seq;  // else the scan reports it
  }
  if (options_.integrity && report.log_start > 0) {
    if (report.checkpoint && !checkpoint_seen && report.checkpoint->head.size <= report.log_start) {
      report.error = sink.AppendFromLedger(report.checkpoint->head.size);
      if (report.error.ok() && sink.Root() != report.checkpoint->head.root) {
        report.error = Status::IntegrityBroken(fmt::format(
            "{}: the tree of the first {} leaves differs from the signed checkpoint [LED-4]",
            ledger_->LevelFileName(0), report.checkpoint->head.size));
      }
      checkpoint_seen = true;
    }
    if (report.error.ok()) report.error = sink.AppendFromLedger(report.log_start);
    if (!report.error.ok()) return report;
  }
  ScanResult scan = ScanSegments(options_.env, wal_dir_, *numbers, params);
  report.records = scan.records;
  report.tree_size = std::max(scan.next_seq, report.log_start);
  report.torn = scan.torn;
  report.root = options_.integrity ? sink.Root() : Hash256{};
  report.error = scan.error;
  if (report.error.ok() && !checkpoint_seen) {
    report.error = Status::IntegrityBroken(fmt::format(
        "wal: the records end at seq {} but the signed checkpoint covers {}", scan.next_seq,
        report.checkpoint->head.size));
  }
  return report;
}

Result<size_t> Log::RemoveSegmentsBelow(uint64_t seq, const std::function<Status()>& before) {
  std::unique_lock segments(segments_mu_, std::try_to_lock);
  if (!segments.owns_lock()) return size_t{0};  // a Verify is reading them; later
  uint64_t active;
  {
    std::lock_guard lock(mu_);
    if (!error_.ok()) return size_t{0};
    active = committed_segment_;
    // Recovery starts at a segment at or before the checkpoint.
    if (options_.integrity) seq = std::min(seq, checkpoint_ ? checkpoint_->head.size : 0);
  }
  HANSHIRO_ASSIGN_OR_RETURN(std::vector<uint64_t> numbers, ListSegments(options_.env, wal_dir_));
  size_t removed = 0;
  // Oldest first, so what is left always starts where the removed ones ended.
  for (size_t i = 0; i + 1 < numbers.size() && numbers[i + 1] <= active; ++i) {
    HANSHIRO_ASSIGN_OR_RETURN(auto next, SegmentReader::Open(options_.env, SegmentFileName(wal_dir_, numbers[i + 1]),
                                                             UINT64_MAX));
    if (next->header().first_seq > seq) break;  // segment i holds a record at or above seq
    if (removed == 0 && before) HANSHIRO_RETURN_IF_ERROR(before());
    HANSHIRO_RETURN_IF_ERROR(options_.env->RemoveFile(SegmentFileName(wal_dir_, numbers[i])));
    ++removed;
  }
  if (removed > 0) HANSHIRO_RETURN_IF_ERROR(options_.env->SyncDir(wal_dir_));
  return removed;
}

Result<Hash256> Log::StoredLeaf(uint64_t seq) const {
  if (!options_.integrity) return Status::InvalidArgument("wal: integrity is off");
  if (seq >= size()) return Status::InvalidArgument(fmt::format("wal: no record {} yet", seq));
  std::vector<Hash256> out;
  HANSHIRO_RETURN_IF_ERROR(ledger_->ReadEntries(0, seq, 1, &out));
  return out[0];
}

Hash256 Log::RecordLeaf(uint64_t seq, uint8_t kind, std::string_view payload) {
  std::string record;
  AppendRecord(&record, seq, kind, payload);
  return integrity::LeafHash(std::string_view(record).substr(kCrcSize));
}

}  // namespace hanshiro::wal
