#include "hanshiro/model.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace hanshiro {
namespace {

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return AsciiLower(x) == AsciiLower(y);
         });
}

constexpr std::string_view kEventTypeNames[] = {
    "",
    "NetworkConnection",
    "NetworkTraffic",
    "DNSQuery",
    "HTTPRequest",
    "Authentication",
    "FileCreate",
    "FileModify",
    "FileDelete",
    "ProcessStart",
    "ProcessStop",
    "MalwareDetected",
    "AnomalyDetected",
    "PolicyViolation",
};
static_assert(std::size(kEventTypeNames) == kMaxNamedEventTypeCode + 1);

constexpr std::string_view kFormatNames[] = {
    "", "OCSF", "ECS", "Zeek", "Suricata", "CEF", "LEEF", "Syslog", "STIX", "Raw",
};
static_assert(std::size(kFormatNames) == kMaxIngestionFormat + 1);

constexpr std::string_view kFileTypeNames[] = {
    "Unknown", "PE", "ELF", "MachO", "Script", "Document", "Archive",
};
static_assert(std::size(kFileTypeNames) == kMaxFileType + 1);

constexpr std::string_view kCapabilityNames[] = {
    "Network",     "FileSystem",          "Registry",         "ProcessCreation", "ProcessInjection",
    "Persistence", "PrivilegeEscalation", "CredentialAccess", "Keylogging",      "ScreenCapture",
    "Crypto",      "AntiDebug",           "AntiVM",           "Obfuscation",     "Exfiltration",
};
static_assert(std::size(kCapabilityNames) == kCapabilityCount);

// Index of `name` in names[first..], compared case-insensitively, or -1.
template <size_t N>
int FindName(const std::string_view (&names)[N], std::string_view name, size_t first) {
  for (size_t i = first; i < N; ++i) {
    if (EqualsIgnoreCase(names[i], name)) return static_cast<int>(i);
  }
  return -1;
}

template <size_t N>
std::string JoinNames(const std::string_view (&names)[N], size_t first) {
  std::string out;
  for (size_t i = first; i < N; ++i) {
    if (!out.empty()) out += ", ";
    out += names[i];
  }
  return out;
}

}  // namespace

std::string_view ValueKindName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kLog:
      return "log";
    case ValueKind::kCode:
      return "code";
    case ValueKind::kIndex:
      return "index";
  }
  return "unknown";
}

std::string_view EventTypeCodeName(EventTypeCode code) {
  const auto i = static_cast<uint8_t>(code);
  return i <= kMaxNamedEventTypeCode ? kEventTypeNames[i] : std::string_view();
}

EventType EventType::FromName(std::string_view name) {
  const int i = FindName(kEventTypeNames, name, 1);
  if (i > 0) return Named(static_cast<EventTypeCode>(i));
  return Custom(std::string(name));
}

std::string_view EventType::name() const {
  return code == EventTypeCode::kCustom ? std::string_view(custom_name) : EventTypeCodeName(code);
}

std::string_view IngestionFormatName(IngestionFormat format) {
  const auto i = static_cast<uint8_t>(format);
  return i >= 1 && i <= kMaxIngestionFormat ? kFormatNames[i] : std::string_view("unknown");
}

Result<IngestionFormat> ParseIngestionFormat(std::string_view name) {
  const int i = FindName(kFormatNames, name, 1);
  if (i > 0) return static_cast<IngestionFormat>(i);
  return Status::InvalidArgument("unknown ingestion format '" + std::string(name) +
                                 "' (expected one of " + JoinNames(kFormatNames, 1) + ")");
}

std::string_view FileTypeName(FileType type) {
  const auto i = static_cast<uint8_t>(type);
  return i <= kMaxFileType ? kFileTypeNames[i] : std::string_view("unknown");
}

Result<FileType> ParseFileType(std::string_view name) {
  const int i = FindName(kFileTypeNames, name, 0);
  if (i >= 0) return static_cast<FileType>(i);
  return Status::InvalidArgument("unknown file type '" + std::string(name) + "' (expected one of " +
                                 JoinNames(kFileTypeNames, 0) + ")");
}

std::string_view CapabilityName(Capability c) {
  const auto bits = static_cast<uint64_t>(c);
  for (int i = 0; i < kCapabilityCount; ++i) {
    if (bits == (1ull << i)) return kCapabilityNames[i];
  }
  return "unknown";
}

Result<Capability> ParseCapability(std::string_view name) {
  const int i = FindName(kCapabilityNames, name, 0);
  if (i >= 0) return static_cast<Capability>(1ull << i);
  return Status::InvalidArgument("unknown capability '" + std::string(name) +
                                 "' (expected one of " + JoinNames(kCapabilityNames, 0) + ")");
}

std::vector<std::string_view> Capabilities::Names() const {
  std::vector<std::string_view> names;
  for (int i = 0; i < kCapabilityCount; ++i) {
    if (bits_ & (1ull << i)) names.push_back(kCapabilityNames[i]);
  }
  return names;
}

IpAddress IpAddress::V4(const std::array<uint8_t, 4>& bytes) {
  IpAddress ip;
  ip.family_ = Family::kV4;
  std::copy(bytes.begin(), bytes.end(), ip.bytes_.begin());
  return ip;
}

IpAddress IpAddress::V6(const std::array<uint8_t, 16>& bytes) {
  IpAddress ip;
  ip.family_ = Family::kV6;
  ip.bytes_ = bytes;
  return ip;
}

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("IP address contains a NUL byte");
  }
  const std::string s(text);  // inet_pton needs a terminated string
  std::array<uint8_t, 16> buf{};
  if (inet_pton(AF_INET, s.c_str(), buf.data()) == 1) return V4({buf[0], buf[1], buf[2], buf[3]});
  if (inet_pton(AF_INET6, s.c_str(), buf.data()) == 1) return V6(buf);
  return Status::InvalidArgument("'" + s + "' is not an IPv4 or IPv6 address");
}

std::string_view IpAddress::bytes() const {
  return {reinterpret_cast<const char*>(bytes_.data()), family_ == Family::kV4 ? 4u : 16u};
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  const int af = family_ == Family::kV4 ? AF_INET : AF_INET6;
  inet_ntop(af, bytes_.data(), buf, sizeof(buf));
  return buf;
}

ValueKind KindOf(const Value& value) {
  switch (value.index()) {
    case 0:
      return ValueKind::kLog;
    case 1:
      return ValueKind::kCode;
    default:
      return ValueKind::kIndex;
  }
}

const EventId& IdOf(const Value& value) {
  return std::visit([](const auto& v) -> const EventId& { return v.id; }, value);
}

int64_t KeyTimeOf(const Value& value) {
  if (const auto* e = std::get_if<Event>(&value)) return e->event_time_ns;
  if (const auto* c = std::get_if<CodeArtifact>(&value)) return c->first_seen_ns;
  return std::get<IndexEntry>(value).time_ns;
}

}  // namespace hanshiro
