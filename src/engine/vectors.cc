#include "engine/vectors.h"

#include <cmath>
#include <set>

#include <fmt/format.h>

#include "base/blake3.h"
#include "base/coding.h"
#include "vector/distance.h"

namespace hanshiro::engine {

namespace {

const std::vector<float>* VectorOf(const Value& v) {
  if (const auto* e = std::get_if<Event>(&v)) return &e->vector;
  if (const auto* c = std::get_if<CodeArtifact>(&v)) return &c->vector;
  return nullptr;
}

// "d128-cosine" -> (128, cosine); false for other names.
bool ParseDirName(const std::string& name, uint32_t* dim, std::string* metric) {
  if (name.size() < 3 || name[0] != 'd') return false;
  const size_t dash = name.find('-');
  if (dash == std::string::npos || dash == 1) return false;
  uint64_t d = 0;
  for (size_t i = 1; i < dash; ++i) {
    if (name[i] < '0' || name[i] > '9' || d > 100000) return false;
    d = d * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *dim = static_cast<uint32_t>(d);
  *metric = name.substr(dash + 1);
  return true;
}

// Tombstones the live row of `id`, if it has one, for the record `seq`.
Status RemoveIfLive(vector::Collection* c, const EventId& id, uint64_t seq) {
  return c->Contains(id) ? c->Remove(id, seq) : Status::OK();
}

}  // namespace

vector::RowMeta Vectors::MetaFor(const Value& value, uint64_t seq) {
  vector::RowMeta m;
  m.id = IdOf(value);
  m.seq = seq;
  m.time_ns = KeyTimeOf(value);
  m.kind = static_cast<uint8_t>(KindOf(value));
  if (const auto* e = std::get_if<Event>(&value)) {
    m.event_type = static_cast<uint16_t>(e->type.code);
    if (!e->source.host.empty()) m.host_hash = DecodeFixed64(blake3::Hash(e->source.host).view().data());
  }
  return m;
}

std::string Vectors::DirFor(uint32_t dim) const {
  return JoinPath(root_, fmt::format("d{}-{}", dim, vector::MetricName(metric_)));
}

Result<std::unique_ptr<Vectors>> Vectors::Prepare(Env* env, const std::string& root, uint32_t dim,
                                                  vector::Metric metric) {
  std::unique_ptr<Vectors> v(new Vectors(env, root, metric));
  if (!env->FileExists(root)) return v;
  HANSHIRO_ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(root));
  uint32_t found = 0;
  for (const std::string& name : names) {
    uint32_t d = 0;
    std::string m;
    if (!ParseDirName(name, &d, &m)) continue;
    if (found != 0) {
      return Status::Corruption(fmt::format("{}: holds more than one collection", root));
    }
    if (m != vector::MetricName(metric)) {
      return Status::InvalidArgument(fmt::format(
          "{}: the database's vectors use the {} metric, not {}", JoinPath(root, name), m,
          vector::MetricName(metric)));
    }
    found = d;
  }
  if (found == 0) return v;
  if (dim != 0 && dim != found) {
    return Status::InvalidArgument(
        fmt::format("the database's vectors have {} dimensions, not {}", found, dim));
  }
  // Opened once to learn where it ends and which ids have rows; FinishOpen
  // reopens it against the log.
  HANSHIRO_ASSIGN_OR_RETURN(v->found_, vector::Collection::Open(v->DirFor(found), found, metric,
                                                                UINT64_MAX));
  // The whole log that is left is replayed, not only what follows the last
  // row: the rows and tombstones written since the last Sync may have reached
  // the disk in any order (a power cut), and the log keeps every record since
  // that Sync (segments go only after one). Replaying it redoes lost
  // removals; [VEC-8] at open undoes removals the log lost.
  v->replay_from_ = 0;
  v->found_next_ = v->found_->open_report().next_seq;
  v->opening_ = true;
  v->dim_ = found;
  return v;
}

Status Vectors::CollectReplay(uint64_t seq, const Value& value) {
  const std::vector<float>* vec = VectorOf(value);
  if (vec == nullptr) return Status::OK();  // index entries never carry one
  if (vec->empty()) {
    // A newer version without a vector: its id's row, if any, goes.
    const EventId id = IdOf(value);
    if (pending_ids_.erase(id) > 0 || (found_ != nullptr && found_->Contains(id))) {
      pending_.push_back({MetaFor(value, seq), /*remove=*/true});
    }
    return Status::OK();
  }
  if (vec->size() != dim()) {
    if (dim() != 0) {
      return Status::Corruption(fmt::format(
          "wal record seq {}: a {}-dimensional vector in a {}-dimensional database", seq,
          vec->size(), dim()));
    }
    dim_ = static_cast<uint32_t>(vec->size());  // the first vector fixed it
  }
  // A row the collection has is left to it: if the tombstone it put on an
  // older row of the id was lost, open tombstones that row again [VEC-7].
  if (seq < found_next_) return Status::OK();
  pending_.push_back({MetaFor(value, seq), /*remove=*/false});
  pending_ids_.insert(pending_.back().meta.id);
  pending_rows_.insert(pending_rows_.end(), vec->begin(), vec->end());
  return Status::OK();
}

Status Vectors::FinishOpen(uint64_t acknowledged) {
  found_.reset();
  if (dim() == 0) return Status::OK();
  std::lock_guard lock(create_mu_);
  HANSHIRO_RETURN_IF_ERROR(CreateDirDurably(env_, root_));
  HANSHIRO_RETURN_IF_ERROR(CreateDirDurably(env_, DirFor(dim())));
  HANSHIRO_ASSIGN_OR_RETURN(owned_,
                            vector::Collection::Open(DirFor(dim()), dim(), metric_, acknowledged));
  const uint64_t next = owned_->open_report().next_seq;
  size_t row = 0;  // of pending_rows_
  for (const PendingOp& op : pending_) {
    const EventId& id = op.meta.id;
    if (op.remove) {
      // Again, in case its tombstone did not reach the disk: the id's row
      // goes if it is older than this newer version.
      if (auto live = owned_->LiveSeq(id); live && *live < op.meta.seq) {
        HANSHIRO_RETURN_IF_ERROR(owned_->Remove(id, op.meta.seq));
      }
      continue;
    }
    const auto vec = std::span(pending_rows_).subspan(row++ * dim(), dim());
    if (op.meta.seq < next) continue;  // the collection has it
    // A newer version of a value replaces the older one's row.
    HANSHIRO_RETURN_IF_ERROR(RemoveIfLive(owned_.get(), id, op.meta.seq));
    HANSHIRO_RETURN_IF_ERROR(owned_->Add(op.meta, vec));
  }
  pending_.clear();
  pending_.shrink_to_fit();
  pending_ids_.clear();
  pending_rows_.clear();
  pending_rows_.shrink_to_fit();
  // What open repaired ([VEC-5..8]) and redid is on disk before new records
  // take sequence numbers the repairs are judged by.
  HANSHIRO_RETURN_IF_ERROR(owned_->Sync());
  opening_.store(false, std::memory_order_release);
  collection_.store(owned_.get(), std::memory_order_release);
  return Status::OK();
}

Status Vectors::Create(uint32_t dim, uint64_t acknowledged) {
  HANSHIRO_RETURN_IF_ERROR(CreateDirDurably(env_, root_));
  HANSHIRO_RETURN_IF_ERROR(CreateDirDurably(env_, DirFor(dim)));
  HANSHIRO_ASSIGN_OR_RETURN(owned_, vector::Collection::Open(DirFor(dim), dim, metric_, acknowledged));
  dim_.store(dim, std::memory_order_release);
  collection_.store(owned_.get(), std::memory_order_release);
  return Status::OK();
}

Result<size_t> Vectors::Check(std::span<const Value> values, uint64_t acknowledged) {
  std::set<EventId> ids;
  for (size_t i = 0; i < values.size(); ++i) {
    const std::vector<float>* vec = VectorOf(values[i]);
    if (vec == nullptr || vec->empty()) continue;
    if (vec->size() > vector::kMaxDim) {
      return Status::InvalidArgument(fmt::format("value {}: vector: {} dimensions (at most {})", i,
                                                 vec->size(), vector::kMaxDim));
    }
    if (dim() == 0) {
      std::lock_guard lock(create_mu_);
      if (dim() == 0) HANSHIRO_RETURN_IF_ERROR(Create(static_cast<uint32_t>(vec->size()), acknowledged));
    }
    if (vec->size() != dim()) {
      return Status::InvalidArgument(fmt::format(
          "value {}: vector: {} dimensions, but this database's vectors have {}", i, vec->size(),
          dim()));
    }
    if (const size_t j = vector::FirstNonFinite(vec->data(), vec->size()); j < vec->size()) {
      return Status::InvalidArgument(fmt::format("value {}: vector[{}] is not finite", i, j));
    }
    if (!ids.insert(IdOf(values[i])).second) {
      return Status::InvalidArgument(
          fmt::format("value {}: id {} carries a vector twice in one batch", i,
                      IdOf(values[i]).ToString()));
    }
  }
  return ids.size();
}

Status Vectors::Add(std::span<const Value> values, uint64_t first_seq,
                    std::span<const size_t> unvectored) {
  Status s = Apply(values, first_seq, unvectored);
  // The log keeps the batch's records only while the sync before a segment
  // goes succeeds: after this, none goes, and the next open replays them.
  if (!s.ok()) failed_.store(true, std::memory_order_release);
  return s;
}

Status Vectors::Apply(std::span<const Value> values, uint64_t first_seq,
                      std::span<const size_t> unvectored) {
  // Null means no vector was ever written (Check creates it before a batch
  // with one is logged), so there is no row to replace either.
  vector::Collection* c = collection_.load(std::memory_order_acquire);
  if (c == nullptr) return Status::OK();
  std::vector<vector::RowMeta> metas;
  std::vector<float> rows;
  size_t next = 0;  // of unvectored
  for (size_t i = 0; i < values.size(); ++i) {
    if (next < unvectored.size() && unvectored[next] == i) {
      ++next;
      // Rows this batch added before go in first, so the removal sees them.
      if (!metas.empty()) HANSHIRO_RETURN_IF_ERROR(c->AddBatch(metas, rows));
      metas.clear();
      rows.clear();
      HANSHIRO_RETURN_IF_ERROR(RemoveIfLive(c, IdOf(values[i]), first_seq + i));
      continue;
    }
    const std::vector<float>* vec = VectorOf(values[i]);
    if (vec == nullptr || vec->empty()) continue;
    metas.push_back(MetaFor(values[i], first_seq + i));
    rows.insert(rows.end(), vec->begin(), vec->end());
    HANSHIRO_RETURN_IF_ERROR(RemoveIfLive(c, metas.back().id, first_seq + i));
  }
  if (metas.empty()) return Status::OK();
  return c->AddBatch(metas, rows);
}

Status Vectors::Sync() const {
  // Until open has replayed the log into the collection, the log must keep
  // every segment (its segments go only after this succeeds).
  if (opening_.load(std::memory_order_acquire)) return Status::Busy("vectors: opening");
  if (failed_.load(std::memory_order_acquire)) {
    return Status::IOError("vectors: a batch's vectors were not stored; the log keeps them");
  }
  vector::Collection* c = collection_.load(std::memory_order_acquire);
  return c != nullptr ? c->Sync() : Status::OK();
}

}  // namespace hanshiro::engine
