// Signed tree heads ("checkpoints"), the signing key file, and the proof
// bundles a third party checks with the public key alone
// (docs/format/checkpoint.md). Stateless; thread-safe.
#ifndef HANSHIRO_INTEGRITY_CHECKPOINT_H_
#define HANSHIRO_INTEGRITY_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hanshiro/env.h"
#include "hanshiro/hash.h"
#include "integrity/signer.h"

namespace hanshiro::integrity {

struct TreeHead {
  uint64_t size = 0;
  Hash256 root;
  uint64_t time_ns = 0;  // when it was signed (unix ns)
};

struct Checkpoint {
  TreeHead head;
  PublicKey key{};
  Signature signature{};
};

// The bytes an Ed25519 signature covers [CKP-4].
std::string TreeHeadMessage(const TreeHead& head);
Result<Checkpoint> SignTreeHead(const SigningKey& key, const TreeHead& head);
// OK when the checkpoint was signed by `trusted` and its signature verifies.
Status VerifyCheckpoint(const Checkpoint& checkpoint, const PublicKey& trusted);

constexpr size_t kCheckpointSize = 164;
std::string EncodeCheckpoint(const Checkpoint& checkpoint);
// Corruption naming the rule when the bytes are not a checkpoint. Does not
// check the signature.
Result<Checkpoint> DecodeCheckpoint(std::string_view bytes);

// The signing key in `path`, created (and synced, with its directory) when
// missing.
Result<SigningKey> LoadOrCreateSigningKey(Env* env, const std::string& path);

// The leaf input of a record: seq (u64 LE) || kind (u8) || length (u32 LE)
// || payload -- exactly the WAL record bytes after its CRC [WAL-7].
std::string LeafInput(uint64_t seq, uint8_t kind, std::string_view payload);

struct InclusionProof {
  Checkpoint checkpoint;
  uint64_t index = 0;  // the record's sequence number
  std::vector<Hash256> path;
};
struct ConsistencyProof {
  Checkpoint old_checkpoint;
  Checkpoint new_checkpoint;
  std::vector<Hash256> path;
};

std::string EncodeInclusionProof(const InclusionProof& proof);
Result<InclusionProof> DecodeInclusionProof(std::string_view bytes);
std::string EncodeConsistencyProof(const ConsistencyProof& proof);
Result<ConsistencyProof> DecodeConsistencyProof(std::string_view bytes);

// The standalone verifiers: OK when `proof` (encoded) shows that the record
// (kind, payload) is in the tree whose head `trusted` signed; IntegrityBroken
// (or Corruption for malformed bytes) otherwise.
Status VerifyInclusionProof(std::string_view proof, const PublicKey& trusted, uint8_t kind,
                            std::string_view payload);
// OK when `proof` shows that the older signed tree head is a prefix of the
// newer one, both signed by `trusted`.
Status VerifyConsistencyProof(std::string_view proof, const PublicKey& trusted);

}  // namespace hanshiro::integrity

#endif  // HANSHIRO_INTEGRITY_CHECKPOINT_H_
