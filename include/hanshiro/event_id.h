// EventId: the 128-bit, time-ordered id of every stored value.
//
// Layout (UUIDv7, RFC 9562): 48-bit Unix milliseconds | 4-bit version (7) |
// 12 bits rand_a | 2-bit variant (0b10) | 62 bits rand_b. `hi` holds the
// first 64 bits, `lo` the last 64, so ids compare as (hi, lo) and ids made in
// later milliseconds sort later. Printed as the canonical lowercase UUID
// string; the older "{hi}/{lo}" decimal pair is accepted when parsing.
// Any 128-bit value is a valid EventId (parsing does not insist on version 7).
// A value type; thread-safe like int.
#ifndef HANSHIRO_EVENT_ID_H_
#define HANSHIRO_EVENT_ID_H_

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "hanshiro/status.h"

namespace hanshiro {

class EventId {
 public:
  static constexpr size_t kEncodedSize = 16;
  static constexpr uint64_t kMaxUnixMillis = (uint64_t{1} << 48) - 1;

  constexpr EventId() = default;
  constexpr EventId(uint64_t hi, uint64_t lo) : hi_(hi), lo_(lo) {}

  // A version-7 id. Bits of the arguments beyond their field widths are dropped
  // (unix_ms: 48, rand_a: 12, rand_b: 62).
  static EventId FromParts(uint64_t unix_ms, uint16_t rand_a, uint64_t rand_b);

  uint64_t hi() const { return hi_; }
  uint64_t lo() const { return lo_; }
  // The millisecond timestamp of a version-7 id (meaningless for other ids).
  uint64_t unix_ms() const { return hi_ >> 16; }
  unsigned version() const { return static_cast<unsigned>((hi_ >> 12) & 0xf); }

  // "0190a3c2-7b1e-7c4d-8f00-0123456789ab"
  std::string ToString() const;
  // "{hi}/{lo}" in decimal, the original API's form.
  std::string ToHiLoString() const;

  // Canonical form (36 chars, hex digits of either case) or "{hi}/{lo}".
  static Result<EventId> Parse(std::string_view text);

  // 16 bytes, big-endian: byte order of the UUID, so bytes sort like ids.
  void EncodeTo(char* dst) const;
  // REQUIRES: src points at kEncodedSize readable bytes.
  static EventId DecodeFrom(const char* src);

  friend constexpr auto operator<=>(const EventId&, const EventId&) = default;

 private:
  uint64_t hi_ = 0;
  uint64_t lo_ = 0;
};

}  // namespace hanshiro

#endif  // HANSHIRO_EVENT_ID_H_
