#include "engine/correlator.h"

#include <algorithm>
#include <mutex>

#include "base/hex.h"

namespace hanshiro::engine {

namespace {

bool TokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string_view BaseName(std::string_view path) {
  const size_t slash = path.find_last_of("/\\");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

int Strength(CorrelationReason r) {
  switch (r) {
    case CorrelationReason::kSha256: return 4;
    case CorrelationReason::kSha256Prefix: return 3;
    case CorrelationReason::kFileName: return 2;
    case CorrelationReason::kString: return 1;
    default: return 0;
  }
}

}  // namespace

std::vector<std::string_view> Tokens(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !TokenChar(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && TokenChar(text[i])) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

void ArtifactIndex::Add(const CodeArtifact& a) {
  const std::string sha = HexEncode(std::string_view(reinterpret_cast<const char*>(a.sha256.data()), 32));
  std::unique_lock lock(mu_);
  ++artifacts_;
  sha_full_[sha].push_back(a.id);
  sha_prefix_[sha.substr(0, 16)].push_back(a.id);
  auto add_phrase = [&](std::string_view text, CorrelationReason reason) {
    const std::string lower = Lower(text);
    const auto tokens = Tokens(lower);
    if (tokens.empty()) return;
    phrases_[std::string(tokens.front())].push_back({lower, a.id, reason});
  };
  for (const std::string& name : a.file_names) {
    const std::string_view base = BaseName(name);
    if (!base.empty()) add_phrase(base, CorrelationReason::kFileName);
  }
  for (const std::string& s : a.strings) {
    if (s.size() >= 4) add_phrase(s, CorrelationReason::kString);
  }
}

size_t ArtifactIndex::size() const {
  std::shared_lock lock(mu_);
  return artifacts_;
}

std::vector<Mention> ArtifactIndex::Match(const Event& e) const {
  std::string text = Lower(e.raw_data);
  for (const auto& [key, value] : e.metadata) {
    text += '\n';
    text += Lower(value);
  }
  std::vector<Mention> found;
  auto note = [&](const EventId& id, CorrelationReason reason) {
    for (Mention& m : found) {
      if (m.code_id == id) {
        if (Strength(reason) > Strength(m.reason)) m.reason = reason;
        return;
      }
    }
    found.push_back({id, reason});
  };
  std::shared_lock lock(mu_);
  if (artifacts_ == 0) return found;
  for (const std::string_view token : Tokens(text)) {
    if ((token.size() == 64 || token.size() == 16) && IsHex(token)) {
      const auto& map = token.size() == 64 ? sha_full_ : sha_prefix_;
      if (auto it = map.find(std::string(token)); it != map.end()) {
        for (const EventId& id : it->second) {
          note(id, token.size() == 64 ? CorrelationReason::kSha256 : CorrelationReason::kSha256Prefix);
        }
      }
    }
    if (auto it = phrases_.find(std::string(token)); it != phrases_.end()) {
      for (const Phrase& p : it->second) {
        if (text.find(p.text) != std::string::npos) note(p.code_id, p.reason);
      }
    }
  }
  return found;
}

}  // namespace hanshiro::engine
