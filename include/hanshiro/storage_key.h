// StorageKey: the 25-byte key of every value in the LSM keyspace.
//
//   prefix (1) | key time, Unix ns, big-endian (8) | id, big-endian (16)
//
// Keys compare as bytes (memcmp), which orders them by kind, then time, then
// id, so a time range of one kind is one contiguous key range. Key times are
// never negative, so the top bit of the time field is always 0.
// A value type.
#ifndef HANSHIRO_STORAGE_KEY_H_
#define HANSHIRO_STORAGE_KEY_H_

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "hanshiro/event_id.h"
#include "hanshiro/model.h"
#include "hanshiro/status.h"

namespace hanshiro {

class StorageKey {
 public:
  static constexpr size_t kSize = 25;

  // REQUIRES: time_ns >= 0
  StorageKey(ValueKind kind, int64_t time_ns, const EventId& id);
  static StorageKey For(const Value& value);

  // Checks size, prefix and time; Corruption naming the field otherwise.
  static Result<StorageKey> Decode(std::string_view bytes);

  ValueKind kind() const { return static_cast<ValueKind>(bytes_[0]); }
  int64_t time_ns() const;
  EventId id() const;
  std::string_view view() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  // "log/1700000000000000000/0190...": for messages.
  std::string ToString() const;

  friend auto operator<=>(const StorageKey&, const StorageKey&) = default;

 private:
  StorageKey() = default;
  std::array<uint8_t, kSize> bytes_{};
};

}  // namespace hanshiro

#endif  // HANSHIRO_STORAGE_KEY_H_
