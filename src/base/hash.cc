#include "hanshiro/hash.h"

#include <algorithm>

#include "base/hex.h"

namespace hanshiro {

std::string Hash256::ToHex() const { return HexEncode(view()); }

Result<Hash256> Hash256::FromHex(std::string_view hex) {
  std::string raw;
  if (hex.size() != 2 * kSize || !HexDecode(hex, &raw)) {
    return Status::InvalidArgument("hash: expected 64 hex digits, got '" + std::string(hex) + "'");
  }
  Hash256 h;
  std::copy(raw.begin(), raw.end(), reinterpret_cast<char*>(h.bytes.data()));
  return h;
}

}  // namespace hanshiro
