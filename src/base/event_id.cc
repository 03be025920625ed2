#include "hanshiro/event_id.h"

#include <charconv>

#include "base/coding.h"
#include "base/hex.h"

namespace hanshiro {
namespace {

// Offsets of the dashes in the 36-character canonical form.
constexpr size_t kCanonicalSize = 36;
bool IsDashPosition(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

Result<EventId> ParseCanonical(std::string_view text) {
  uint64_t words[2] = {0, 0};
  size_t digits = 0;
  for (size_t i = 0; i < kCanonicalSize; ++i) {
    if (IsDashPosition(i)) {
      if (text[i] != '-') {
        return Status::InvalidArgument("event id '" + std::string(text) +
                                       "': expected '-' at position " + std::to_string(i));
      }
      continue;
    }
    const int v = HexDigitValue(text[i]);
    if (v < 0) {
      return Status::InvalidArgument("event id '" + std::string(text) +
                                     "': not a hex digit at position " + std::to_string(i));
    }
    uint64_t& w = words[digits / 16];
    w = (w << 4) | static_cast<uint64_t>(v);
    ++digits;
  }
  return EventId(words[0], words[1]);
}

bool ParseDecimalU64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

EventId EventId::FromParts(uint64_t unix_ms, uint16_t rand_a, uint64_t rand_b) {
  const uint64_t hi = ((unix_ms & kMaxUnixMillis) << 16) | (uint64_t{7} << 12) | (rand_a & 0x0fff);
  const uint64_t lo = (uint64_t{0b10} << 62) | (rand_b & ((uint64_t{1} << 62) - 1));
  return EventId(hi, lo);
}

std::string EventId::ToString() const {
  char raw[kEncodedSize];
  EncodeTo(raw);
  const std::string hex = HexEncode(std::string_view(raw, sizeof(raw)));
  std::string out;
  out.reserve(kCanonicalSize);
  for (size_t i = 0; i < hex.size(); ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out.push_back('-');
    out.push_back(hex[i]);
  }
  return out;
}

std::string EventId::ToHiLoString() const {
  return std::to_string(hi_) + "/" + std::to_string(lo_);
}

Result<EventId> EventId::Parse(std::string_view text) {
  if (const size_t slash = text.find('/'); slash != std::string_view::npos) {
    uint64_t hi = 0;
    uint64_t lo = 0;
    if (!ParseDecimalU64(text.substr(0, slash), &hi) ||
        !ParseDecimalU64(text.substr(slash + 1), &lo)) {
      return Status::InvalidArgument("event id '" + std::string(text) +
                                     "': expected {hi}/{lo} as two unsigned 64-bit decimals");
    }
    return EventId(hi, lo);
  }
  if (text.size() != kCanonicalSize) {
    return Status::InvalidArgument("event id '" + std::string(text) + "': expected 36 characters " +
                                   "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) or {hi}/{lo}, got " +
                                   std::to_string(text.size()));
  }
  return ParseCanonical(text);
}

void EventId::EncodeTo(char* dst) const {
  EncodeBigEndian64(dst, hi_);
  EncodeBigEndian64(dst + 8, lo_);
}

EventId EventId::DecodeFrom(const char* src) {
  return EventId(DecodeBigEndian64(src), DecodeBigEndian64(src + 8));
}

}  // namespace hanshiro
