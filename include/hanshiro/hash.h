// Hash256: a 32-byte digest (BLAKE3 throughout HanshiroDB), a value type.
#ifndef HANSHIRO_HASH_H_
#define HANSHIRO_HASH_H_

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "hanshiro/status.h"

namespace hanshiro {

struct Hash256 {
  static constexpr size_t kSize = 32;
  std::array<uint8_t, kSize> bytes{};

  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
  // 64 lowercase hex digits.
  std::string ToHex() const;
  // Accepts exactly 64 hex digits, either case.
  static Result<Hash256> FromHex(std::string_view hex);

  friend auto operator<=>(const Hash256&, const Hash256&) = default;
};

}  // namespace hanshiro

#endif  // HANSHIRO_HASH_H_
