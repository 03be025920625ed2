#include "integrity/signer.h"

#include <openssl/evp.h>

#include <memory>

namespace hanshiro::integrity {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

Result<SigningKey> FromPkey(const Pkey& pkey) {
  uint8_t seed[32];
  size_t len = sizeof(seed);
  if (EVP_PKEY_get_raw_private_key(pkey.get(), seed, &len) != 1 || len != sizeof(seed)) {
    return Status::IOError("ed25519: cannot read the private key");
  }
  return SigningKey::FromSeed({reinterpret_cast<const char*>(seed), sizeof(seed)});
}

}  // namespace

Result<SigningKey> SigningKey::Generate() {
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return Status::IOError("ed25519: key generation failed");
  }
  return FromPkey(Pkey(raw));
}

Result<SigningKey> SigningKey::FromSeed(std::string_view seed) {
  if (seed.size() != 32) return Status::InvalidArgument("ed25519: a seed is 32 bytes");
  Pkey pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, Bytes(seed), seed.size()));
  SigningKey key;
  size_t len = key.public_key_.size();
  if (!pkey || EVP_PKEY_get_raw_public_key(pkey.get(), key.public_key_.data(), &len) != 1) {
    return Status::IOError("ed25519: cannot derive the public key");
  }
  std::copy(seed.begin(), seed.end(), key.seed_.begin());
  return key;
}

Result<Signature> SigningKey::Sign(std::string_view message) const {
  Pkey pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed_.data(), seed_.size()));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
  Signature sig;
  size_t len = sig.size();
  if (!pkey || !md || EVP_DigestSignInit(md.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
      EVP_DigestSign(md.get(), sig.data(), &len, Bytes(message), message.size()) != 1 ||
      len != sig.size()) {
    return Status::IOError("ed25519: signing failed");
  }
  return sig;
}

Status VerifySignature(const PublicKey& key, std::string_view message,
                       const Signature& signature) {
  Pkey pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
  if (!pkey || !md || EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return Status::IntegrityBroken("ed25519: not a valid public key");
  }
  if (EVP_DigestVerify(md.get(), signature.data(), signature.size(), Bytes(message),
                       message.size()) != 1) {
    return Status::IntegrityBroken("ed25519: signature does not verify");
  }
  return Status::OK();
}

}  // namespace hanshiro::integrity
