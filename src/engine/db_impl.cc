#include "engine/db_impl.h"

#include <algorithm>
#include <chrono>
#include <set>

#include <fmt/format.h>

#include "base/blake3.h"
#include "base/coding.h"
#include "base/hex.h"
#include "base/record.h"
#include "hanshiro/storage_key.h"
#include "integrity/checkpoint.h"

namespace hanshiro::engine {

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr size_t kMaxScanLimit = 10'000;

double MicrosSince(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::micro>(SteadyClock::now() - start).count();
}

std::string IdBytes(const EventId& id) {
  char b[16];
  id.EncodeTo(b);
  return std::string(b, 16);
}

vector::Metric ToMetric(VectorMetric m) {
  switch (m) {
    case VectorMetric::kCosine: return vector::Metric::kCosine;
    case VectorMetric::kInnerProduct: return vector::Metric::kInnerProduct;
    case VectorMetric::kL2: return vector::Metric::kL2;
  }
  return vector::Metric::kCosine;
}

int64_t WindowNs(PartitionWindow w) {
  switch (w) {
    case PartitionWindow::kHourly: return lsm::kHourNs;
    case PartitionWindow::kSixHourly: return lsm::kSixHoursNs;
    case PartitionWindow::kDaily: return lsm::kDayNs;
  }
  return lsm::kHourNs;
}

lsm::Options StoreOptions(const Options& o, Env* env) {
  lsm::Options s;
  s.env = env;
  s.sync_on_write = o.sync_on_write;
  s.max_batch_size = o.max_batch_size;
  s.group_commit_delay_us = o.group_commit_delay_us;
  s.wal_file_size = o.wal_file_size;
  s.integrity = o.integrity;
  s.memtable_max_entries = o.memtable_max_entries;
  s.memtable_max_bytes = o.memtable_max_bytes;
  s.table.block_size = o.block_size;
  s.table.compression = static_cast<sstable::Compression>(o.compression);
  s.table.bloom_bits_per_key = o.bloom_bits_per_key;
  s.table.index_interval = o.index_interval;
  s.target_file_size = o.target_file_size;
  s.block_cache_size = o.block_cache_size;
  s.max_open_files = o.max_open_files;
  s.flush_interval_ms = o.flush_interval_ms;
  s.compaction_interval_ms = o.compaction_interval_ms;
  s.partition_window_ns = WindowNs(o.partition_window);
  s.retention_ns = static_cast<int64_t>(o.retention_days) * lsm::kDayNs;
  return s;
}

Status CheckOptions(const Options& o) {
  if (o.vector_dim > vector::kMaxDim) {
    return Status::InvalidArgument(fmt::format("vector_dim {} is over {}", o.vector_dim, vector::kMaxDim));
  }
  if (!(o.correlation_threshold >= -1.0f && o.correlation_threshold <= 1.0f)) {
    return Status::InvalidArgument("correlation_threshold must be between -1 and 1");
  }
  if (o.max_batch_size == 0) return Status::InvalidArgument("max_batch_size must be > 0");
  if (static_cast<uint8_t>(o.compression) > 3) return Status::InvalidArgument("compression");
  return Status::OK();
}

// "sha256 1" -> (reason, score).
bool ParseLinkValue(std::string_view v, CorrelationReason* reason, float* score) {
  const size_t space = v.find(' ');
  const std::string_view name = v.substr(0, space);
  for (int r = 0; r <= static_cast<int>(CorrelationReason::kManual); ++r) {
    if (CorrelationReasonName(static_cast<CorrelationReason>(r)) == name) {
      *reason = static_cast<CorrelationReason>(r);
      *score = space == std::string_view::npos ? 1.0f : std::strtof(std::string(v.substr(space + 1)).c_str(), nullptr);
      return true;
    }
  }
  return false;
}

float ScoreOf(vector::Metric metric, float distance) {
  switch (metric) {
    case vector::Metric::kCosine: return 1.0f - distance;
    case vector::Metric::kInnerProduct: return -distance;
    case vector::Metric::kL2: return -distance;
  }
  return -distance;
}

bool EventMatches(const Event& e, const ScanQuery& q) {
  if (q.type && !(e.type == *q.type)) return false;
  if (q.host && e.source.host != *q.host) return false;
  for (const auto& [k, v] : q.metadata) {
    auto it = e.metadata.find(k);
    if (it == e.metadata.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

DBImpl::DBImpl(const Options& options, std::string dir)
    : options_(options), dir_(std::move(dir)), env_(options.env ? options.env : Env::Default()) {}

DBImpl::~DBImpl() {
  if (store_) (void)store_->Close();
}

Result<std::unique_ptr<DBImpl>> DBImpl::Open(const Options& options, const std::string& dir) {
  HANSHIRO_RETURN_IF_ERROR(CheckOptions(options));
  std::unique_ptr<DBImpl> db(new DBImpl(options, dir));
  HANSHIRO_RETURN_IF_ERROR(db->OpenStore());
  HANSHIRO_RETURN_IF_ERROR(db->LoadIndexes());
  return db;
}

Status DBImpl::OpenStore() {
  HANSHIRO_RETURN_IF_ERROR(CreateDirDurably(env_, dir_));
  HANSHIRO_ASSIGN_OR_RETURN(vectors_, Vectors::Prepare(env_, JoinPath(dir_, "vectors"),
                                                       options_.vector_dim,
                                                       ToMetric(options_.vector_metric)));
  lsm::ReplayHook hook;
  if (vectors_->replay_from() != UINT64_MAX) {
    hook.from = vectors_->replay_from();
    hook.fn = [this](uint64_t seq, uint8_t, std::string_view record) -> Status {
      auto value = record::Decode(record);
      if (!value.ok()) return value.status().WithContext(fmt::format("wal record seq {}", seq));
      return vectors_->CollectReplay(seq, *value);
    };
  }
  lsm::Options store_options = StoreOptions(options_, env_);
  store_options.sync_applied = [v = vectors_.get()] { return v->Sync(); };
  HANSHIRO_ASSIGN_OR_RETURN(store_, lsm::DB::Open(store_options, dir_, hook));
  return vectors_->FinishOpen(store_->log()->size());
}

void DBImpl::RememberLink(const Correlation& c) {
  for (const EventId& id : {c.log_id, c.code_id}) {
    auto& list = links_[id];
    const bool known = std::any_of(list.begin(), list.end(), [&](const Correlation& x) {
      return x.log_id == c.log_id && x.code_id == c.code_id && x.reason == c.reason;
    });
    if (!known) list.push_back(c);
  }
}

// REQUIRES: maps_mu_ held exclusively (or no other thread yet).
void DBImpl::Remember(const IndexEntry& e) {
  if (e.field == kCorrelationField && e.refs.size() == 2) {
    Correlation c;
    c.log_id = e.refs[0];
    c.code_id = e.refs[1];
    if (ParseLinkValue(e.value, &c.reason, &c.score)) RememberLink(c);
  } else if (e.field == kLinkField) {
    auto code = EventId::Parse(e.value);
    if (!code.ok()) return;
    for (const EventId& log : e.refs) RememberLink({log, *code, CorrelationReason::kManual, 1.0f});
  } else if (e.field == kCursorField) {
    correlate_cursor_ = std::max<uint64_t>(correlate_cursor_, std::strtoull(e.value.c_str(), nullptr, 10));
  } else if (!e.field.starts_with(kReservedPrefix)) {
    index_[{e.field, e.value}].push_back(e.id);
  }
}

Status DBImpl::LoadIndexes() {
  std::unique_lock lock(maps_mu_);
  const std::string code_lo(1, '\x02'), index_lo(1, '\x03'), end(1, '\x04');
  auto it = store_->NewIterator(code_lo, end);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    HANSHIRO_ASSIGN_OR_RETURN(Value v, record::Decode(it->value()));
    if (auto* a = std::get_if<CodeArtifact>(&v)) {
      artifacts_.Add(*a);
    } else if (auto* e = std::get_if<IndexEntry>(&v)) {
      Remember(*e);
    }
  }
  return it->status();
}

// ---------------------------------------------------------------------------
// Writes

Result<std::vector<EventId>> DBImpl::WriteValues(std::vector<Value> values) {
  const auto start = SteadyClock::now();
  if (values.empty()) return Status::InvalidArgument("empty batch");
  {
    std::lock_guard lock(error_mu_);
    HANSHIRO_RETURN_IF_ERROR(error_);
  }
  const int64_t now = clock_->NowUnixNanos();
  // Every record and key of the batch in one buffer each (no allocation per
  // value); the views are taken once the buffers stop growing.
  std::string records;
  std::string keys(values.size() * StorageKey::kSize, '\0');
  std::vector<size_t> ends(values.size());
  std::vector<EventId> out(values.size());
  size_t missing = 0;  // values that get a new id: all drawn at once
  for (const Value& v : values) missing += IdOf(v) == EventId() ? 1 : 0;
  std::vector<EventId> fresh(missing);
  ids_.NextMany(fresh);
  size_t next_fresh = 0;
  // Values that came with their own id and carry no vector: an id written
  // before may have a row in the vector store, which this newer version
  // removes. A fresh id has none.
  std::vector<size_t> unvectored;
  // By kind, added to the shared counters once the batch is written; counted
  // here, while each value is in the cache.
  uint64_t written[3] = {0, 0, 0};
  for (size_t i = 0; i < values.size(); ++i) {
    Value& v = values[i];
    switch (KindOf(v)) {
      case ValueKind::kLog: ++written[0]; break;
      case ValueKind::kCode: ++written[1]; break;
      case ValueKind::kIndex: ++written[2]; break;
    }
    std::visit(
        [&](auto& x) {
          if (x.id == EventId()) {
            x.id = fresh[next_fresh++];
          } else if constexpr (requires { x.vector; }) {  // events and code artifacts
            if (x.vector.empty()) unvectored.push_back(i);
          }
          if constexpr (std::is_same_v<std::decay_t<decltype(x)>, Event>) {
            if (x.ingest_time_ns == 0) x.ingest_time_ns = now;
          }
        },
        v);
    if (i == 1) {  // sized from the first record, within reason (one may be far larger)
      records.reserve(std::min(records.size() * values.size() * 9 / 8, size_t{64} << 20));
    }
    Status s = record::Encode(v, &records);
    if (!s.ok()) return Status::InvalidArgument(fmt::format("value {}: {}", i, s.message()));
    ends[i] = records.size();
    const StorageKey key = StorageKey::For(v);
    std::memcpy(keys.data() + i * StorageKey::kSize, key.view().data(), StorageKey::kSize);
    out[i] = IdOf(v);
  }
  std::vector<lsm::WriteRecord> batch(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const size_t begin = i == 0 ? 0 : ends[i - 1];
    batch[i] = {std::string_view(keys).substr(i * StorageKey::kSize, StorageKey::kSize),
                std::string_view(records).substr(begin, ends[i] - begin)};
  }
  HANSHIRO_ASSIGN_OR_RETURN(const size_t with_vectors,
                            vectors_->Check(values, store_->log()->size()));
  Status vector_status;
  // Vectors are added and removed in log order, in the writers' turns; a
  // batch with nothing to do there passes no step.
  lsm::DB::ApplyFn add_vectors;
  if (with_vectors > 0 || !unvectored.empty()) {
    add_vectors = [&](uint64_t first_seq) {
      vector_status = vectors_->Add(values, first_seq, unvectored);
    };
  }
  auto first = store_->Write(batch, add_vectors);
  if (!first.ok()) {
    metrics_.write_errors.fetch_add(1, std::memory_order_relaxed);
    return first.status();
  }
  if (!vector_status.ok()) {
    // Logged but not in the vector store: the next open replays it there;
    // until then writes are refused rather than answered inconsistently.
    std::lock_guard lock(error_mu_);
    if (error_.ok()) error_ = vector_status.WithContext("vector store");
    return error_;
  }
  if (written[0] > 0) metrics_.events_written.fetch_add(written[0], std::memory_order_relaxed);
  if (written[1] > 0) metrics_.code_written.fetch_add(written[1], std::memory_order_relaxed);
  if (written[2] > 0) metrics_.index_written.fetch_add(written[2], std::memory_order_relaxed);
  metrics_.batch_size.Record(static_cast<double>(values.size()));
  metrics_.write_latency_us.Record(MicrosSince(start));
  return out;
}

Result<EventId> DBImpl::Write(Event event) {
  std::vector<Value> v;
  v.emplace_back(std::move(event));
  HANSHIRO_ASSIGN_OR_RETURN(std::vector<EventId> ids, WriteValues(std::move(v)));
  return ids[0];
}

Result<std::vector<EventId>> DBImpl::WriteBatch(std::vector<Event> events) {
  std::vector<Value> v;
  v.reserve(events.size());
  for (Event& e : events) v.emplace_back(std::move(e));
  return WriteValues(std::move(v));
}

Result<EventId> DBImpl::WriteCode(CodeArtifact artifact) {
  std::vector<CodeArtifact> one;
  one.push_back(std::move(artifact));
  HANSHIRO_ASSIGN_OR_RETURN(std::vector<EventId> ids, WriteCodeBatch(std::move(one)));
  return ids[0];
}

Result<std::vector<EventId>> DBImpl::WriteCodeBatch(std::vector<CodeArtifact> artifacts) {
  std::vector<Value> v(artifacts.begin(), artifacts.end());  // copies: the artifact index needs them after
  HANSHIRO_ASSIGN_OR_RETURN(std::vector<EventId> ids, WriteValues(std::move(v)));
  for (size_t i = 0; i < artifacts.size(); ++i) {
    artifacts[i].id = ids[i];
    artifacts_.Add(artifacts[i]);
  }
  return ids;
}

Result<EventId> DBImpl::CreateIndex(std::string field, std::string value, std::vector<EventId> ids) {
  if (field.starts_with(kReservedPrefix)) {
    return Status::InvalidArgument(fmt::format("index field '{}': names starting with '{}' are reserved",
                                               field, kReservedPrefix));
  }
  IndexEntry e;
  e.time_ns = clock_->NowUnixNanos();
  e.field = std::move(field);
  e.value = std::move(value);
  e.refs = std::move(ids);
  std::vector<Value> v;
  v.emplace_back(e);
  HANSHIRO_ASSIGN_OR_RETURN(std::vector<EventId> out, WriteValues(std::move(v)));
  e.id = out[0];
  std::unique_lock lock(maps_mu_);
  Remember(e);
  return out[0];
}

Result<std::vector<EventId>> DBImpl::LookupIndex(const std::string& field, const std::string& value) {
  std::shared_lock lock(maps_mu_);
  auto it = index_.find({field, value});
  if (it == index_.end()) return std::vector<EventId>();
  return it->second;
}

Status DBImpl::LinkCodeToLogs(const EventId& code_id, const std::vector<EventId>& log_ids) {
  if (log_ids.empty()) return Status::InvalidArgument("no log ids to link");
  HANSHIRO_RETURN_IF_ERROR(GetCode(code_id).status());
  for (const EventId& id : log_ids) HANSHIRO_RETURN_IF_ERROR(Get(id).status());
  IndexEntry e;
  e.time_ns = clock_->NowUnixNanos();
  e.field = std::string(kLinkField);
  e.value = code_id.ToString();
  e.refs = log_ids;
  std::vector<Value> v;
  v.emplace_back(e);
  HANSHIRO_RETURN_IF_ERROR(WriteValues(std::move(v)).status());
  std::unique_lock lock(maps_mu_);
  Remember(e);
  return Status::OK();
}

// ---------------------------------------------------------------------------
// Reads

Result<std::string> DBImpl::GetRecord(const EventId& id) {
  HANSHIRO_ASSIGN_OR_RETURN(std::optional<std::string> key, store_->FindKey(IdBytes(id)));
  if (!key) return Status::NotFound("no value with id " + id.ToString());
  std::string record;
  HANSHIRO_RETURN_IF_ERROR(store_->Get(*key, &record));
  return record;
}

Result<Value> DBImpl::GetValue(const EventId& id) {
  HANSHIRO_ASSIGN_OR_RETURN(std::string record, GetRecord(id));
  return record::Decode(record);
}

Result<Event> DBImpl::Get(const EventId& id) {
  HANSHIRO_ASSIGN_OR_RETURN(Value v, GetValue(id));
  if (auto* e = std::get_if<Event>(&v)) return std::move(*e);
  return Status::NotFound(fmt::format("{} is a {}, not an event", id.ToString(), ValueKindName(KindOf(v))));
}

Result<CodeArtifact> DBImpl::GetCode(const EventId& id) {
  HANSHIRO_ASSIGN_OR_RETURN(Value v, GetValue(id));
  if (auto* c = std::get_if<CodeArtifact>(&v)) return std::move(*c);
  return Status::NotFound(
      fmt::format("{} is a {}, not a code artifact", id.ToString(), ValueKindName(KindOf(v))));
}

Result<ScanPage> DBImpl::Scan(const ScanQuery& q) {
  if (q.limit == 0 || q.limit > kMaxScanLimit) {
    return Status::InvalidArgument(fmt::format("limit must be between 1 and {}", kMaxScanLimit));
  }
  if (q.from_ns < 0 || q.to_ns < q.from_ns) {
    return Status::InvalidArgument("time range: from must be >= 0 and <= to");
  }
  std::string lower(StorageKey(q.kind, q.from_ns, EventId()).view());
  const std::string upper = q.to_ns == INT64_MAX
                                ? std::string(1, static_cast<char>(static_cast<uint8_t>(q.kind) + 1))
                                : std::string(StorageKey(q.kind, q.to_ns, EventId()).view());
  if (!q.cursor.empty()) {
    std::string key;
    if (q.cursor.size() != 2 * StorageKey::kSize || !HexDecode(q.cursor, &key) ||
        !StorageKey::Decode(key).ok() || static_cast<uint8_t>(key[0]) != static_cast<uint8_t>(q.kind)) {
      return Status::InvalidArgument("cursor: not a cursor this query returned");
    }
    key.push_back('\0');  // strictly after the last value returned
    lower = std::max(lower, key);
  }
  ScanPage page;
  auto it = store_->NewIterator(lower, upper);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    HANSHIRO_ASSIGN_OR_RETURN(Value v, record::Decode(it->value()));
    if (auto* e = std::get_if<Event>(&v)) {
      if (!EventMatches(*e, q)) continue;
    } else if (q.host || q.type || !q.metadata.empty()) {
      continue;  // those filters name event fields
    }
    page.values.push_back(std::move(v));
    if (page.values.size() == q.limit) {
      page.next_cursor = HexEncode(it->key());
      break;
    }
  }
  HANSHIRO_RETURN_IF_ERROR(it->status());
  return page;
}

// ---------------------------------------------------------------------------
// Similarity and correlation

Result<std::vector<SimilarHit>> DBImpl::Search(std::span<const float> query, size_t k,
                                               const vector::Filter& filter) {
  const auto start = SteadyClock::now();
  const vector::Collection* c = vectors_->collection();
  if (c == nullptr) return std::vector<SimilarHit>();
  const int threads = c->rows() >= 100'000 ? 2 : 1;
  HANSHIRO_ASSIGN_OR_RETURN(std::vector<vector::Hit> hits, c->Search(query, k, filter, threads));
  std::vector<SimilarHit> out;
  for (const vector::Hit& h : hits) {
    out.push_back({h.id, static_cast<ValueKind>(c->MetaAt(h.row).kind), h.distance,
                   ScoreOf(vectors_->metric(), h.distance)});
  }
  metrics_.searches.fetch_add(1, std::memory_order_relaxed);
  metrics_.search_latency_us.Record(MicrosSince(start));
  return out;
}

Result<std::vector<SimilarHit>> DBImpl::FindSimilar(std::span<const float> query, size_t k,
                                                    const SimilarFilter& f) {
  if (k == 0 || k > 10'000) return Status::InvalidArgument("k must be between 1 and 10000");
  if (vectors_->dim() != 0 && query.size() != vectors_->dim()) {
    return Status::InvalidArgument(fmt::format("query vector: {} dimensions, but this database's vectors have {}",
                                               query.size(), vectors_->dim()));
  }
  vector::Filter filter;
  if (f.kind) filter.kind = static_cast<uint8_t>(*f.kind);
  if (f.type) filter.event_type = static_cast<uint16_t>(f.type->code);
  if (f.host) filter.host_hash = DecodeFixed64(blake3::Hash(*f.host).view().data());
  filter.time_from_ns = f.from_ns;
  filter.time_to_ns = f.to_ns;
  const bool custom = f.type && f.type->code == EventTypeCode::kCustom;
  if (!custom && !f.host) return Search(query, k, filter);
  // The store filters custom types by code and hosts by hash: check each hit
  // for real, widening the search until k hits match or none are left.
  for (size_t want = k;; want *= 4) {
    HANSHIRO_ASSIGN_OR_RETURN(std::vector<SimilarHit> hits, Search(query, want, filter));
    std::vector<SimilarHit> kept;
    for (const SimilarHit& h : hits) {
      auto v = GetValue(h.id);
      if (!v.ok()) continue;
      const auto* e = std::get_if<Event>(&*v);
      if (e == nullptr || (f.host && e->source.host != *f.host) || (custom && !(e->type == *f.type))) continue;
      kept.push_back(h);
      if (kept.size() == k) return kept;
    }
    if (hits.size() < want) return kept;  // the store has no more
  }
}

Result<CorrelateReport> DBImpl::Correlate() {
  std::lock_guard lock(correlate_mu_);
  CorrelateReport report;
  // Not the log's size: records it committed may still be on their way
  // into the memtable, and the cursor must not pass them unread.
  const uint64_t end = store_->applied();
  const vector::Collection* c = vectors_->collection();
  const bool cosine = vectors_->metric() == vector::Metric::kCosine;
  std::vector<Correlation> found;
  auto by_vector = [&](const std::vector<float>& vec, ValueKind other, const EventId& self, bool self_is_log) -> Status {
    if (c == nullptr || vec.empty() || vec.size() != vectors_->dim()) return Status::OK();
    vector::Filter filter;
    filter.kind = static_cast<uint8_t>(other);
    HANSHIRO_ASSIGN_OR_RETURN(std::vector<vector::Hit> hits, c->Search(vec, 16, filter));
    for (const vector::Hit& h : hits) {
      const float score = ScoreOf(vectors_->metric(), h.distance);
      if (!cosine || score < options_.correlation_threshold) continue;
      found.push_back(self_is_log ? Correlation{self, h.id, CorrelationReason::kVector, score}
                                  : Correlation{h.id, self, CorrelationReason::kVector, score});
    }
    return Status::OK();
  };
  {
    auto it = store_->NewInternalIterator(correlate_cursor_);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->seq() >= end || it->key()[0] == static_cast<char>(ValueKind::kIndex)) continue;
      HANSHIRO_ASSIGN_OR_RETURN(Value v, record::Decode(it->value()));
      if (const auto* e = std::get_if<Event>(&v)) {
        ++report.logs_examined;
        for (const Mention& m : artifacts_.Match(*e)) found.push_back({e->id, m.code_id, m.reason, 1.0f});
        HANSHIRO_RETURN_IF_ERROR(by_vector(e->vector, ValueKind::kCode, e->id, true));
      } else if (const auto* a = std::get_if<CodeArtifact>(&v)) {
        ++report.artifacts_examined;
        HANSHIRO_RETURN_IF_ERROR(by_vector(a->vector, ValueKind::kLog, a->id, false));
      }
    }
    HANSHIRO_RETURN_IF_ERROR(it->status());
  }
  // Drop pairs already linked for the same reason, then store the rest.
  std::vector<Value> entries;
  {
    std::shared_lock maps(maps_mu_);
    std::set<std::tuple<EventId, EventId, CorrelationReason>> seen;
    for (const Correlation& l : found) {
      if (!seen.insert({l.log_id, l.code_id, l.reason}).second) continue;
      auto known = links_.find(l.log_id);
      if (known != links_.end() && std::any_of(known->second.begin(), known->second.end(), [&](const Correlation& x) {
            return x.code_id == l.code_id && x.reason == l.reason;
          })) {
        continue;
      }
      IndexEntry e;
      e.time_ns = clock_->NowUnixNanos();
      e.field = std::string(kCorrelationField);
      e.value = l.reason == CorrelationReason::kVector
                    ? fmt::format("{} {:.4f}", CorrelationReasonName(l.reason), l.score)
                    : std::string(CorrelationReasonName(l.reason));
      e.refs = {l.log_id, l.code_id};
      entries.emplace_back(std::move(e));
    }
  }
  IndexEntry cursor;
  cursor.time_ns = clock_->NowUnixNanos();
  cursor.field = std::string(kCursorField);
  cursor.value = std::to_string(end);
  entries.emplace_back(cursor);
  const size_t links = entries.size() - 1;
  for (size_t i = 0; i < entries.size(); i += 2000) {
    std::vector<Value> part(entries.begin() + static_cast<ptrdiff_t>(i),
                            entries.begin() + static_cast<ptrdiff_t>(std::min(entries.size(), i + 2000)));
    HANSHIRO_RETURN_IF_ERROR(WriteValues(part).status());
  }
  {
    std::unique_lock maps(maps_mu_);
    for (const Value& v : entries) Remember(std::get<IndexEntry>(v));
  }
  correlate_cursor_ = end;
  report.links_added = links;
  report.cursor = end;
  metrics_.correlation_links.fetch_add(links, std::memory_order_relaxed);
  return report;
}

Result<std::vector<Correlation>> DBImpl::FindCorrelated(const EventId& id) {
  std::shared_lock lock(maps_mu_);
  auto it = links_.find(id);
  if (it == links_.end()) return std::vector<Correlation>();
  return it->second;
}

// ---------------------------------------------------------------------------
// Integrity

Status DBImpl::Flush() { return store_->Flush(); }

VerifyResult DBImpl::Verify(const VerifyProgress& progress) {
  VerifyResult out;
  wal::VerifyReport wal = store_->log()->Verify(
      progress ? [&](uint64_t done, uint64_t total) { progress("log", done, total); }
               : std::function<void(uint64_t, uint64_t)>());
  out.records = wal.records;
  out.log_start = wal.log_start;
  out.tree_size = wal.tree_size;
  out.root = wal.root;
  if (wal.torn) out.torn_tail = fmt::format("{} at offset {}", wal.torn->file, wal.torn->offset);
  out.error = wal.error;
  for (const lsm::DroppedPartition& d : store_->current()->dropped) out.removed_by_policy += d.entries;
  if (!out.error.ok() || !options_.integrity) return out;
  // Every table entry must be a leaf of the tree: its bytes hash to the leaf
  // the ledger holds at its sequence number.
  auto it = store_->NewInternalIterator();
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (progress && (out.table_records & 0xFFFF) == 0xFFFF) progress("tables", out.table_records, out.tree_size);  // about: some are in no table yet
    const uint64_t seq = it->seq();
    if (seq >= out.tree_size) continue;  // written after the log's verify began
    auto stored = store_->log()->StoredLeaf(seq);
    if (!stored.ok()) {
      out.error = stored.status();
      return out;
    }
    const auto kind = static_cast<uint8_t>(it->key()[0]);
    if (wal::Log::RecordLeaf(seq, kind, it->value()) != *stored) {
      auto key = StorageKey::Decode(it->key());
      out.error = Status::IntegrityBroken(fmt::format(
          "stored record seq {} ({}) does not hash to the tree's leaf {}: altered after ingest",
          seq, key.ok() ? key->ToString() : "bad key", seq));
      return out;
    }
    ++out.table_records;
  }
  out.error = it->status();
  return out;
}

Result<CheckpointInfo> DBImpl::Checkpoint() {
  HANSHIRO_ASSIGN_OR_RETURN(integrity::Checkpoint cp, store_->log()->Checkpoint());
  CheckpointInfo info;
  info.tree_size = cp.head.size;
  info.root = cp.head.root;
  info.time_ns = static_cast<int64_t>(cp.head.time_ns);
  info.encoded = integrity::EncodeCheckpoint(cp);
  return info;
}

Result<ProofInfo> DBImpl::Proof(const EventId& id) {
  HANSHIRO_ASSIGN_OR_RETURN(std::optional<std::string> key, store_->FindKey(IdBytes(id)));
  if (!key) return Status::NotFound("no value with id " + id.ToString());
  ProofInfo p;
  HANSHIRO_RETURN_IF_ERROR(store_->Get(*key, &p.record, &p.seq));
  HANSHIRO_ASSIGN_OR_RETURN(integrity::InclusionProof proof, store_->log()->Prove(p.seq));
  p.id = id;
  p.kind = static_cast<ValueKind>((*key)[0]);
  p.checkpoint.tree_size = proof.checkpoint.head.size;
  p.checkpoint.root = proof.checkpoint.head.root;
  p.checkpoint.time_ns = static_cast<int64_t>(proof.checkpoint.head.time_ns);
  p.checkpoint.encoded = integrity::EncodeCheckpoint(proof.checkpoint);
  p.path = proof.path;
  p.encoded = integrity::EncodeInclusionProof(proof);
  const auto& pk = store_->log()->public_key();
  p.public_key_hex = HexEncode(std::string_view(reinterpret_cast<const char*>(pk.data()), pk.size()));
  return p;
}

Status DBImpl::VerifyAgainst(std::string_view encoded) {
  HANSHIRO_ASSIGN_OR_RETURN(integrity::Checkpoint old, integrity::DecodeCheckpoint(encoded));
  HANSHIRO_ASSIGN_OR_RETURN(integrity::ConsistencyProof proof, store_->log()->ProveConsistency(old));
  // Checked by the standalone verifier, as an auditor would.
  return integrity::VerifyConsistencyProof(integrity::EncodeConsistencyProof(proof),
                                           store_->log()->public_key());
}

DBStats DBImpl::Stats() {
  const lsm::Stats s = store_->stats();
  DBStats d;
  d.events = metrics_.events_written.load();
  d.code_artifacts = metrics_.code_written.load();
  d.index_entries = metrics_.index_written.load();
  d.records = store_->log()->size();
  const vector::Collection* c = vectors_->collection();
  d.vectors = c ? c->live() : 0;
  d.vector_dim = vectors_->dim();
  d.tables = s.tables;
  d.table_bytes = s.table_bytes;
  d.memtable_bytes = s.memtable_bytes + s.immutable_bytes;
  d.flushes = s.flushes;
  d.compactions = s.compactions;
  d.stalls = s.stalls;
  d.flush_us = s.flush_us;
  d.stall_us = s.stall_us;
  const wal::LogStats w = store_->log()->stats();
  d.log_groups = w.groups;
  d.log_syncs = w.syncs;
  d.log_sync_us = w.sync_us;
  return d;
}

std::string DBImpl::MetricsText() {
  const lsm::Stats s = store_->stats();
  const wal::LogStats w = store_->log()->stats();
  std::string out;
  auto counter = [&](std::string_view name, std::string_view help, double v) {
    AppendMetric(&out, name, "counter", help, v);
  };
  auto gauge = [&](std::string_view name, std::string_view help, double v) {
    AppendMetric(&out, name, "gauge", help, v);
  };
  counter("hanshiro_events_written_total", "Events written since open.", metrics_.events_written.load());
  counter("hanshiro_code_artifacts_written_total", "Code artifacts written since open.", metrics_.code_written.load());
  counter("hanshiro_index_entries_written_total", "Index entries written since open.", metrics_.index_written.load());
  counter("hanshiro_write_errors_total", "Write batches that failed.", metrics_.write_errors.load());
  metrics_.batch_size.AppendTo(&out, "hanshiro_write_batch_size", "Values per write batch.");
  metrics_.write_latency_us.AppendTo(&out, "hanshiro_write_latency_us", "Write batch latency, microseconds.");
  counter("hanshiro_wal_groups_total", "Commit groups written.", w.groups);
  counter("hanshiro_wal_bytes_total", "WAL bytes written.", w.bytes);
  counter("hanshiro_wal_syncs_total", "WAL fsyncs.", w.syncs);
  counter("hanshiro_wal_sync_us_total", "Time in WAL fsyncs, microseconds.", w.sync_us);
  gauge("hanshiro_log_records", "Records in the log (the tree size).", store_->log()->size());
  counter("hanshiro_flushes_total", "Memtable flushes.", s.flushes);
  counter("hanshiro_log_segments_removed_total", "Log segments removed once their records were in tables.", s.log_segments_removed);
  counter("hanshiro_flush_bytes_total", "Table bytes written by flushes.", s.flush_bytes);
  counter("hanshiro_flush_us_total", "Time flushing, microseconds.", s.flush_us);
  counter("hanshiro_compactions_total", "Merging compactions.", s.compactions);
  counter("hanshiro_trivial_moves_total", "Tables moved to level 1 without a rewrite.", s.trivial_moves);
  counter("hanshiro_compaction_bytes_read_total", "Bytes read by compactions.", s.compaction_bytes_read);
  counter("hanshiro_compaction_bytes_written_total", "Bytes written by compactions.", s.compaction_bytes_written);
  counter("hanshiro_compaction_us_total", "Time compacting, microseconds.", s.compaction_us);
  counter("hanshiro_write_stalls_total", "Writes that waited for a flush.", s.stalls);
  counter("hanshiro_write_stall_us_total", "Time writes waited for flushes, microseconds.", s.stall_us);
  counter("hanshiro_retention_drops_total", "Partitions dropped by retention.", s.retention_drops);
  gauge("hanshiro_tables", "Live tables.", s.tables);
  gauge("hanshiro_table_bytes", "Bytes in live tables.", s.table_bytes);
  gauge("hanshiro_memtable_bytes", "Bytes in memtables.", s.memtable_bytes + s.immutable_bytes);
  gauge("hanshiro_block_cache_bytes", "Bytes in the block cache.", s.block_cache_bytes);
  counter("hanshiro_block_cache_hits_total", "Block cache hits.", s.block_cache_hits);
  counter("hanshiro_block_cache_misses_total", "Block cache misses.", s.block_cache_misses);
  const vector::Collection* c = vectors_->collection();
  gauge("hanshiro_vectors", "Live vectors.", c ? c->live() : 0);
  counter("hanshiro_searches_total", "Similarity searches.", metrics_.searches.load());
  metrics_.search_latency_us.AppendTo(&out, "hanshiro_search_latency_us", "Similarity search latency, microseconds.");
  counter("hanshiro_correlation_links_total", "Correlation links stored since open.", metrics_.correlation_links.load());
  return out;
}

}  // namespace hanshiro::engine

namespace hanshiro {

std::string_view CorrelationReasonName(CorrelationReason reason) {
  switch (reason) {
    case CorrelationReason::kVector: return "vector";
    case CorrelationReason::kSha256: return "sha256";
    case CorrelationReason::kSha256Prefix: return "sha256-prefix";
    case CorrelationReason::kFileName: return "file-name";
    case CorrelationReason::kString: return "string";
    case CorrelationReason::kManual: return "manual";
  }
  return "unknown";
}

Result<std::unique_ptr<DB>> DB::Open(const Options& options, const std::string& dir) {
  HANSHIRO_ASSIGN_OR_RETURN(std::unique_ptr<engine::DBImpl> db, engine::DBImpl::Open(options, dir));
  return std::unique_ptr<DB>(std::move(db));
}

}  // namespace hanshiro
