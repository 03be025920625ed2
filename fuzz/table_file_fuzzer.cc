// libFuzzer target: arbitrary bytes as a table file (docs/format/sstable.md)
// and as a manifest (docs/format/manifest.md). Opening must fail with
// Corruption or give a table whose every read — full scan, seeks, gets, id
// lookups — ends in Corruption or in entries in internal order, without any
// out-of-bounds access. Seeds: tests/golden/sstable_v1_*.sst (scripts/fuzz.sh).
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "hanshiro/env.h"
#include "lsm/manifest.h"
#include "sstable/table.h"

namespace {

const std::string& Path() {
  static const std::string path = [] {
    std::string pattern = "/tmp/hanshiro-tfuzz-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    return pattern + "/000001.sst";
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hanshiro;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)lsm::manifest::Decode(bytes, "fuzz");

  if (!WriteStringToFile(Env::Default(), bytes, Path(), false).ok()) std::abort();
  sstable::BlockCache cache(1 << 20);
  auto table = sstable::Table::Open(Env::Default(), Path(), 1, &cache);
  if (!table.ok()) {
    if (!table.status().IsCorruption() && !table.status().IsIOError()) std::abort();
    return 0;
  }
  auto it = (*table)->NewIterator();
  std::string prev;
  uint64_t prev_seq = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key(it->key());
    if (!prev.empty() && (key < prev || (key == prev && it->seq() >= prev_seq))) std::abort();
    prev = key;
    prev_seq = it->seq();
    std::string value;
    (void)(*table)->Get(key, &value, nullptr);
    (void)(*table)->FindKey(key.substr(9));
  }
  if (!it->status().ok() && !it->status().IsCorruption()) std::abort();
  it->Seek(std::string(25, '\x01'));
  return 0;
}
