#include "integrity/checkpoint.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "base/coding.h"
#include "base/crc32c.h"
#include "integrity/ledger_format.h"
#include "integrity/merkle.h"

namespace hanshiro::integrity {
namespace {

constexpr std::string_view kCheckpointMagic = "HSCHECKP";
constexpr std::string_view kKeyMagic = "HSSIGKEY";
constexpr std::string_view kInclusionMagic = "HSPROOFI";
constexpr std::string_view kConsistencyMagic = "HSPROOFC";
constexpr uint32_t kVersion = 1;
constexpr uint32_t kEd25519 = 1;
constexpr std::string_view kHeadDomain{"HanshiroDB tree head v1\0", 24};
constexpr uint32_t kMaxProofHashes = 128;  // two per tree level is plenty
constexpr uint64_t kKeyFileSize = 52;

void PutBytes(std::string* out, const void* p, size_t n) {
  out->append(static_cast<const char*>(p), n);
}

void PutCrc(std::string* out) { PutFixed32(out, crc32c::Mask(crc32c::Value(*out))); }

// Checks the magic, the version and the trailing CRC of a whole encoded
// object; returns a reader positioned after magic and version.
Status OpenEnvelope(std::string_view bytes, std::string_view magic, const char* what,
                    ByteReader* reader) {
  if (bytes.size() < magic.size() + 8 || bytes.substr(0, magic.size()) != magic) {
    return Status::Corruption(fmt::format("{}: bad magic [CKP-1]", what));
  }
  const size_t body = bytes.size() - 4;
  if (crc32c::Unmask(DecodeFixed32(bytes.data() + body)) != crc32c::Value(bytes.data(), body)) {
    return Status::Corruption(fmt::format("{}: checksum mismatch [CKP-2]", what));
  }
  *reader = ByteReader(bytes.substr(0, body));
  std::string_view skip;
  uint32_t version = 0;
  if (!reader->ReadBytes(magic.size(), &skip) || !reader->ReadFixed32(&version) ||
      version != kVersion) {
    return Status::Corruption(fmt::format("{}: unsupported version [CKP-3]", what));
  }
  return Status::OK();
}

template <size_t N>
bool ReadArray(ByteReader* r, std::array<uint8_t, N>* out) {
  std::string_view v;
  if (!r->ReadBytes(N, &v)) return false;
  std::memcpy(out->data(), v.data(), N);
  return true;
}

void PutCheckpointBody(std::string* out, const Checkpoint& c) {
  PutFixed32(out, kHashBlake3);
  PutFixed64(out, c.head.size);
  PutBytes(out, c.head.root.bytes.data(), Hash256::kSize);
  PutFixed64(out, c.head.time_ns);
  PutBytes(out, c.key.data(), c.key.size());
  PutBytes(out, c.signature.data(), c.signature.size());
}

bool ReadCheckpointBody(ByteReader* r, Checkpoint* c) {
  uint32_t algo = 0;
  return r->ReadFixed32(&algo) && algo == kHashBlake3 && r->ReadFixed64(&c->head.size) &&
         ReadArray(r, &c->head.root.bytes) && r->ReadFixed64(&c->head.time_ns) &&
         ReadArray(r, &c->key) && ReadArray(r, &c->signature);
}

void PutPath(std::string* out, const std::vector<Hash256>& path) {
  PutFixed32(out, static_cast<uint32_t>(path.size()));
  for (const Hash256& h : path) PutBytes(out, h.bytes.data(), Hash256::kSize);
}

bool ReadPath(ByteReader* r, std::vector<Hash256>* path) {
  uint32_t n = 0;
  if (!r->ReadFixed32(&n) || n > kMaxProofHashes || r->remaining() != n * Hash256::kSize) {
    return false;
  }
  path->resize(n);
  for (Hash256& h : *path) ReadArray(r, &h.bytes);
  return true;
}

}  // namespace

std::string TreeHeadMessage(const TreeHead& head) {
  std::string m(kHeadDomain);
  PutFixed32(&m, kHashBlake3);
  PutFixed64(&m, head.size);
  PutBytes(&m, head.root.bytes.data(), Hash256::kSize);
  PutFixed64(&m, head.time_ns);
  return m;
}

Result<Checkpoint> SignTreeHead(const SigningKey& key, const TreeHead& head) {
  Checkpoint c;
  c.head = head;
  c.key = key.public_key();
  HANSHIRO_ASSIGN_OR_RETURN(c.signature, key.Sign(TreeHeadMessage(head)));
  return c;
}

Status VerifyCheckpoint(const Checkpoint& checkpoint, const PublicKey& trusted) {
  if (checkpoint.key != trusted) {
    return Status::IntegrityBroken("checkpoint was signed by a different key");
  }
  return VerifySignature(trusted, TreeHeadMessage(checkpoint.head), checkpoint.signature)
      .WithContext(fmt::format("checkpoint of tree size {}", checkpoint.head.size));
}

std::string EncodeCheckpoint(const Checkpoint& checkpoint) {
  std::string out(kCheckpointMagic);
  PutFixed32(&out, kVersion);
  PutCheckpointBody(&out, checkpoint);
  PutCrc(&out);
  return out;
}

Result<Checkpoint> DecodeCheckpoint(std::string_view bytes) {
  ByteReader r(bytes);
  HANSHIRO_RETURN_IF_ERROR(OpenEnvelope(bytes, kCheckpointMagic, "checkpoint", &r));
  Checkpoint c;
  if (bytes.size() != kCheckpointSize || !ReadCheckpointBody(&r, &c) || !r.empty()) {
    return Status::Corruption("checkpoint: wrong size or hash algorithm [CKP-5]");
  }
  return c;
}

Result<SigningKey> LoadOrCreateSigningKey(Env* env, const std::string& path) {
  if (env->FileExists(path)) {
    HANSHIRO_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize(path));
    if (size != kKeyFileSize) {
      return Status::Corruption(fmt::format("{}: {} bytes, a key file has {} [CKP-6]", path, size,
                                            kKeyFileSize));
    }
    HANSHIRO_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(env, path));
    ByteReader r(bytes);
    HANSHIRO_RETURN_IF_ERROR(OpenEnvelope(bytes, kKeyMagic, path.c_str(), &r));
    uint32_t algo = 0;
    std::string_view seed;
    if (!r.ReadFixed32(&algo) || algo != kEd25519 || !r.ReadBytes(32, &seed) || !r.empty()) {
      return Status::Corruption(path + ": not an Ed25519 signing key [CKP-6]");
    }
    return SigningKey::FromSeed(seed);
  }
  HANSHIRO_ASSIGN_OR_RETURN(SigningKey key, SigningKey::Generate());
  std::string out(kKeyMagic);
  PutFixed32(&out, kVersion);
  PutFixed32(&out, kEd25519);
  out.append(key.seed());
  PutCrc(&out);
  // Owner-only before the seed is written: whoever reads it can sign.
  const std::string tmp = path + ".tmp";
  HANSHIRO_ASSIGN_OR_RETURN(auto file, env->NewWritableFile(tmp));
  HANSHIRO_RETURN_IF_ERROR(env->RestrictToOwner(tmp));
  HANSHIRO_RETURN_IF_ERROR(file->Append(out));
  HANSHIRO_RETURN_IF_ERROR(file->Sync());
  HANSHIRO_RETURN_IF_ERROR(file->Close());
  HANSHIRO_RETURN_IF_ERROR(env->RenameFile(tmp, path));
  HANSHIRO_RETURN_IF_ERROR(env->SyncDir(DirName(path)));
  return key;
}

std::string LeafInput(uint64_t seq, uint8_t kind, std::string_view payload) {
  std::string in;
  in.reserve(13 + payload.size());
  PutFixed64(&in, seq);
  in.push_back(static_cast<char>(kind));
  PutFixed32(&in, static_cast<uint32_t>(payload.size()));
  in.append(payload);
  return in;
}

std::string EncodeInclusionProof(const InclusionProof& proof) {
  std::string out(kInclusionMagic);
  PutFixed32(&out, kVersion);
  PutCheckpointBody(&out, proof.checkpoint);
  PutFixed64(&out, proof.index);
  PutPath(&out, proof.path);
  PutCrc(&out);
  return out;
}

Result<InclusionProof> DecodeInclusionProof(std::string_view bytes) {
  ByteReader r(bytes);
  HANSHIRO_RETURN_IF_ERROR(OpenEnvelope(bytes, kInclusionMagic, "inclusion proof", &r));
  InclusionProof p;
  if (!ReadCheckpointBody(&r, &p.checkpoint) || !r.ReadFixed64(&p.index) || !ReadPath(&r, &p.path)) {
    return Status::Corruption("inclusion proof: malformed body [CKP-7]");
  }
  return p;
}

std::string EncodeConsistencyProof(const ConsistencyProof& proof) {
  std::string out(kConsistencyMagic);
  PutFixed32(&out, kVersion);
  PutCheckpointBody(&out, proof.old_checkpoint);
  PutCheckpointBody(&out, proof.new_checkpoint);
  PutPath(&out, proof.path);
  PutCrc(&out);
  return out;
}

Result<ConsistencyProof> DecodeConsistencyProof(std::string_view bytes) {
  ByteReader r(bytes);
  HANSHIRO_RETURN_IF_ERROR(OpenEnvelope(bytes, kConsistencyMagic, "consistency proof", &r));
  ConsistencyProof p;
  if (!ReadCheckpointBody(&r, &p.old_checkpoint) || !ReadCheckpointBody(&r, &p.new_checkpoint) ||
      !ReadPath(&r, &p.path)) {
    return Status::Corruption("consistency proof: malformed body [CKP-7]");
  }
  return p;
}

Status VerifyInclusionProof(std::string_view proof, const PublicKey& trusted, uint8_t kind,
                            std::string_view payload) {
  HANSHIRO_ASSIGN_OR_RETURN(InclusionProof p, DecodeInclusionProof(proof));
  HANSHIRO_RETURN_IF_ERROR(VerifyCheckpoint(p.checkpoint, trusted));
  const Hash256 leaf = LeafHash(LeafInput(p.index, kind, payload));
  return VerifyInclusion(p.index, p.checkpoint.head.size, leaf, p.path, p.checkpoint.head.root)
      .WithContext(fmt::format("record {}", p.index));
}

Status VerifyConsistencyProof(std::string_view proof, const PublicKey& trusted) {
  HANSHIRO_ASSIGN_OR_RETURN(ConsistencyProof p, DecodeConsistencyProof(proof));
  HANSHIRO_RETURN_IF_ERROR(VerifyCheckpoint(p.old_checkpoint, trusted));
  HANSHIRO_RETURN_IF_ERROR(VerifyCheckpoint(p.new_checkpoint, trusted));
  const TreeHead& a = p.old_checkpoint.head;
  const TreeHead& b = p.new_checkpoint.head;
  if (a.size == 0) {  // the empty tree is a prefix of every tree
    if (a.root != EmptyRoot() || !p.path.empty()) {
      return Status::IntegrityBroken("consistency proof: malformed empty tree head");
    }
    return Status::OK();
  }
  return VerifyConsistency(a.size, b.size, a.root, b.root, p.path)
      .WithContext(fmt::format("tree {} -> {}", a.size, b.size));
}

}  // namespace hanshiro::integrity
