// The data model: the three kinds of value HanshiroDB stores, in one keyspace.
//
//   Log   (0x01)  Event         a security event
//   Code  (0x02)  CodeArtifact  a code / malware artifact
//   Index (0x03)  IndexEntry    a secondary-index entry (field, value, ids)
//
// Plain value types with public fields. Their rules (times not negative, text
// valid UTF-8, ...) are checked when a value is encoded (record.h), not on
// assignment. Thread-safety: like std::string.
#ifndef HANSHIRO_MODEL_H_
#define HANSHIRO_MODEL_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "hanshiro/event_id.h"
#include "hanshiro/status.h"

namespace hanshiro {

// The key prefix of each kind. Serialized: values are fixed.
enum class ValueKind : uint8_t { kLog = 0x01, kCode = 0x02, kIndex = 0x03 };
std::string_view ValueKindName(ValueKind kind);  // "log", "code", "index"

// ---------------------------------------------------------------------------
// Event

// Serialized: values are fixed. kCustom carries a name in EventType.
enum class EventTypeCode : uint8_t {
  kNetworkConnection = 1,
  kNetworkTraffic = 2,
  kDnsQuery = 3,
  kHttpRequest = 4,
  kAuthentication = 5,
  kFileCreate = 6,
  kFileModify = 7,
  kFileDelete = 8,
  kProcessStart = 9,
  kProcessStop = 10,
  kMalwareDetected = 11,
  kAnomalyDetected = 12,
  kPolicyViolation = 13,
  kCustom = 255,
};
constexpr uint8_t kMaxNamedEventTypeCode = 13;
constexpr size_t kMaxCustomEventTypeBytes = 128;

// A named event type, or a custom one with its own name. A custom name may not
// be one of the named types' names (FromName maps those to the named type).
struct EventType {
  EventTypeCode code = EventTypeCode::kNetworkConnection;
  std::string custom_name;  // non-empty exactly when code == kCustom

  static EventType Named(EventTypeCode code) { return {code, {}}; }
  static EventType Custom(std::string name) { return {EventTypeCode::kCustom, std::move(name)}; }
  // "DNSQuery" -> the named type (names compare case-insensitively); any
  // other text -> a custom type with that name.
  static EventType FromName(std::string_view name);
  // "NetworkConnection", ..., or the custom name.
  std::string_view name() const;

  friend bool operator==(const EventType&, const EventType&) = default;
};
// The name of a named code ("DNSQuery"), or "" for kCustom / unknown codes.
std::string_view EventTypeCodeName(EventTypeCode code);

// Serialized: values are fixed.
enum class IngestionFormat : uint8_t {
  kOcsf = 1,
  kEcs = 2,
  kZeek = 3,
  kSuricata = 4,
  kCef = 5,
  kLeef = 6,
  kSyslog = 7,
  kStix = 8,
  kRaw = 9,
};
constexpr uint8_t kMaxIngestionFormat = 9;
std::string_view IngestionFormatName(IngestionFormat format);  // "OCSF", ..., "Raw"
// Case-insensitive.
Result<IngestionFormat> ParseIngestionFormat(std::string_view name);

// An IPv4 or IPv6 address.
class IpAddress {
 public:
  enum class Family : uint8_t { kV4 = 4, kV6 = 6 };

  static IpAddress V4(const std::array<uint8_t, 4>& bytes);
  static IpAddress V6(const std::array<uint8_t, 16>& bytes);
  // Dotted quad or RFC 4291 text.
  static Result<IpAddress> Parse(std::string_view text);

  Family family() const { return family_; }
  // 4 or 16 bytes, network order.
  std::string_view bytes() const;
  std::string ToString() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  Family family_ = Family::kV4;
  std::array<uint8_t, 16> bytes_{};
};

struct EventSource {
  std::string host;
  std::optional<IpAddress> ip;
  std::string collector;
  IngestionFormat format = IngestionFormat::kRaw;

  friend bool operator==(const EventSource&, const EventSource&) = default;
};

constexpr size_t kMaxVectorDim = 4096;

struct Event {
  EventId id;
  int64_t event_time_ns = 0;   // when it happened, Unix ns, >= 0
  int64_t ingest_time_ns = 0;  // when it was stored, Unix ns, >= 0
  EventType type;
  EventSource source;
  std::string raw_data;                         // bytes, any content
  std::map<std::string, std::string> metadata;  // UTF-8 keys (non-empty) and values
  std::vector<float> vector;                    // embedding; empty = none

  friend bool operator==(const Event&, const Event&) = default;
};

// ---------------------------------------------------------------------------
// CodeArtifact

// Serialized: values are fixed.
enum class FileType : uint8_t {
  kUnknown = 0,
  kPe = 1,
  kElf = 2,
  kMachO = 3,
  kScript = 4,
  kDocument = 5,
  kArchive = 6,
};
constexpr uint8_t kMaxFileType = 6;
std::string_view FileTypeName(FileType type);           // "Unknown", "PE", "ELF", ...
Result<FileType> ParseFileType(std::string_view name);  // case-insensitive

// What an artifact can do, as bit flags. Serialized: bit positions are fixed.
enum class Capability : uint64_t {
  kNetwork = 1ull << 0,
  kFileSystem = 1ull << 1,
  kRegistry = 1ull << 2,
  kProcessCreation = 1ull << 3,
  kProcessInjection = 1ull << 4,
  kPersistence = 1ull << 5,
  kPrivilegeEscalation = 1ull << 6,
  kCredentialAccess = 1ull << 7,
  kKeylogging = 1ull << 8,
  kScreenCapture = 1ull << 9,
  kCrypto = 1ull << 10,
  kAntiDebug = 1ull << 11,
  kAntiVm = 1ull << 12,
  kObfuscation = 1ull << 13,
  kExfiltration = 1ull << 14,
};
constexpr int kCapabilityCount = 15;
constexpr uint64_t kAllCapabilityBits = (1ull << kCapabilityCount) - 1;
std::string_view CapabilityName(Capability c);              // "Network", ...
Result<Capability> ParseCapability(std::string_view name);  // case-insensitive

class Capabilities {
 public:
  constexpr Capabilities() = default;
  constexpr explicit Capabilities(uint64_t bits) : bits_(bits) {}
  uint64_t bits() const { return bits_; }
  bool Has(Capability c) const { return (bits_ & static_cast<uint64_t>(c)) != 0; }
  Capabilities& Set(Capability c) {
    bits_ |= static_cast<uint64_t>(c);
    return *this;
  }
  // Names of the set bits, lowest bit first.
  std::vector<std::string_view> Names() const;
  friend bool operator==(const Capabilities&, const Capabilities&) = default;

 private:
  uint64_t bits_ = 0;
};

struct CodeArtifact {
  EventId id;
  int64_t first_seen_ns = 0;  // Unix ns, >= 0
  std::array<uint8_t, 32> sha256{};
  FileType file_type = FileType::kUnknown;
  uint64_t size_bytes = 0;
  Capabilities capabilities;
  std::vector<std::string> file_names;  // UTF-8
  std::vector<std::string> imports;     // UTF-8
  std::vector<std::string> strings;     // UTF-8
  std::vector<EventId> related_log_ids;
  std::vector<float> vector;  // embedding; empty = none

  friend bool operator==(const CodeArtifact&, const CodeArtifact&) = default;
};

// ---------------------------------------------------------------------------
// IndexEntry

struct IndexEntry {
  EventId id;
  int64_t time_ns = 0;  // Unix ns, >= 0
  std::string field;    // UTF-8, non-empty
  std::string value;    // UTF-8
  std::vector<EventId> refs;

  friend bool operator==(const IndexEntry&, const IndexEntry&) = default;
};

// ---------------------------------------------------------------------------

using Value = std::variant<Event, CodeArtifact, IndexEntry>;

ValueKind KindOf(const Value& value);
const EventId& IdOf(const Value& value);
// The time a value is keyed by: event time, first seen, or entry time.
int64_t KeyTimeOf(const Value& value);

}  // namespace hanshiro

#endif  // HANSHIRO_MODEL_H_
