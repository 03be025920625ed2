// engine::DBImpl: hanshiro::DB over the store (lsm::DB: log, memtables,
// tables), the vector collection, the artifact index and the in-memory maps
// of index entries and links (rebuilt from the index entries at open).
// Thread-safe; see include/hanshiro/db.h for the contracts.
#ifndef HANSHIRO_ENGINE_DB_IMPL_H_
#define HANSHIRO_ENGINE_DB_IMPL_H_

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/id_generator.h"
#include "engine/correlator.h"
#include "engine/metrics.h"
#include "engine/vectors.h"
#include "hanshiro/db.h"
#include "lsm/db.h"

namespace hanshiro::engine {

// Index-entry fields the engine itself writes (docs/format/engine.md).
constexpr std::string_view kReservedPrefix = "hanshiro.";
constexpr std::string_view kCorrelationField = "hanshiro.correlation";
constexpr std::string_view kCursorField = "hanshiro.correlation.cursor";
constexpr std::string_view kLinkField = "hanshiro.link";

class DBImpl final : public DB {
 public:
  static Result<std::unique_ptr<DBImpl>> Open(const Options& options, const std::string& dir);
  ~DBImpl() override;

  Result<EventId> Write(Event event) override;
  Result<std::vector<EventId>> WriteBatch(std::vector<Event> events) override;
  Result<Event> Get(const EventId& id) override;
  Result<ScanPage> Scan(const ScanQuery& query) override;
  Result<std::string> GetRecord(const EventId& id) override;
  Result<EventId> WriteCode(CodeArtifact artifact) override;
  Result<std::vector<EventId>> WriteCodeBatch(std::vector<CodeArtifact> artifacts) override;
  Result<CodeArtifact> GetCode(const EventId& id) override;
  Result<EventId> CreateIndex(std::string field, std::string value,
                              std::vector<EventId> ids) override;
  Result<std::vector<EventId>> LookupIndex(const std::string& field,
                                           const std::string& value) override;
  Status LinkCodeToLogs(const EventId& code_id, const std::vector<EventId>& log_ids) override;
  Result<std::vector<SimilarHit>> FindSimilar(std::span<const float> vector, size_t k,
                                              const SimilarFilter& filter) override;
  Result<CorrelateReport> Correlate() override;
  Result<std::vector<Correlation>> FindCorrelated(const EventId& id) override;
  Status Flush() override;
  using DB::Verify;
  VerifyResult Verify(const VerifyProgress& progress) override;
  Result<CheckpointInfo> Checkpoint() override;
  Result<ProofInfo> Proof(const EventId& id) override;
  Status VerifyAgainst(std::string_view encoded_checkpoint) override;
  bool WritesStalled() override { return store_->WouldStall(); }
  DBStats Stats() override;
  std::string MetricsText() override;

  lsm::DB* store() const { return store_.get(); }

 private:
  DBImpl(const Options& options, std::string dir);
  Status OpenStore();
  // Rebuilds the artifact index, the index map, the links and the
  // correlation cursor from the stored code and index values.
  Status LoadIndexes();
  void Remember(const IndexEntry& entry);
  void RememberLink(const Correlation& c);

  // Assigns ids and times, validates and encodes, logs, adds vectors.
  Result<std::vector<EventId>> WriteValues(std::vector<Value> values);
  // The stored value with this id (any kind).
  Result<Value> GetValue(const EventId& id);
  Result<std::vector<SimilarHit>> Search(std::span<const float> query, size_t k,
                                         const vector::Filter& filter);

  const Options options_;
  const std::string dir_;
  Env* const env_;
  Clock* const clock_ = Clock::System();
  IdGenerator ids_{Clock::System()};
  std::unique_ptr<Vectors> vectors_;
  std::unique_ptr<lsm::DB> store_;
  ArtifactIndex artifacts_;
  Metrics metrics_;

  std::mutex error_mu_;
  Status error_;  // sticky: a failure after the log acknowledged (the vector store)

  mutable std::shared_mutex maps_mu_;
  std::map<std::pair<std::string, std::string>, std::vector<EventId>> index_;  // guarded
  std::map<EventId, std::vector<Correlation>> links_;                          // guarded

  std::mutex correlate_mu_;
  uint64_t correlate_cursor_ = 0;  // guarded by correlate_mu_
};

}  // namespace hanshiro::engine

#endif  // HANSHIRO_ENGINE_DB_IMPL_H_
