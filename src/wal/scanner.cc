#include "wal/scanner.h"

#include <fmt/format.h>

#include "integrity/merkle.h"
#include "wal/segment.h"

namespace hanshiro::wal {
namespace {

class Scan {
 public:
  Scan(Env* env, const std::string& dir, const ScanParams& params)
      : env_(env), dir_(dir), params_(params) {}

  ScanResult Run(std::span<const uint64_t> numbers) {
    for (size_t i = 0; i < numbers.size() && result_.error.ok() && !result_.torn; ++i) {
      if (i > 0 && numbers[i] != numbers[i - 1] + 1) {
        result_.error = Status::Corruption(fmt::format(
            "wal {:06d}: missing; {:06d} is followed by {:06d} (seq {}) [WAL-13]",
            numbers[i - 1] + 1, numbers[i - 1], numbers[i], result_.next_seq));
        break;
      }
      ScanSegment(numbers[i], i == 0, i + 1 == numbers.size());
    }
    return std::move(result_);
  }

 private:
  Status Break(Status::Code code, const char* rule, std::string_view what, uint64_t seq,
               uint64_t offset) {
    std::string msg = fmt::format("wal {:06d}: {} at seq {} (offset {})", number_, what, seq,
                                  offset);
    if (*rule != '\0') msg += fmt::format(" {}", rule);
    return code == Status::Code::kCorruption ? Status::Corruption(std::move(msg))
                                             : Status::IntegrityBroken(std::move(msg));
  }

  Status CheckHeader(const SegmentHeader& h, bool first) {
    const uint32_t algo = params_.integrity ? kHashBlake3 : kHashNone;
    if (h.number != number_) {
      return Break(Status::Code::kCorruption, "[WAL-4]",
                   fmt::format("header names segment {:06d}", h.number), h.first_seq, 0);
    }
    if (h.hash_algorithm != algo) {
      return Break(Status::Code::kCorruption, "[WAL-3]",
                   params_.integrity ? "segment written without integrity"
                                     : "segment written with integrity (open with integrity on)",
                   h.first_seq, 0);
    }
    if (!first && h.first_seq != result_.next_seq) {
      return Break(Status::Code::kCorruption, "[WAL-12]",
                   fmt::format("segment starts at seq {} but the previous one ended", h.first_seq),
                   result_.next_seq, 0);
    }
    if (params_.tree != nullptr && params_.tree->size() == h.first_seq &&
        params_.tree->Root() != h.root) {
      return Break(Status::Code::kIntegrityBroken, "[WAL-12]",
                   "segment header root differs from the tree", h.first_seq, 0);
    }
    return Status::OK();
  }

  void ScanSegment(uint64_t number, bool first, bool last) {
    number_ = number;
    file_ = SegmentFileName(dir_, number);
    const uint64_t limit = last ? params_.last_segment_limit : UINT64_MAX;
    auto reader = SegmentReader::Open(env_, file_, limit);
    if (!reader.ok()) {
      if (reader.status().IsNotFound() && last) {
        // Crashed while creating the file: nothing was ever committed in it.
        if (first) result_.next_seq = params_.tree != nullptr ? params_.tree->size() : 0;
        auto size = env_->GetFileSize(file_);
        result_.torn = TornTail{file_, 0, size.ok() ? *size : 0, true};
        return;
      }
      result_.error = reader.status();
      return;
    }
    SegmentReader& r = **reader;
    result_.error = CheckHeader(r.header(), first);
    if (!result_.error.ok()) return;
    if (first) {
      result_.next_seq = r.header().first_seq;
      if (params_.tree != nullptr && r.header().first_seq > params_.tree->size()) {
        result_.error = Break(Status::Code::kCorruption, "[WAL-12]",
                              "first segment starts after the trusted tree size",
                              params_.tree->size(), 0);
        return;
      }
    }
    result_.last_commit_end = kSegmentHeaderSize;
    ClearGroup();
    RecordView rec;
    std::string why;
    for (;;) {
      const SegmentReader::Outcome outcome = r.Next(&rec, &why);
      if (outcome == SegmentReader::Outcome::kRecord) {
        if (!OnRecord(rec)) return;
        continue;
      }
      if (outcome == SegmentReader::Outcome::kEnd && records_.empty()) return;  // clean
      // The bytes after the last commit record do not form a whole group.
      const uint64_t at = r.offset();
      if (last) {
        auto later_commit = r.CommitRecordAfter(at);
        if (later_commit.ok() && !*later_commit) {
          result_.torn = TornTail{file_, result_.last_commit_end, r.size() - result_.last_commit_end,
                                  false};
          return;
        }
      }
      const uint64_t seq = result_.next_seq + records_.size();
      if (outcome == SegmentReader::Outcome::kBad) {
        // The reader's message ends with its rule ("... [WAL-5]"); put it last.
        const size_t rule_at = why.rfind(" [");
        const std::string rule = rule_at == std::string::npos ? "" : why.substr(rule_at + 1);
        result_.error = Break(Status::Code::kCorruption, rule.c_str(), why.substr(0, rule_at), seq, at);
      } else {
        result_.error = Break(Status::Code::kCorruption, last ? "[WAL-15]" : "[WAL-14]",
                              outcome == SegmentReader::Outcome::kEnd
                                  ? "segment ends inside a commit group"
                                  : "segment ends inside a record",
                              seq, at);
      }
      return;
    }
  }

  // False when scanning must stop (an error was recorded).
  bool OnRecord(const RecordView& rec) {
    const uint64_t expected = result_.next_seq + records_.size();
    if (IsLeafKind(rec.kind)) {
      if (rec.seq != expected) {
        result_.error = Break(Status::Code::kCorruption, "[WAL-9]",
                              fmt::format("record carries seq {}, expected", rec.seq), expected,
                              rec.offset);
        return false;
      }
      // Each leaf input behind the leaf prefix, as LeafHashManyPrefixed wants.
      arena_.push_back(static_cast<char>(integrity::kLeafPrefix));
      const size_t at = arena_.size();
      arena_.append(rec.leaf_input);
      records_.push_back({rec.seq, rec.kind, rec.offset, {}});
      offsets_.push_back(at);
      return true;
    }
    // A commit record ends the group.
    if (rec.seq != expected) {
      result_.error = Break(Status::Code::kCorruption, "[WAL-10]",
                            fmt::format("commit record carries tree size {}, expected", rec.seq),
                            expected, rec.offset);
      return false;
    }
    if (rec.payload.size() != (params_.integrity ? Hash256::kSize : 0)) {
      result_.error = Break(Status::Code::kCorruption, "[WAL-10]", "commit record has the wrong length",
                            expected, rec.offset);
      return false;
    }
    result_.error = CommitGroup(rec);
    return result_.error.ok();
  }

  Status CommitGroup(const RecordView& commit) {
    inputs_.clear();
    for (size_t i = 0; i < records_.size(); ++i) {
      const size_t end = i + 1 < offsets_.size() ? offsets_[i + 1] - 1 : arena_.size();
      std::string_view input(arena_.data() + offsets_[i], end - offsets_[i]);
      records_[i].payload = input.substr(kRecordHeaderSize - kCrcSize);
      inputs_.emplace_back(input.data() - 1, input.size() + 1);
    }
    Group g{&file_, records_, {}, commit.offset};
    if (params_.integrity) {
      leaves_.resize(records_.size());
      integrity::LeafHashManyPrefixed(inputs_, leaves_);
      g.leaves = leaves_;
    }
    if (params_.tree != nullptr) {
      TreeSink& tree = *params_.tree;
      const uint64_t group_start = result_.next_seq;
      if (tree.size() >= group_start && tree.size() < commit.seq) {
        HANSHIRO_RETURN_IF_ERROR(tree.Append(g, tree.size() - group_start));
      }
      if (tree.size() == commit.seq) {
        Hash256 stored;
        std::copy(commit.payload.begin(), commit.payload.end(), stored.bytes.begin());
        if (stored != tree.Root()) {
          return Break(Status::Code::kIntegrityBroken, "[WAL-11]",
                       fmt::format("commit record root differs from the tree rebuilt from "
                                   "records {}..{}",
                                   group_start, commit.seq - 1),
                       commit.seq, commit.offset);
        }
      }
    }
    if (params_.on_group) HANSHIRO_RETURN_IF_ERROR(params_.on_group(g));
    result_.records += records_.size();
    result_.next_seq = commit.seq;
    result_.last_commit_end = commit.end();
    ClearGroup();
    return Status::OK();
  }

  void ClearGroup() {
    arena_.clear();
    records_.clear();
    offsets_.clear();
  }

  Env* const env_;
  const std::string& dir_;
  const ScanParams& params_;
  ScanResult result_;
  uint64_t number_ = 0;
  std::string file_;
  // The current group: leaf inputs copied into one arena.
  std::string arena_;
  std::vector<GroupRecord> records_;
  std::vector<size_t> offsets_;
  std::vector<std::string_view> inputs_;
  std::vector<Hash256> leaves_;
};

}  // namespace

ScanResult ScanSegments(Env* env, const std::string& dir, std::span<const uint64_t> numbers,
                        const ScanParams& params) {
  return Scan(env, dir, params).Run(numbers);
}

}  // namespace hanshiro::wal
