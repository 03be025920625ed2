// libFuzzer target: a WAL segment of arbitrary bytes through the scanner
// (every per-record and cross-record check, commit roots against a tree
// rebuilt in memory). Beyond "no crash, no out-of-bounds read", it checks that
// damage is reported as Corruption or IntegrityBroken only, that committed
// groups come out with consecutive sequence numbers, and that a torn tail
// starts where the committed data ends.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "hanshiro/env.h"
#include "integrity/merkle.h"
#include "wal/scanner.h"
#include "wal/segment.h"

namespace {

class MemoryTree final : public hanshiro::wal::TreeSink {
 public:
  uint64_t size() const override { return tree_.size(); }
  hanshiro::Status Append(const hanshiro::wal::Group& g, size_t first) override {
    tree_.Append(g.leaves.subspan(first));
    return hanshiro::Status::OK();
  }
  hanshiro::Hash256 Root() const override { return tree_.Root(); }

 private:
  hanshiro::integrity::CompactTree tree_;
};

const std::string& Dir() {
  static const std::string dir = [] {
    std::string pattern = "/tmp/hanshiro-fuzz-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    return pattern;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hanshiro;
  Env* env = Env::Default();
  const std::string path = wal::SegmentFileName(Dir(), 1);
  if (!WriteStringToFile(env, {reinterpret_cast<const char*>(data), size}, path, false).ok()) {
    std::abort();
  }
  MemoryTree tree;
  uint64_t expected = UINT64_MAX;
  wal::ScanParams params;
  params.tree = &tree;
  params.on_group = [&](const wal::Group& g) {
    for (const wal::GroupRecord& r : g.records) {
      if (expected != UINT64_MAX && r.seq != expected) std::abort();
      expected = r.seq + 1;
    }
    return Status::OK();
  };
  const uint64_t numbers[] = {1};
  wal::ScanResult result = wal::ScanSegments(env, Dir(), numbers, params);
  if (!result.error.ok() && !result.error.IsCorruption() && !result.error.IsIntegrityBroken()) {
    std::abort();
  }
  if (result.torn && !result.torn->whole_file &&
      (result.torn->offset != result.last_commit_end ||
       result.torn->offset + result.torn->bytes != size)) {
    std::abort();
  }
  return 0;
}
