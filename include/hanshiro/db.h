// hanshiro::DB: a tamper-evident database of security events, opened on a
// directory (embedded use, like leveldb/db.h).
//
//   auto db = hanshiro::DB::Open(hanshiro::Options::Balanced(), "./data");
//   if (!db.ok()) ...;
//   hanshiro::Event e;  e.source.host = "dc01";  e.raw_data = "...";
//   auto id = (*db)->Write(std::move(e));
//
// Every value — events, code artifacts, index entries, correlation links —
// goes through the write-ahead log and the integrity tree: it gets a
// sequence number (its log position and tree leaf), survives a crash once
// acknowledged, and can be proven included later (Proof). Vectors live in a
// vector store beside the tables and exist exactly for acknowledged values.
//
// Contracts:
//   - Write/WriteBatch return once the values are acknowledged (fsynced when
//     sync_on_write). A value with a zero id gets a fresh time-ordered id; a
//     zero ingest time becomes now. A bad value is refused with
//     InvalidArgument naming it (batch index and field); nothing of a
//     refused batch is written.
//   - Reads see every acknowledged write.
//   - Thread-safe: any number of threads may call anything at once.
//   - Errors are Status values; nothing throws.
#ifndef HANSHIRO_DB_H_
#define HANSHIRO_DB_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hanshiro/hash.h"
#include "hanshiro/model.h"
#include "hanshiro/options.h"
#include "hanshiro/status.h"

namespace hanshiro {

// A time-range query over one kind. Unset filters match everything; the
// range is [from_ns, to_ns). Results come in key order (time, then id).
struct ScanQuery {
  ValueKind kind = ValueKind::kLog;
  int64_t from_ns = 0;
  int64_t to_ns = INT64_MAX;
  std::optional<EventType> type;  // logs only
  std::optional<std::string> host;
  // Every pair must be present in the event's metadata (logs only).
  std::vector<std::pair<std::string, std::string>> metadata;
  size_t limit = 100;   // at most this many values per page (1..10000)
  std::string cursor;   // from a previous page's next_cursor; empty: from the start
};

struct ScanPage {
  std::vector<Value> values;
  std::string next_cursor;  // empty when the range is exhausted
};

// Which values a similarity search may return; unset fields match all.
struct SimilarFilter {
  std::optional<ValueKind> kind;
  std::optional<EventType> type;
  std::optional<std::string> host;
  std::optional<int64_t> from_ns, to_ns;  // [from, to)
};

struct SimilarHit {
  EventId id;
  ValueKind kind = ValueKind::kLog;
  float distance = 0;  // smaller is closer; for cosine, 1 - similarity
  float score = 0;     // cosine: similarity; inner product: the product; L2: -distance
};

// Why a log and a code artifact are linked.
enum class CorrelationReason : uint8_t {
  kVector,        // embeddings at or above the threshold
  kSha256,        // the log mentions the artifact's SHA-256
  kSha256Prefix,  // ... or its first 16 hex digits
  kFileName,      // the log mentions one of its file names
  kString,        // the log mentions one of its strings
  kManual,        // LinkCodeToLogs
};
std::string_view CorrelationReasonName(CorrelationReason reason);

struct Correlation {
  EventId log_id;
  EventId code_id;
  CorrelationReason reason = CorrelationReason::kManual;
  float score = 0;  // similarity for kVector, 1 otherwise
};

struct CorrelateReport {
  uint64_t logs_examined = 0;
  uint64_t artifacts_examined = 0;
  uint64_t links_added = 0;
  uint64_t cursor = 0;  // every value below this sequence number is correlated
};

// A signed tree head, as exported to keep elsewhere.
struct CheckpointInfo {
  uint64_t tree_size = 0;
  Hash256 root;
  int64_t time_ns = 0;
  std::string encoded;  // the signed checkpoint (docs/format/checkpoint.md)
};

// An inclusion proof of one value against a signed checkpoint.
struct ProofInfo {
  EventId id;
  uint64_t seq = 0;
  ValueKind kind = ValueKind::kLog;
  std::string record;           // the exact bytes that were hashed
  CheckpointInfo checkpoint;
  std::vector<Hash256> path;    // RFC 9162 inclusion path
  std::string encoded;          // the proof bundle (docs/format/checkpoint.md)
  std::string public_key_hex;   // the checkpoint signing key
};

struct VerifyResult {
  bool intact() const { return error.ok(); }
  uint64_t records = 0;         // log records recomputed from WAL bytes
  uint64_t log_start = 0;       // below it, the log's segments were removed after flushes:
                                // those leaves are checked from the ledger and the tables
  uint64_t tree_size = 0;
  Hash256 root;
  uint64_t table_records = 0;   // table entries checked against the tree's leaves
  uint64_t removed_by_policy = 0;  // records retention dropped (leaves kept)
  std::optional<std::string> torn_tail;  // a crash's partial write, truncated at open
  Status error;                 // the first break, located
};

struct DBStats {
  uint64_t events = 0, code_artifacts = 0, index_entries = 0;  // written since open
  uint64_t records = 0;         // the log's size (all values ever)
  uint64_t vectors = 0;         // live rows in the vector store
  uint32_t vector_dim = 0;
  uint64_t tables = 0, table_bytes = 0, memtable_bytes = 0;
  uint64_t flushes = 0, compactions = 0, stalls = 0;
  uint64_t flush_us = 0, stall_us = 0;  // time spent flushing; writes waiting for a flush
  // The log since open: commit groups, fsyncs (with sync on, one covers the
  // groups ready at once) and time spent in them.
  uint64_t log_groups = 0, log_syncs = 0, log_sync_us = 0;
};

// Verify's progress: the pass, records checked so far, and about how many
// the pass has.
using VerifyProgress = std::function<void(std::string_view pass, uint64_t done, uint64_t total)>;

class DB {
 public:
  static Result<std::unique_ptr<DB>> Open(const Options& options, const std::string& dir);
  virtual ~DB() = default;

  // --- Events
  virtual Result<EventId> Write(Event event) = 0;
  virtual Result<std::vector<EventId>> WriteBatch(std::vector<Event> events) = 0;
  // NotFound when no event has this id.
  virtual Result<Event> Get(const EventId& id) = 0;
  virtual Result<ScanPage> Scan(const ScanQuery& query) = 0;
  // The stored record of any value (docs/format/record.md): the exact bytes
  // the integrity tree hashed.
  virtual Result<std::string> GetRecord(const EventId& id) = 0;

  // --- Code artifacts and index entries
  virtual Result<EventId> WriteCode(CodeArtifact artifact) = 0;
  // All or nothing, like WriteBatch; ids in input order.
  virtual Result<std::vector<EventId>> WriteCodeBatch(std::vector<CodeArtifact> artifacts) = 0;
  virtual Result<CodeArtifact> GetCode(const EventId& id) = 0;
  // Stores (field, value) -> ids as an index entry; returns the entry's id.
  virtual Result<EventId> CreateIndex(std::string field, std::string value,
                                      std::vector<EventId> ids) = 0;
  // The ids of every index entry for (field, value), in write order.
  virtual Result<std::vector<EventId>> LookupIndex(const std::string& field,
                                                   const std::string& value) = 0;
  // Links an artifact to logs (a manual correlation, both directions).
  virtual Status LinkCodeToLogs(const EventId& code_id, const std::vector<EventId>& log_ids) = 0;

  // --- Similarity and correlation
  // The k nearest values to `vector` that match `filter`, nearest first.
  virtual Result<std::vector<SimilarHit>> FindSimilar(std::span<const float> vector, size_t k,
                                                      const SimilarFilter& filter = {}) = 0;
  // Correlates every value written since the last run with the artifacts
  // (and, for new artifacts, with logs by similarity); stores the links.
  virtual Result<CorrelateReport> Correlate() = 0;
  // The links of a log or an artifact.
  virtual Result<std::vector<Correlation>> FindCorrelated(const EventId& id) = 0;

  // --- Durability and integrity
  // Turns the memtable into tables.
  virtual Status Flush() = 0;
  // Recomputes the tree from the log and checks every table entry against it.
  // `progress` (may be empty) is called now and then from this thread with
  // the pass ("log", then "tables") and how far it got.
  virtual VerifyResult Verify(const VerifyProgress& progress) = 0;
  VerifyResult Verify() { return Verify(VerifyProgress()); }
  // Signs the current tree head.
  virtual Result<CheckpointInfo> Checkpoint() = 0;
  // An inclusion proof for the value with this id.
  virtual Result<ProofInfo> Proof(const EventId& id) = 0;
  // Proves that today's log extends an earlier exported checkpoint (its
  // encoded bytes, as CheckpointInfo::encoded): OK, or IntegrityBroken when
  // the log was rewritten since (or the checkpoint is not this log's).
  virtual Status VerifyAgainst(std::string_view encoded_checkpoint) = 0;

  // Whether a write now would wait for a flush to finish (writes are slowed,
  // never refused: a server may answer "busy, retry" instead of waiting).
  virtual bool WritesStalled() = 0;
  virtual DBStats Stats() = 0;
  // Counters and histograms in the Prometheus text format.
  virtual std::string MetricsText() = 0;
};

}  // namespace hanshiro

#endif  // HANSHIRO_DB_H_
