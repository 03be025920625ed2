#include "lsm/mem.h"

#include <cstring>

namespace hanshiro::lsm {

void Mem::Add(uint64_t seq, std::string_view key, std::string_view record) {
  records.Add(seq, key, record);
  char id_key[25];
  std::memcpy(id_key, key.data() + 9, 16);
  std::memcpy(id_key + 16, key.data(), 9);
  ids.Add(seq, std::string_view(id_key, sizeof(id_key)), {});
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
