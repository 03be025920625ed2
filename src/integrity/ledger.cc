#include "integrity/ledger.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "base/coding.h"
#include "base/crc32c.h"
#include "integrity/ledger_format.h"

namespace hanshiro::integrity {

struct Ledger::Level {
  std::string path;
  std::unique_ptr<WritableFile> writer;
  std::unique_ptr<RandomAccessFile> reader;
  uint64_t entries = 0;    // entries in the file, counting buffered ones
  uint64_t flushed = 0;    // entries the reader can see
};

namespace {

std::string EncodeHeader(int level) {
  std::string h(kLedgerMagic);
  PutFixed32(&h, kLedgerVersion);
  PutFixed32(&h, kHashBlake3);
  PutFixed32(&h, static_cast<uint32_t>(level));
  PutFixed32(&h, Ledger::kTileHeight);
  PutFixed32(&h, 0);  // reserved
  PutFixed32(&h, crc32c::Mask(crc32c::Value(h)));
  return h;
}

// [LED-1..3]: the header names this format, this level and tile height, and
// its CRC matches.
Status CheckHeader(std::string_view got, int level, const std::string& path) {
  const std::string want = EncodeHeader(level);
  HANSHIRO_CHECK(want.size() == kLedgerHeaderSize);
  if (got.substr(0, 8) != kLedgerMagic) {
    return Status::Corruption(fmt::format("{}: not a ledger file (bad magic) [LED-1]", path));
  }
  const uint32_t crc = crc32c::Unmask(DecodeFixed32(got.data() + kLedgerHeaderSize - 4));
  if (crc != crc32c::Value(got.data(), kLedgerHeaderSize - 4)) {
    return Status::Corruption(fmt::format("{}: header checksum mismatch [LED-2]", path));
  }
  if (got != want) {
    return Status::Corruption(fmt::format(
        "{}: unsupported version, hash algorithm, level or tile height [LED-3]", path));
  }
  return Status::OK();
}

Hash256 FoldPerfect(std::vector<Hash256> hashes) {
  while (hashes.size() > 1) {
    for (size_t i = 0; i < hashes.size() / 2; ++i) {
      hashes[i] = NodeHash(hashes[2 * i], hashes[2 * i + 1]);
    }
    hashes.resize(hashes.size() / 2);
  }
  return hashes[0];
}

}  // namespace

Ledger::Ledger(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}
Ledger::~Ledger() = default;

std::string Ledger::LevelFileName(int level) const {
  return JoinPath(dir_, fmt::format("level-{:02d}.tiles", level));
}

uint64_t Ledger::EntryOffset(uint64_t index) {
  return kLedgerHeaderSize + index * kLedgerEntrySize;
}

Result<std::unique_ptr<Ledger>> Ledger::Open(Env* env, const std::string& dir) {
  HANSHIRO_RETURN_IF_ERROR(CreateDirDurably(env, dir));
  std::unique_ptr<Ledger> ledger(new Ledger(env, dir));
  for (int level = 0; level < kMaxLevels; ++level) {
    HANSHIRO_RETURN_IF_ERROR(ledger->OpenLevel(level));
  }
  HANSHIRO_RETURN_IF_ERROR(env->SyncDir(dir));
  return ledger;
}

Status Ledger::OpenLevel(int level) {
  auto lv = std::make_unique<Level>();
  lv->path = LevelFileName(level);
  uint64_t file_size = 0;
  if (env_->FileExists(lv->path)) {
    HANSHIRO_ASSIGN_OR_RETURN(file_size, env_->GetFileSize(lv->path));
  }
  bool torn_creation = file_size < kLedgerHeaderSize;
  if (file_size == kLedgerHeaderSize) {
    HANSHIRO_ASSIGN_OR_RETURN(std::string header, ReadFileToString(env_, lv->path));
    torn_creation = header.find_first_not_of('\0') == std::string::npos;
  }
  if (torn_creation) {
    // Missing, or a header a crash cut short (or left as zeros) while the
    // file was being created: it held no entries yet.
    HANSHIRO_RETURN_IF_ERROR(WriteStringToFile(env_, EncodeHeader(level), lv->path, true));
    file_size = kLedgerHeaderSize;
  }
  // Readable from the start (Verify may run on a log that failed to
  // recover); writable only after Truncate says how much to keep.
  HANSHIRO_ASSIGN_OR_RETURN(lv->reader, env_->NewRandomAccessFile(lv->path));
  if (!torn_creation) {
    char buf[kLedgerHeaderSize];
    std::string_view got;
    HANSHIRO_RETURN_IF_ERROR(lv->reader->Read(0, kLedgerHeaderSize, &got, buf));
    HANSHIRO_RETURN_IF_ERROR(CheckHeader(got, level, lv->path));
  }
  lv->entries = (file_size - kLedgerHeaderSize) / kLedgerEntrySize;
  lv->flushed = lv->entries;
  levels_.push_back(std::move(lv));
  return Status::OK();
}

Status Ledger::Truncate(uint64_t size) {
  {
    std::lock_guard lock(mu_);
    if (levels_[0]->entries < size) {
      return Status::Corruption(fmt::format(
          "{}: holds {} leaf hashes but the tree has {} leaves [LED-5]", levels_[0]->path,
          levels_[0]->entries, size));
    }
    for (int level = 0; level < kMaxLevels; ++level) {
      Level& lv = *levels_[level];
      const uint64_t keep = size >> (level * kTileHeight);
      lv.writer.reset();
      // Also cuts off a partial trailing entry (an append torn by a crash).
      lv.entries = std::min(lv.entries, keep);
      HANSHIRO_RETURN_IF_ERROR(env_->TruncateFile(lv.path, EntryOffset(lv.entries)));
      HANSHIRO_ASSIGN_OR_RETURN(lv.writer, env_->NewAppendableFile(lv.path));
      lv.flushed = lv.entries;
      // Higher levels are derived from the level below: rebuild what is missing.
      std::vector<Hash256> tile;
      for (uint64_t j = lv.entries; j < keep; ++j) {
        HANSHIRO_RETURN_IF_ERROR(ReadEntriesLocked(level - 1, j << kTileHeight,
                                                   uint64_t{1} << kTileHeight, &tile));
        const Hash256 node = FoldPerfect(tile);
        HANSHIRO_RETURN_IF_ERROR(AppendEntries(level, {&node, 1}));
      }
    }
  }
  HANSHIRO_ASSIGN_OR_RETURN(tree_, CompactTreeAt(size));
  size_.store(size, std::memory_order_release);
  error_ = Status::OK();
  return Status::OK();
}

Status Ledger::AppendEntries(int level, std::span<const Hash256> hashes) {
  Level& lv = *levels_[level];
  HANSHIRO_CHECK(lv.writer != nullptr);
  Status s = lv.writer->Append({reinterpret_cast<const char*>(hashes.data()),
                                hashes.size() * kLedgerEntrySize});
  if (!s.ok()) return s.WithContext(lv.path);
  lv.entries += hashes.size();
  return Status::OK();
}

Status Ledger::Append(std::span<const Hash256> leaves) {
  return AppendWith(leaves, [&](const NodeSink& sink) { tree_.Append(leaves, &sink); });
}

Status Ledger::AppendRange(const RangeNodes& range) {
  return AppendWith(range.levels[0], [&](const NodeSink& sink) { tree_.AppendRange(range, &sink); });
}

Status Ledger::AppendWith(std::span<const Hash256> leaves,
                          const std::function<void(const NodeSink&)>& grow) {
  if (!error_.ok()) return error_;
  std::lock_guard lock(mu_);
  Status s = AppendEntries(0, leaves);
  const NodeSink sink = [&](int height, uint64_t first, std::span<const Hash256> nodes) {
    if (height % kTileHeight != 0 || !s.ok()) return;
    const int level = height / kTileHeight;
    HANSHIRO_CHECK(levels_[level]->entries == first);
    s = AppendEntries(level, nodes);
  };
  if (s.ok()) grow(sink);
  if (!s.ok()) {
    error_ = s;
    return s;
  }
  size_.store(tree_.size(), std::memory_order_release);
  return Status::OK();
}

Status Ledger::Sync() {
  if (!error_.ok()) return error_;
  std::lock_guard lock(mu_);
  for (auto& lv : levels_) {
    Status s = lv->writer->Sync();
    if (!s.ok()) {
      error_ = s.WithContext(lv->path);
      return error_;
    }
    lv->flushed = lv->entries;
  }
  return Status::OK();
}

Status Ledger::ReadEntries(int level, uint64_t first, uint64_t count,
                           std::vector<Hash256>* out) const {
  std::lock_guard lock(mu_);
  return ReadEntriesLocked(level, first, count, out);
}

Status Ledger::ReadEntriesLocked(int level, uint64_t first, uint64_t count,
                                 std::vector<Hash256>* out) const {
  Level& lv = *levels_[level];
  if (first + count > lv.entries) {
    return Status::Corruption(fmt::format("{}: entries {}..{} are past its end ({} entries)",
                                          lv.path, first, first + count, lv.entries));
  }
  if (first + count > lv.flushed) {
    HANSHIRO_RETURN_IF_ERROR(lv.writer->Flush());
    lv.flushed = lv.entries;
  }
  out->resize(count);
  const size_t bytes = count * kLedgerEntrySize;
  std::string_view got;
  char* scratch = reinterpret_cast<char*>(out->data());
  HANSHIRO_RETURN_IF_ERROR(lv.reader->Read(EntryOffset(first), bytes, &got, scratch));
  if (got.size() != bytes) {
    return Status::Corruption(
        fmt::format("{}: short read at offset {}", lv.path, EntryOffset(first)));
  }
  if (got.data() != scratch) std::memcpy(scratch, got.data(), bytes);
  return Status::OK();
}

Result<Hash256> Ledger::PerfectHash(int height, uint64_t index) const {
  const int level = height / kTileHeight;
  const int rest = height % kTileHeight;
  std::vector<Hash256> hashes;
  HANSHIRO_RETURN_IF_ERROR(ReadEntries(level, index << rest, uint64_t{1} << rest, &hashes));
  return FoldPerfect(std::move(hashes));
}

Result<CompactTree> Ledger::CompactTreeAt(uint64_t size) const {
  std::array<Hash256, 64> edge{};
  for (int h = 0; h < 64; ++h) {
    if (((size >> h) & 1) == 0) continue;
    HANSHIRO_ASSIGN_OR_RETURN(edge[h], PerfectHash(h, (size >> h) - 1));
  }
  return CompactTree(size, edge);
}

Result<Hash256> Ledger::RootAt(uint64_t size) const {
  if (size == 0) return EmptyRoot();
  return RangeHash(0, size, [this](int h, uint64_t i) { return PerfectHash(h, i); });
}

Result<std::vector<Hash256>> Ledger::InclusionPath(uint64_t index, uint64_t size) const {
  return integrity::InclusionPath(index, size,
                                  [this](int h, uint64_t i) { return PerfectHash(h, i); });
}

Result<std::vector<Hash256>> Ledger::ConsistencyPath(uint64_t old_size, uint64_t new_size) const {
  return integrity::ConsistencyPath(old_size, new_size,
                                    [this](int h, uint64_t i) { return PerfectHash(h, i); });
}

}  // namespace hanshiro::integrity
