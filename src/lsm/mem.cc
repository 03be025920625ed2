#include "lsm/mem.h"

#include <algorithm>
#include <cstring>

namespace hanshiro::lsm {

namespace {

// The id index's key for a storage key: id | prefix | key time.
constexpr size_t kIdKeySize = 25;
void IdKeyOf(std::string_view key, char* out) {
  std::memcpy(out, key.data() + 9, 16);
  std::memcpy(out + 16, key.data(), 9);
}

}  // namespace

void Mem::Add(uint64_t seq, std::string_view key, std::string_view record) {
  records.Add(seq, key, record);
  char id_key[kIdKeySize];
  IdKeyOf(key, id_key);
  ids.Add(seq, std::string_view(id_key, sizeof(id_key)), {});
}

void Mem::Stage(uint64_t first_seq, std::span<const WriteRecord> batch, Staged* out) {
  const size_t n = batch.size();
  thread_local std::vector<memtable::MemTable::Entry> entries;
  thread_local std::vector<char> id_keys;
  entries.resize(n);
  for (size_t i = 0; i < n; ++i) entries[i] = {first_seq + i, batch[i].key, batch[i].record};
  out->records.resize(n);
  records.Stage(entries, out->records);
  id_keys.resize(n * kIdKeySize);
  for (size_t i = 0; i < n; ++i) {
    IdKeyOf(batch[i].key, &id_keys[i * kIdKeySize]);
    entries[i] = {first_seq + i, {&id_keys[i * kIdKeySize], kIdKeySize}, {}};
  }
  out->ids.resize(n);
  ids.Stage(entries, out->ids);
}

void Mem::Link(const Staged& staged) {
  // The staged nodes have usually left this core's caches while the batch
  // waited for its turn; loading them a few links ahead keeps the turn from
  // waiting on memory once per node.
  constexpr size_t kAhead = 8;
  const size_t n = staged.records.size();
  auto prefetch = [](const memtable::MemTable::Node* node) {
    __builtin_prefetch(node);
    __builtin_prefetch(reinterpret_cast<const char*>(node) + 64);  // the key may start there
  };
  for (size_t i = 0; i < std::min(n, kAhead); ++i) {
    prefetch(staged.records[i]);
    prefetch(staged.ids[i]);
  }
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) {
      prefetch(staged.records[i + kAhead]);
      prefetch(staged.ids[i + kAhead]);
    }
    records.Link(staged.records[i]);
    ids.Link(staged.ids[i]);
  }
}

std::optional<std::string> Mem::FindKey(std::string_view id) const {
  memtable::MemTable::Iterator it(&ids);
  it.Seek(id);
  if (!it.Valid() || it.key().substr(0, 16) != id) return std::nullopt;
  std::string key(it.key().substr(16));
  key.append(id);
  return key;
}

namespace {

class MemIterator final : public sstable::Iterator {
 public:
  explicit MemIterator(std::shared_ptr<const Mem> mem) : mem_(std::move(mem)), it_(&mem_->records) {}
  bool Valid() const override { return it_.Valid(); }
  void SeekToFirst() override { it_.SeekToFirst(); }
  void Seek(std::string_view target) override { it_.Seek(target); }
  void Next() override { it_.Next(); }
  std::string_view key() const override { return it_.key(); }
  uint64_t seq() const override { return it_.seq(); }
  std::string_view value() const override { return it_.value(); }
  Status status() const override { return Status::OK(); }

 private:
  std::shared_ptr<const Mem> mem_;
  memtable::MemTable::Iterator it_;
};

}  // namespace

std::unique_ptr<sstable::Iterator> NewMemIterator(std::shared_ptr<const Mem> mem) {
  return std::make_unique<MemIterator>(std::move(mem));
}

}  // namespace hanshiro::lsm
