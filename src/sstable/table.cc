#include "sstable/table.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "base/coding.h"
#include "base/crc32c.h"
#include "sstable/bloom.h"
#include "sstable/compression.h"

namespace hanshiro::sstable {

namespace {

uint64_t HandleEnd(const BlockHandle& h) { return h.offset + h.size + kBlockTrailerSize; }

}  // namespace

Result<std::shared_ptr<Table>> Table::Open(Env* env, const std::string& path, uint64_t number,
                                           BlockCache* cache) {
  HANSHIRO_ASSIGN_OR_RETURN(const uint64_t size, env->GetFileSize(path));
  HANSHIRO_ASSIGN_OR_RETURN(auto file, env->NewRandomAccessFile(path));
  std::shared_ptr<Table> table(new Table(std::move(file), number, size, cache));
  table->name_ = TableName(number);
  HANSHIRO_RETURN_IF_ERROR(table->ReadSections());
  return table;
}

Status Table::ReadBlock(const BlockHandle& handle, std::string_view what,
                        std::string* contents) const {
  auto where = [&] { return fmt::format("{}: {} at offset {}", name_, what, handle.offset); };
  if (handle.size > file_size_ || handle.offset > file_size_ - handle.size ||
      file_size_ - handle.size - handle.offset < kBlockTrailerSize) {
    return Status::Corruption(where() + ": outside the file [SST-2]");
  }
  std::string buf(handle.size + kBlockTrailerSize, '\0');
  std::string_view got;
  Status s = file_->Read(handle.offset, buf.size(), &got, buf.data());
  if (!s.ok()) return s.WithContext(where());
  if (got.size() != buf.size()) return Status::Corruption(where() + ": truncated [SST-7]");
  const char* trailer = got.data() + handle.size;
  const auto type = static_cast<uint8_t>(trailer[0]);
  const uint32_t crc = crc32c::Value(got.data(), handle.size + 1);
  if (crc32c::Unmask(DecodeFixed32(trailer + 1)) != crc) {
    return Status::Corruption(where() + ": checksum mismatch [SST-7]");
  }
  if (type > kMaxCompression) {
    return Status::Corruption(where() + fmt::format(": compression type {} [SST-7]", type));
  }
  if (type == 0) {
    buf.resize(handle.size);
    *contents = std::move(buf);
    return Status::OK();
  }
  s = UncompressBlock(static_cast<Compression>(type), std::string_view(got.data(), handle.size),
                      contents);
  return s.ok() ? s : s.WithContext(where());
}

std::string_view Table::IndexKey(uint64_t i) const {
  return std::string_view(index_.data() + i * kIndexEntrySize, kKeySize);
}

BlockHandle Table::IndexHandle(uint64_t i) const {
  const char* p = index_.data() + i * kIndexEntrySize + kKeySize;
  return {DecodeFixed64(p), DecodeFixed32(p + 8)};
}

Status Table::ReadSections() {
  auto bad = [&](std::string_view what) {
    return Status::Corruption(fmt::format("{}: {}", name_, what));
  };
  if (file_size_ < kFooterSize) return bad("file shorter than a footer (truncated?) [SST-1]");
  std::string buf(kFooterSize, '\0');
  std::string_view got;
  HANSHIRO_RETURN_IF_ERROR(file_->Read(file_size_ - kFooterSize, kFooterSize, &got, buf.data()));
  HANSHIRO_ASSIGN_OR_RETURN(footer_, Footer::Decode(got, name_));
  const Footer& f = footer_;

  // [SST-2]: every handle lies inside the file before the footer (checked
  // without overflow before any sum below is trusted).
  const uint64_t body = file_size_ - kFooterSize;
  for (const BlockHandle* h : {&f.ids, &f.id_index, &f.filter, &f.index}) {
    if (h->size > body || h->size + kBlockTrailerSize > body ||
        h->offset > body - h->size - kBlockTrailerSize) {
      return bad("a section lies outside the file [SST-2]");
    }
  }
  // [SST-2], [SST-3]: the sections' places follow from the counts.
  const uint64_t n = f.id_block_entries;
  id_blocks_ = (f.entries + n - 1) / n;
  const uint64_t last = f.entries - (id_blocks_ - 1) * n;
  const uint64_t ids_size =
      (id_blocks_ - 1) * (n * kIdEntrySize + kBlockTrailerSize) + last * kIdEntrySize +
      kBlockTrailerSize;
  if (f.data_blocks > file_size_ / kIndexEntrySize || f.entries > file_size_ / kIdEntrySize ||
      f.filter.size < 9 ||
      f.ids.size != ids_size || f.id_index.size != id_blocks_ * kIdSize ||
      f.id_index.offset != f.ids.offset + f.ids.size || f.filter.offset != HandleEnd(f.id_index) ||
      f.index.offset != HandleEnd(f.filter) || f.index.size != f.data_blocks * kIndexEntrySize ||
      HandleEnd(f.index) != file_size_ - kFooterSize) {
    return bad("footer's sections do not tile the file [SST-2] [SST-3]");
  }
  // [SST-4]
  std::string contents;
  HANSHIRO_RETURN_IF_ERROR(ReadBlock(f.index, "index", &index_));
  HANSHIRO_RETURN_IF_ERROR(ReadBlock(f.id_index, "id index", &id_index_));
  HANSHIRO_RETURN_IF_ERROR(ReadBlock(f.filter, "filter", &filter_));
  if (index_.size() != f.index.size || id_index_.size() != f.id_index.size ||
      filter_.size() != f.filter.size) {
    return bad("a raw section is stored compressed [SST-4]");
  }
  // [SST-5]
  uint64_t expect = 0;
  for (uint64_t i = 0; i < f.data_blocks; ++i) {
    const BlockHandle h = IndexHandle(i);
    if (h.offset != expect || h.size == 0 || h.size > kMaxRawBlockBytes) {
      return bad(fmt::format("index entry {}: handle not contiguous [SST-5]", i));
    }
    if (i > 0 && IndexKey(i) < IndexKey(i - 1)) {
      return bad(fmt::format("index entry {}: keys out of order [SST-5]", i));
    }
    expect = HandleEnd(h);
  }
  if (expect != f.ids.offset) return bad("data blocks do not end where ids begin [SST-2]");
  if (IndexKey(f.data_blocks - 1) != f.max_key) return bad("last index key is not max_key [SST-5]");
  if (filter_.size() < 9) return bad("filter shorter than 9 bytes [SST-5]");
  const auto k = static_cast<uint8_t>(filter_.back());
  if (k < 1 || k > 30) return bad("filter k [SST-5]");
  return Status::OK();
}

bool Table::MayContainId(std::string_view id) const {
  if (std::memcmp(id.data(), footer_.min_id.data(), kIdSize) < 0 ||
      std::memcmp(id.data(), footer_.max_id.data(), kIdSize) > 0) {
    return false;
  }
  return BloomMayContain(filter_, BloomHash(id));
}

uint64_t Table::FindBlock(std::string_view key) const {
  uint64_t lo = 0, hi = footer_.data_blocks;
  while (lo < hi) {
    const uint64_t mid = (lo + hi) / 2;
    if (IndexKey(mid) < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

Result<std::shared_ptr<const Block>> Table::DataBlock(uint64_t i, bool fill_cache) const {
  const BlockHandle h = IndexHandle(i);
  if (cache_ != nullptr) {
    if (auto block = cache_->Lookup(number_, h.offset)) return block;
  }
  std::string contents;
  HANSHIRO_RETURN_IF_ERROR(ReadBlock(h, "data block", &contents));
  HANSHIRO_ASSIGN_OR_RETURN(
      std::shared_ptr<const Block> block,
      Block::Create(std::move(contents), fmt::format("{}: data block at offset {}", name_, h.offset)));
  if (cache_ != nullptr && fill_cache) cache_->Insert(number_, h.offset, block);
  return block;
}

Status Table::Get(std::string_view key, std::string* value, uint64_t* seq) const {
  if (key < footer_.min_key || key > footer_.max_key ||
      !BloomMayContain(filter_, BloomHash(key.substr(9, kIdSize)))) {
    return Status::NotFound("");
  }
  // One block holds the newest version: the first whose last key >= key.
  const uint64_t i = FindBlock(key);
  if (i >= footer_.data_blocks) return Status::NotFound("");
  HANSHIRO_ASSIGN_OR_RETURN(std::shared_ptr<const Block> block, DataBlock(i, /*fill_cache=*/true));
  Block::Iterator it(std::move(block));
  it.Seek(key);
  if (!it.Valid()) {
    if (!it.status().ok()) return it.status();
    // The index said this block ends at or after key: it does not.
    return Status::Corruption(
        fmt::format("{}: data block {}: ends before its index key [SST-9]", name_, i));
  }
  if (it.key() != key) return Status::NotFound("");
  value->assign(it.value());
  if (seq != nullptr) *seq = it.seq();
  return Status::OK();
}

Result<std::optional<std::string>> Table::FindKey(std::string_view id) const {
  HANSHIRO_CHECK(id.size() == kIdSize);
  if (!MayContainId(id)) return std::optional<std::string>();
  // The first id block that can hold id: the last whose first id < id, or
  // the one after it when that starts with id.
  uint64_t lo = 0, hi = id_blocks_;
  while (lo < hi) {
    const uint64_t mid = (lo + hi) / 2;
    if (std::string_view(id_index_.data() + mid * kIdSize, kIdSize) < id) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  const uint64_t first = lo == 0 ? 0 : lo - 1;
  const uint64_t n = footer_.id_block_entries;
  const uint64_t stride = n * kIdEntrySize + kBlockTrailerSize;
  for (uint64_t b = first; b < std::min(first + 2, id_blocks_); ++b) {
    const BlockHandle h{footer_.ids.offset + b * stride,
                        std::min<uint64_t>(n, footer_.entries - b * n) * kIdEntrySize};
    std::shared_ptr<const Block> block = cache_ ? cache_->Lookup(number_, h.offset) : nullptr;
    if (!block) {
      std::string contents;
      HANSHIRO_RETURN_IF_ERROR(ReadBlock(h, "id block", &contents));
      if (contents.size() != h.size) {
        return Status::Corruption(
            fmt::format("{}: id block at offset {}: stored compressed [SST-10]", name_, h.offset));
      }
      for (size_t i = 0; i < contents.size(); i += kIdEntrySize) {
        const auto prefix = static_cast<uint8_t>(contents[i + kIdSize]);
        if (prefix < 1 || prefix > 3 ||
            (i > 0 && std::memcmp(contents.data() + i - kIdEntrySize, contents.data() + i,
                                  kIdEntrySize) > 0)) {
          return Status::Corruption(fmt::format(
              "{}: id block at offset {}: entry {} out of order or bad prefix [SST-10]", name_,
              h.offset, i / kIdEntrySize));
        }
      }
      block = Block::CreateRaw(std::move(contents), "");
      if (cache_ != nullptr) cache_->Insert(number_, h.offset, block);
    }
    const std::string& c = block->contents();
    const size_t count = c.size() / kIdEntrySize;
    size_t l = 0, r = count;
    while (l < r) {
      const size_t mid = (l + r) / 2;
      if (std::memcmp(c.data() + mid * kIdEntrySize, id.data(), kIdSize) < 0) {
        l = mid + 1;
      } else {
        r = mid;
      }
    }
    if (l < count && std::memcmp(c.data() + l * kIdEntrySize, id.data(), kIdSize) == 0) {
      std::string key;
      key.reserve(kKeySize);
      key.append(c.data() + l * kIdEntrySize + kIdSize, 9);
      key.append(id);
      return std::optional<std::string>(std::move(key));
    }
    if (l < count) break;  // a greater id follows: absent
  }
  return std::optional<std::string>();
}

// Walks the index and one data block at a time, checking what a block alone
// cannot: order across blocks, each block's last key against the index, and
// every entry against the footer's ranges.
class Table::TableIterator final : public Iterator {
 public:
  TableIterator(std::shared_ptr<const Table> table, bool fill_cache)
      : table_(std::move(table)), fill_cache_(fill_cache) {}

  bool Valid() const override { return block_it_ && block_it_->Valid(); }
  Status status() const override { return status_; }
  std::string_view key() const override { return block_it_->key(); }
  uint64_t seq() const override { return block_it_->seq(); }
  std::string_view value() const override { return block_it_->value(); }

  void SeekToFirst() override {
    have_prev_ = false;
    if (Load(0)) block_it_->SeekToFirst();
    Settle();
  }
  void Seek(std::string_view target) override {
    have_prev_ = false;
    if (Load(table_->FindBlock(target))) block_it_->Seek(target);
    Settle();
  }
  void Next() override {
    std::memcpy(prev_key_, block_it_->key().data(), kKeySize);
    prev_seq_ = block_it_->seq();
    have_prev_ = true;
    block_it_->Next();
    Settle();
  }

 private:
  bool Load(uint64_t i) {
    block_it_.reset();
    index_ = i;
    if (!status_.ok() || i >= table_->footer_.data_blocks) return false;
    auto block = table_->DataBlock(i, fill_cache_);
    if (!block.ok()) {
      status_ = block.status();
      return false;
    }
    block_it_.emplace(std::move(block).value());
    return true;
  }
  void Fail(std::string what) {
    status_ = Status::Corruption(fmt::format("{}: data block {}: {}", table_->name_, index_, what));
    block_it_.reset();
  }
  // Checks the current entry, or moves to the next block at a block's end.
  void Settle() {
    while (block_it_) {
      if (block_it_->Valid()) {
        CheckEntry();
        return;
      }
      if (!block_it_->status().ok()) {
        status_ = block_it_->status();
        block_it_.reset();
        return;
      }
      if (have_prev_ && std::string_view(prev_key_, kKeySize) != table_->IndexKey(index_)) {
        return Fail("last key differs from the index [SST-9]");
      }
      if (Load(index_ + 1)) block_it_->SeekToFirst();
    }
  }
  void CheckEntry() {
    const Footer& f = table_->footer_;
    const std::string_view k = block_it_->key();
    const uint64_t s = block_it_->seq();
    if (k < f.min_key || k > f.max_key || s < f.min_seq || s > f.max_seq) {
      return Fail("entry outside the footer's key or sequence range");
    }
    if (have_prev_) {
      const int cmp = std::memcmp(prev_key_, k.data(), kKeySize);
      if (cmp > 0 || (cmp == 0 && prev_seq_ <= s)) return Fail("key out of order [SST-9]");
    }
  }

  const std::shared_ptr<const Table> table_;
  const bool fill_cache_;
  uint64_t index_ = 0;
  std::optional<Block::Iterator> block_it_;
  Status status_;
  char prev_key_[kKeySize] = {};
  uint64_t prev_seq_ = 0;
  bool have_prev_ = false;
};

std::unique_ptr<Iterator> Table::NewIterator(bool fill_cache) const {
  return std::make_unique<TableIterator>(shared_from_this(), fill_cache);
}

}  // namespace hanshiro::sstable
