// Ed25519 signing of tree heads (OpenSSL). A SigningKey is a value type;
// all functions are thread-safe.
#ifndef HANSHIRO_INTEGRITY_SIGNER_H_
#define HANSHIRO_INTEGRITY_SIGNER_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "hanshiro/status.h"

namespace hanshiro::integrity {

using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

class SigningKey {
 public:
  static Result<SigningKey> Generate();
  // The 32-byte private seed of RFC 8032.
  static Result<SigningKey> FromSeed(std::string_view seed);

  std::string_view seed() const {
    return {reinterpret_cast<const char*>(seed_.data()), seed_.size()};
  }
  const PublicKey& public_key() const { return public_key_; }
  Result<Signature> Sign(std::string_view message) const;

 private:
  std::array<uint8_t, 32> seed_{};
  PublicKey public_key_{};
};

// OK when `signature` is a valid signature of `message` by `key`;
// IntegrityBroken otherwise.
Status VerifySignature(const PublicKey& key, std::string_view message, const Signature& signature);

}  // namespace hanshiro::integrity

#endif  // HANSHIRO_INTEGRITY_SIGNER_H_
