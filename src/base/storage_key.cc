#include "hanshiro/storage_key.h"

#include <cstring>

#include "base/coding.h"

namespace hanshiro {

StorageKey::StorageKey(ValueKind kind, int64_t time_ns, const EventId& id) {
  HANSHIRO_CHECK(time_ns >= 0);
  bytes_[0] = static_cast<uint8_t>(kind);
  char* p = reinterpret_cast<char*>(bytes_.data());
  EncodeBigEndian64(p + 1, static_cast<uint64_t>(time_ns));
  id.EncodeTo(p + 9);
}

StorageKey StorageKey::For(const Value& value) {
  return StorageKey(KindOf(value), KeyTimeOf(value), IdOf(value));
}

Result<StorageKey> StorageKey::Decode(std::string_view bytes) {
  if (bytes.size() != kSize) {  // [KEY-1]
    return Status::Corruption("storage key: expected 25 bytes, got " +
                              std::to_string(bytes.size()));
  }
  const auto prefix = static_cast<uint8_t>(bytes[0]);
  if (prefix < 0x01 || prefix > 0x03) {  // [KEY-2]
    return Status::Corruption("storage key: unknown kind prefix " + std::to_string(prefix));
  }
  if (static_cast<uint8_t>(bytes[1]) & 0x80) {  // [KEY-3]
    return Status::Corruption("storage key: time is negative (top bit set)");
  }
  StorageKey key;
  std::memcpy(key.bytes_.data(), bytes.data(), kSize);
  return key;
}

int64_t StorageKey::time_ns() const {
  return static_cast<int64_t>(DecodeBigEndian64(reinterpret_cast<const char*>(bytes_.data()) + 1));
}

EventId StorageKey::id() const {
  return EventId::DecodeFrom(reinterpret_cast<const char*>(bytes_.data()) + 9);
}

std::string StorageKey::ToString() const {
  return std::string(ValueKindName(kind())) + "/" + std::to_string(time_ns()) + "/" +
         id().ToString();
}

}  // namespace hanshiro
