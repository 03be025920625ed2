// engine::ArtifactIndex: what logs are matched against, so correlating a log
// costs lookups per token of its text, not a pass over every artifact.
//
// Per artifact: its SHA-256 in hex (64 digits) and the first 16 digits;
// each file name (its base name, lower case) and each string of 4 bytes or
// more (lower case), indexed by their first token. A log's text (raw data
// and metadata values, lower case) is cut into tokens of [a-z0-9._-]; a
// 64-digit hex token is looked up as a full hash, a 16-digit one as a
// prefix, and every token as the first token of names and strings, whose
// whole text must then occur in the log's text.
//
// Thread-safe (a shared mutex: Add is exclusive, Match shared).
#ifndef HANSHIRO_ENGINE_CORRELATOR_H_
#define HANSHIRO_ENGINE_CORRELATOR_H_

#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "hanshiro/db.h"
#include "hanshiro/model.h"

namespace hanshiro::engine {

struct Mention {
  EventId code_id;
  CorrelationReason reason;
};

class ArtifactIndex {
 public:
  void Add(const CodeArtifact& artifact);
  // The artifacts the event mentions, each once (the strongest reason).
  std::vector<Mention> Match(const Event& event) const;
  size_t size() const;

 private:
  struct Phrase {
    std::string text;  // lower case
    EventId code_id;
    CorrelationReason reason;
  };
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::vector<EventId>> sha_full_, sha_prefix_;
  std::unordered_map<std::string, std::vector<Phrase>> phrases_;  // by first token
  size_t artifacts_ = 0;
};

// Lower-cased tokens of [a-z0-9._-] (helper, exposed for tests).
std::vector<std::string_view> Tokens(std::string_view lower_text);

}  // namespace hanshiro::engine

#endif  // HANSHIRO_ENGINE_CORRELATOR_H_
