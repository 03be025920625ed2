#include "ingest/formats.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <initializer_list>
#include <map>
#include <span>

#include <fmt/format.h>
#include <simdjson.h>

#include "base/hex.h"
#include "base/utf8.h"
#include "ingest/event_json.h"

namespace hanshiro::ingest {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// A line's fields by flattened name ("alert.signature", "id.orig_h").
using Fields = std::map<std::string, std::string, std::less<>>;

constexpr std::array<std::string_view, 9> kFormatNames = {
    "auto", "ndjson", "ocsf", "ecs", "zeek", "suricata", "cef", "leef", "syslog"};

Status Bad(std::string_view field, std::string_view why) {
  return Status::InvalidArgument(fmt::format("field '{}': {}", field, why));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

// Text as valid UTF-8: each byte that starts no valid sequence becomes U+FFFD.
std::string ValidText(std::string_view s) {
  if (utf8::IsValid(s)) return std::string(s);
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8::SequenceLength(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

const std::string* Find(const Fields& f, std::string_view key) {
  auto it = f.find(key);
  return it == f.end() ? nullptr : &it->second;
}

// The first of keys that is present and not empty, with its key.
std::pair<std::string_view, const std::string*> First(const Fields& f,
                                                      std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    const std::string* v = Find(f, k);
    if (v != nullptr && !v->empty()) return {k, v};
  }
  return {{}, nullptr};
}

std::string FirstOf(const Fields& f, std::initializer_list<std::string_view> keys,
                    std::string_view otherwise = {}) {
  const std::string* v = First(f, keys).second;
  return v != nullptr ? *v : std::string(otherwise);
}

// A comma-joined list (a flattened JSON array) holds the token.
bool ListHas(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (list.substr(0, comma) == token) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

bool HasPrefix(const Fields& f, std::string_view prefix) {
  auto it = f.lower_bound(prefix);
  return it != f.end() && it->first.starts_with(prefix);
}

// A format's own names for event types (docs/ingest-formats.md lists them).
struct NamedType {
  std::string_view name;
  EventTypeCode type;
};

std::optional<EventTypeCode> Lookup(std::span<const NamedType> table, std::string_view name) {
  for (const NamedType& t : table) {
    if (t.name == name) return t.type;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// JSON flattened to dotted names

Status Put(Fields* out, std::string name, std::string value) {
  if (name.empty()) return Status::OK();
  auto [it, fresh] = out->try_emplace(std::move(name), std::move(value));
  if (!fresh) return Bad(it->first, "given twice (as a nested and as a dotted name)");
  return Status::OK();
}

Result<std::string> Scalar(element e) {
  switch (e.type()) {
    case element_type::STRING: return std::string(e.get_string().value());
    case element_type::INT64: return std::to_string(e.get_int64().value());
    case element_type::UINT64: return std::to_string(e.get_uint64().value());
    case element_type::DOUBLE: return fmt::format("{}", e.get_double().value());
    case element_type::BOOL: return std::string(e.get_bool().value() ? "true" : "false");
    default: return Status::NotFound("not a scalar");
  }
}

Status Flatten(element e, const std::string& name, Fields* out) {
  switch (e.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object obj;
      if (e.get(obj) != simdjson::SUCCESS) return Bad(name, "unreadable object");
      for (auto [k, v] : obj) {
        HANSHIRO_RETURN_IF_ERROR(Flatten(v, name.empty() ? std::string(k) : name + "." + std::string(k), out));
      }
      return Status::OK();
    }
    case element_type::ARRAY: {
      simdjson::dom::array arr;
      if (e.get(arr) != simdjson::SUCCESS) return Bad(name, "unreadable array");
      bool scalars = true;
      for (element x : arr) scalars = scalars && x.type() != element_type::OBJECT && x.type() != element_type::ARRAY;
      if (scalars) {  // a list of values: "a,b,c"
        std::string joined;
        for (element x : arr) {
          auto s = Scalar(x);
          if (!s.ok()) continue;  // null
          if (!joined.empty()) joined += ",";
          joined += *s;
        }
        return Put(out, name, std::move(joined));
      }
      size_t i = 0;
      for (element x : arr) HANSHIRO_RETURN_IF_ERROR(Flatten(x, fmt::format("{}.{}", name, i++), out));
      return Status::OK();
    }
    case element_type::NULL_VALUE: return Status::OK();
    default: return Put(out, name, *Scalar(e));
  }
}

simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

Result<simdjson::dom::object> ParseObject(std::string_view line) {
  element doc;
  if (auto err = Parser().parse(line.data(), line.size(), /*realloc_if_needed=*/true).get(doc);
      err != simdjson::SUCCESS) {
    return Status::InvalidArgument(std::string("malformed JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  if (doc.get(obj) != simdjson::SUCCESS) return Status::InvalidArgument("expected a JSON object");
  return obj;
}

Result<Fields> JsonFields(simdjson::dom::object obj) {
  Fields f;
  for (auto [k, v] : obj) HANSHIRO_RETURN_IF_ERROR(Flatten(v, std::string(k), &f));
  return f;
}

// ---------------------------------------------------------------------------
// Times

// "1700000000.123456" (Zeek) -> ns.
Result<int64_t> EpochSeconds(std::string_view s) {
  const size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  auto digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || whole.size() > 10 || !digits(whole) || !digits(frac) || frac.size() > 9 ||
      (dot != std::string_view::npos && frac.empty())) {
    return Status::InvalidArgument("expected Unix seconds like 1700000000.123456, got '" + std::string(s) + "'");
  }
  const int64_t secs = std::stoll(std::string(whole));
  if (secs > INT64_MAX / 1'000'000'000 - 1) return Status::InvalidArgument("Unix seconds out of range: '" + std::string(s) + "'");
  int64_t ns = secs * 1'000'000'000;
  int64_t scale = 100'000'000;
  for (char c : frac) {
    ns += (c - '0') * scale;
    scale /= 10;
  }
  return ns;
}

// RFC 3339, also with the "+0000" offsets Suricata and others print.
Result<int64_t> IsoTime(std::string_view s) {
  if (s.size() > 5 && (s[s.size() - 5] == '+' || s[s.size() - 5] == '-') &&
      std::all_of(s.end() - 4, s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return ParseTime(fmt::format("{}:{}", s.substr(0, s.size() - 2), s.substr(s.size() - 2)));
  }
  return ParseTime(s);
}

int MonthNumber(std::string_view s) {
  static constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                               "jul", "aug", "sep", "oct", "nov", "dec"};
  const std::string m = Lower(s);
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (m == kMonths[i]) return static_cast<int>(i) + 1;
  }
  return 0;
}

int YearOf(int64_t ns) {
  std::time_t t = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm.tm_year + 1900;
}

// "Nov 14 2023 22:13:20[.123][ UTC]" or, without a year, "Nov 14 22:13:20"
// (BSD syslog; the day may be space-padded): the year is now's, or the one
// before when that would put the time more than a day ahead of now.
// *used = the bytes the time took.
Result<int64_t> MonthDayTime(std::string_view s, int64_t now_ns, size_t* used) {
  auto bad = [&] {
    return Status::InvalidArgument("expected a time like 'Nov 14 2023 22:13:20' or 'Nov 14 22:13:20', got '" +
                                   std::string(s.substr(0, 32)) + "'");
  };
  if (s.size() < 15 || s[3] != ' ') return bad();
  const int month = MonthNumber(s.substr(0, 3));
  if (month == 0) return bad();
  size_t at = 4;
  if (s[at] == ' ') ++at;  // "Nov  4"
  int day = 0;
  while (at < s.size() && s[at] >= '0' && s[at] <= '9' && day < 100) day = day * 10 + (s[at++] - '0');
  if (at >= s.size() || s[at] != ' ' || day == 0) return bad();
  ++at;
  int year = 0;
  bool have_year = false;
  if (at + 5 <= s.size() && s[at + 4] == ' ' &&
      std::all_of(s.begin() + at, s.begin() + at + 4, [](char c) { return c >= '0' && c <= '9'; })) {
    year = std::stoi(std::string(s.substr(at, 4)));
    have_year = true;
    at += 5;
  }
  if (at + 8 > s.size() || s[at + 2] != ':' || s[at + 5] != ':') return bad();
  std::string clock(s.substr(at, 8));
  at += 8;
  if (at < s.size() && s[at] == '.') {
    const size_t start = at;
    ++at;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') ++at;
    clock += s.substr(start, at - start);
  }
  if (at + 4 <= s.size() && s[at] == ' ' && (at + 4 == s.size() || s[at + 4] == ' ')) {
    const std::string zone = Lower(s.substr(at + 1, 3));
    if (zone == "utc" || zone == "gmt") at += 4;
  }
  auto at_year = [&](int y) {
    return ParseTime(fmt::format("{:04d}-{:02d}-{:02d}T{}Z", y, month, day, clock));
  };
  if (!have_year) {
    year = YearOf(now_ns);
    auto t = at_year(year);
    if (t.ok() && *t > now_ns + int64_t{86'400} * 1'000'000'000) t = at_year(year - 1);
    if (!t.ok()) return t.status();
    *used = at;
    return t;
  }
  auto t = at_year(year);
  if (t.ok()) *used = at;
  return t;
}

// CEF "rt" / LEEF "devTime": Unix ms, "MMM dd yyyy HH:mm:ss[.SSS][ UTC]" or RFC 3339.
Result<int64_t> DeviceTime(std::string_view s, int64_t now_ns) {
  if (!s.empty() && s[0] >= '0' && s[0] <= '9') return IsoTime(s);  // ms or RFC 3339
  size_t used = 0;
  auto t = MonthDayTime(s, now_ns, &used);
  if (!t.ok()) return t;
  if (used != s.size()) {
    return Status::InvalidArgument("time zone '" + std::string(s.substr(used)) +
                                   "' not supported (give UTC, Unix ms or RFC 3339)");
  }
  return t;
}

Status TimeFrom(const Fields& f, std::initializer_list<std::string_view> keys,
                Result<int64_t> (*parse)(std::string_view), Event* e) {
  auto [key, value] = First(f, keys);
  if (value == nullptr) return Status::OK();
  auto t = parse(*value);
  if (!t.ok()) return Bad(key, t.status().message());
  e->event_time_ns = *t;
  return Status::OK();
}

// ---------------------------------------------------------------------------
// Events

// A custom type named by untrusted text (at most kMaxCustomEventTypeBytes).
EventType TypeNamed(std::string_view name, std::string_view otherwise) {
  std::string n = ValidText(name.empty() ? otherwise : name);
  if (n.size() > kMaxCustomEventTypeBytes) {
    size_t cut = kMaxCustomEventTypeBytes;
    while (cut > 0 && (static_cast<uint8_t>(n[cut]) & 0xC0) == 0x80) --cut;  // a UTF-8 boundary
    n.resize(cut);
  }
  return EventType::FromName(n.empty() ? otherwise : n);
}

// Formats without a type field (CEF, LEEF, syslog): the first rule whose word
// appears in the lowercased text names the type (docs/ingest-formats.md).
EventType Classify(std::string_view text, std::string_view otherwise) {
  struct Rule {
    EventTypeCode type;
    std::initializer_list<std::string_view> words;
  };
  static const Rule kRules[] = {
      {EventTypeCode::kMalwareDetected, {"malware", "virus", "trojan", "ransomware", "worm", "spyware", "backdoor"}},
      {EventTypeCode::kPolicyViolation, {"policy violation", "violation"}},
      {EventTypeCode::kAnomalyDetected, {"anomal"}},
      {EventTypeCode::kAuthentication,
       {"authentication", "logon", "login", "log in", "accepted password", "failed password",
        "accepted publickey", "auth failure"}},
      {EventTypeCode::kProcessStart, {"process start", "process created", "process creation", "process launch"}},
      {EventTypeCode::kProcessStop, {"process stop", "process terminated", "process exit"}},
      {EventTypeCode::kFileCreate, {"file created", "file create"}},
      {EventTypeCode::kFileDelete, {"file deleted", "file delete"}},
      {EventTypeCode::kFileModify, {"file modified", "file modify", "file changed"}},
      {EventTypeCode::kDnsQuery, {"dns"}},
      {EventTypeCode::kHttpRequest, {"http"}},
      {EventTypeCode::kNetworkConnection,
       {"connection", "connect", "firewall", "traffic", "denied", "deny", "accept", "allow", "drop", "block"}},
  };
  const std::string lower = Lower(text);
  for (const Rule& r : kRules) {
    for (std::string_view w : r.words) {
      if (lower.find(w) != std::string::npos) return EventType::Named(r.type);
    }
  }
  return TypeNamed(otherwise, "event");
}

Status SetIp(const Fields& f, std::initializer_list<std::string_view> keys, Event* e) {
  auto [key, value] = First(f, keys);
  if (value == nullptr) return Status::OK();
  const std::string_view first = std::string_view(*value).substr(0, value->find(','));  // a list: its first
  auto ip = IpAddress::Parse(first);
  if (!ip.ok()) return Bad(key, ip.status().message());
  e->source.ip = *ip;
  return Status::OK();
}

// raw_data = the line; metadata = the fields (valid text, the first
// kMaxMetadataFields names in byte order).
Event Finish(Event e, Fields fields, std::string_view line) {
  e.raw_data = std::string(line);
  e.source.host = ValidText(e.source.host);
  e.source.collector = ValidText(e.source.collector);
  for (auto& [k, v] : fields) {
    if (e.metadata.size() == kMaxMetadataFields) break;
    if (k.empty()) continue;
    e.metadata.emplace(ValidText(k), ValidText(v));
  }
  return e;
}

Event Start(IngestionFormat format, int64_t now_ns) {
  Event e;
  e.event_time_ns = now_ns;
  e.source.format = format;
  return e;
}

// OCSF: class_uid / activity_id name the type; time is Unix ms.
Result<Event> Ocsf(Fields f, std::string_view line, int64_t now_ns) {
  Event e = Start(IngestionFormat::kOcsf, now_ns);
  HANSHIRO_RETURN_IF_ERROR(TimeFrom(f, {"time", "time_dt"}, IsoTime, &e));
  const std::string cls = FirstOf(f, {"class_uid"});
  const std::string activity = FirstOf(f, {"activity_id"});
  const std::string name = FirstOf(f, {"class_name"}, "OCSF class " + cls);
  using C = EventTypeCode;
  // "class/activity" first, then the class alone.
  static constexpr NamedType kOcsfTypes[] = {
      {"1001/1", C::kFileCreate},    {"1001/3", C::kFileModify},    {"1001/4", C::kFileDelete},
      {"1001/5", C::kFileModify},    {"1001/6", C::kFileModify},    {"1001/7", C::kFileModify},
      {"1007/1", C::kProcessStart},  {"1007/2", C::kProcessStop},   {"3002", C::kAuthentication},
      {"4001", C::kNetworkConnection}, {"4002", C::kHttpRequest},   {"4003", C::kDnsQuery},
      {"2003", C::kPolicyViolation},  // Compliance Finding
  };
  std::optional<C> type = Lookup(kOcsfTypes, cls + "/" + activity);
  if (!type) type = Lookup(kOcsfTypes, cls);
  if (!type && cls.size() == 4 && cls[0] == '4') type = C::kNetworkTraffic;  // other network classes
  if (!type && (cls == "2001" || cls == "2004")) {  // Security / Detection Finding
    type = HasPrefix(f, "malware") ? C::kMalwareDetected : C::kAnomalyDetected;
  }
  e.type = type ? EventType::Named(*type) : TypeNamed(name, "OCSF event");
  e.source.host = FirstOf(f, {"device.hostname", "device.name", "src_endpoint.hostname"});
  HANSHIRO_RETURN_IF_ERROR(SetIp(f, {"device.ip", "src_endpoint.ip"}, &e));
  e.source.collector = FirstOf(f, {"metadata.product.name", "metadata.product.vendor_name"}, "ocsf");
  return Finish(std::move(e), std::move(f), line);
}

// ECS: event.category / event.type (lists) name the type.
Result<Event> Ecs(Fields f, std::string_view line, int64_t now_ns) {
  Event e = Start(IngestionFormat::kEcs, now_ns);
  HANSHIRO_RETURN_IF_ERROR(TimeFrom(f, {"@timestamp"}, IsoTime, &e));
  const std::string cat = Lower(FirstOf(f, {"event.category"}));
  const std::string typ = Lower(FirstOf(f, {"event.type"}));
  using C = EventTypeCode;
  std::optional<C> type;
  if (ListHas(cat, "malware")) {
    type = C::kMalwareDetected;
  } else if (ListHas(cat, "intrusion_detection") || FirstOf(f, {"event.kind"}) == "alert") {
    type = C::kAnomalyDetected;
  } else if (ListHas(cat, "authentication")) {
    type = C::kAuthentication;
  } else if (ListHas(cat, "process")) {
    if (ListHas(typ, "start")) type = C::kProcessStart;
    else if (ListHas(typ, "end")) type = C::kProcessStop;
  } else if (ListHas(cat, "file")) {
    if (ListHas(typ, "creation")) type = C::kFileCreate;
    else if (ListHas(typ, "deletion")) type = C::kFileDelete;
    else if (ListHas(typ, "change")) type = C::kFileModify;
  } else if (ListHas(cat, "network") || ListHas(cat, "web")) {
    if (HasPrefix(f, "dns.")) type = C::kDnsQuery;
    else if (HasPrefix(f, "http.") || ListHas(cat, "web")) type = C::kHttpRequest;
    else if (ListHas(typ, "connection") || ListHas(typ, "start")) type = C::kNetworkConnection;
    else type = C::kNetworkTraffic;
  }
  e.type = type ? EventType::Named(*type) : TypeNamed(FirstOf(f, {"event.action", "event.dataset"}), "ECS event");
  e.source.host = FirstOf(f, {"host.name", "host.hostname", "observer.hostname"});
  HANSHIRO_RETURN_IF_ERROR(SetIp(f, {"host.ip", "source.ip"}, &e));
  e.source.collector = FirstOf(f, {"agent.type", "observer.product", "event.module"}, "ecs");
  return Finish(std::move(e), std::move(f), line);
}

Result<int64_t> ZeekTime(std::string_view s) {
  return s.find('-') != std::string_view::npos ? IsoTime(s) : EpochSeconds(s);
}

// Zeek (TSV or JSON): the log's path (conn, dns, http, ...) names the type.
Result<Event> Zeek(Fields f, std::string path, std::string_view line, int64_t now_ns) {
  Event e = Start(IngestionFormat::kZeek, now_ns);
  HANSHIRO_RETURN_IF_ERROR(TimeFrom(f, {"ts"}, ZeekTime, &e));
  if (path.empty()) path = FirstOf(f, {"_path"});
  if (path.empty()) {  // JSON logs without _path: known by their fields
    path = Find(f, "query") ? "dns"
           : (Find(f, "method") || Find(f, "uri")) ? "http"
           : Find(f, "conn_state")                 ? "conn"
           : Find(f, "auth_success")               ? "ssh"
           : Find(f, "note")                       ? "notice"
           : Find(f, "fuid")                       ? "files"
                                                   : "";
  }
  using C = EventTypeCode;
  static constexpr NamedType kZeekTypes[] = {
      {"conn", C::kNetworkConnection}, {"dns", C::kDnsQuery},          {"http", C::kHttpRequest},
      {"ssh", C::kAuthentication},     {"kerberos", C::kAuthentication}, {"ntlm", C::kAuthentication},
      {"radius", C::kAuthentication},  {"notice", C::kAnomalyDetected}, {"weird", C::kAnomalyDetected},
      {"intel", C::kAnomalyDetected},  {"ssl", C::kNetworkTraffic},     {"x509", C::kNetworkTraffic},
      {"smtp", C::kNetworkTraffic},    {"ftp", C::kNetworkTraffic},     {"dhcp", C::kNetworkTraffic},
      {"smb_files", C::kNetworkTraffic}, {"smb_mapping", C::kNetworkTraffic}, {"rdp", C::kNetworkTraffic},
      {"sip", C::kNetworkTraffic},     {"snmp", C::kNetworkTraffic},
  };
  const std::optional<C> type = Lookup(kZeekTypes, path);
  e.type = type ? EventType::Named(*type) : TypeNamed(path.empty() ? "" : "zeek." + path, "zeek");
  e.source.host = FirstOf(f, {"_system_name", "peer", "id.orig_h"});
  HANSHIRO_RETURN_IF_ERROR(SetIp(f, {"id.orig_h"}, &e));
  e.source.collector = "zeek";
  if (!path.empty()) f.try_emplace("_path", path);
  return Finish(std::move(e), std::move(f), line);
}

// Suricata EVE: event_type names the type (alerts by their category).
Result<Event> Suricata(Fields f, std::string_view line, int64_t now_ns) {
  Event e = Start(IngestionFormat::kSuricata, now_ns);
  HANSHIRO_RETURN_IF_ERROR(TimeFrom(f, {"timestamp"}, IsoTime, &e));
  const std::string kind = FirstOf(f, {"event_type"});
  using C = EventTypeCode;
  std::optional<C> type;
  if (kind == "alert") {
    const std::string category = Lower(FirstOf(f, {"alert.category"}) + " " + FirstOf(f, {"alert.signature"}));
    type = (category.find("trojan") != std::string::npos || category.find("malware") != std::string::npos)
               ? C::kMalwareDetected
           : category.find("policy") != std::string::npos ? C::kPolicyViolation
                                                          : C::kAnomalyDetected;
  } else {
    static constexpr NamedType kEveTypes[] = {
        {"flow", C::kNetworkConnection}, {"netflow", C::kNetworkConnection}, {"dns", C::kDnsQuery},
        {"http", C::kHttpRequest},       {"anomaly", C::kAnomalyDetected},   {"drop", C::kPolicyViolation},
        {"tls", C::kNetworkTraffic},     {"ssh", C::kNetworkTraffic},        {"smb", C::kNetworkTraffic},
        {"ftp", C::kNetworkTraffic},     {"smtp", C::kNetworkTraffic},       {"dhcp", C::kNetworkTraffic},
        {"nfs", C::kNetworkTraffic},     {"rdp", C::kNetworkTraffic},        {"sip", C::kNetworkTraffic},
        {"snmp", C::kNetworkTraffic},    {"krb5", C::kNetworkTraffic},       {"mqtt", C::kNetworkTraffic},
        {"quic", C::kNetworkTraffic},
    };
    type = Lookup(kEveTypes, kind);
  }
  e.type = type ? EventType::Named(*type) : TypeNamed(kind.empty() ? "" : "suricata." + kind, "suricata");
  e.source.host = FirstOf(f, {"host", "src_ip"});
  HANSHIRO_RETURN_IF_ERROR(SetIp(f, {"src_ip"}, &e));
  e.source.collector = "suricata";
  return Finish(std::move(e), std::move(f), line);
}

// ---------------------------------------------------------------------------
// Syslog

struct Syslog {
  std::optional<int64_t> time;
  std::string host;
  std::string app;
  Fields fields;
  std::string_view message;
};

// "<PRI>" then RFC 5424 ("1 TIMESTAMP HOST APP PROCID MSGID SD MSG") or
// RFC 3164 ("Mmm dd hh:mm:ss HOST TAG[PID]: MSG"); PRI may be missing in
// the BSD form.
Result<Syslog> ParseSyslog(std::string_view s, int64_t now_ns) {
  Syslog out;
  if (!s.empty() && s[0] == '<') {
    const size_t close = s.find('>');
    if (close == std::string_view::npos || close < 2 || close > 4 ||
        !std::all_of(s.begin() + 1, s.begin() + close, [](char c) { return c >= '0' && c <= '9'; })) {
      return Bad("syslog.pri", "expected <0> to <191> at the start of the line");
    }
    const int pri = std::stoi(std::string(s.substr(1, close - 1)));
    if (pri > 191) return Bad("syslog.pri", fmt::format("{} is above 191", pri));
    out.fields["syslog.facility"] = std::to_string(pri / 8);
    out.fields["syslog.severity"] = std::to_string(pri % 8);
    s.remove_prefix(close + 1);
  }
  auto token = [&s]() {
    const size_t sp = s.find(' ');
    std::string_view t = s.substr(0, sp);
    s.remove_prefix(sp == std::string_view::npos ? s.size() : sp + 1);
    return t;
  };
  auto put = [&out](std::string_view key, std::string_view value) {
    if (value != "-" && !value.empty()) out.fields[std::string(key)] = std::string(value);
  };
  if (s.size() >= 2 && s[0] >= '1' && s[0] <= '9' && (s[1] == ' ' || (s[1] >= '0' && s[1] <= '9'))) {
    token();  // VERSION
    const std::string_view ts = token();
    if (ts != "-") {
      auto t = IsoTime(ts);
      if (!t.ok()) return Bad("syslog.timestamp", t.status().message());
      out.time = *t;
    }
    const std::string_view host = token(), app = token(), procid = token(), msgid = token();
    put("syslog.hostname", host);
    put("syslog.app_name", app);
    put("syslog.procid", procid);
    put("syslog.msgid", msgid);
    out.host = host == "-" ? "" : std::string(host);
    out.app = app == "-" ? "" : std::string(app);
    if (!s.empty() && s[0] == '-') {
      s.remove_prefix(s.size() > 1 ? 2 : 1);
    } else {
      while (!s.empty() && s[0] == '[') {  // [id name="value" ...]
        size_t i = 1;
        while (i < s.size() && s[i] != ' ' && s[i] != ']') ++i;
        const std::string id(s.substr(1, i - 1));
        while (i < s.size() && s[i] == ' ') {
          const size_t eq = s.find('=', i);
          if (eq == std::string_view::npos || eq + 1 >= s.size() || s[eq + 1] != '"') {
            return Bad("syslog.structured_data", "expected name=\"value\" in [" + id);
          }
          const std::string name(s.substr(i + 1, eq - i - 1));
          std::string value;
          size_t j = eq + 2;
          for (; j < s.size() && s[j] != '"'; ++j) {
            if (s[j] == '\\' && j + 1 < s.size()) ++j;
            value += s[j];
          }
          if (j >= s.size()) return Bad("syslog.structured_data", "unterminated value of " + name);
          out.fields["sd." + id + "." + name] = value;
          i = j + 1;
        }
        if (i >= s.size() || s[i] != ']') return Bad("syslog.structured_data", "missing ']' after [" + id);
        s.remove_prefix(i + 1);
      }
      if (!s.empty() && s[0] == ' ') s.remove_prefix(1);
    }
    if (s.starts_with("\xEF\xBB\xBF")) s.remove_prefix(3);  // BOM
  } else {
    size_t used = 0;
    auto t = MonthDayTime(s, now_ns, &used);
    if (!t.ok()) return Bad("syslog.timestamp", t.status().message());
    out.time = *t;
    s.remove_prefix(std::min(used + 1, s.size()));
    // HOST, unless the next word is already the tag ("sshd[42]:")
    const std::string_view next = s.substr(0, s.find(' '));
    if (!next.empty() && next.back() != ':' && next.find('[') == std::string_view::npos &&
        !next.starts_with("CEF:") && !next.starts_with("LEEF:")) {
      out.host = std::string(next);
      put("syslog.hostname", next);
      token();
    }
    if (!s.starts_with("CEF:") && !s.starts_with("LEEF:")) {
      size_t i = 0;
      while (i < s.size() && i < 48 && s[i] != ':' && s[i] != '[' && s[i] != ' ') ++i;
      if (i > 0 && i < s.size() && (s[i] == ':' || s[i] == '[')) {
        out.app = std::string(s.substr(0, i));
        put("syslog.app_name", out.app);
        if (s[i] == '[') {
          const size_t close = s.find(']', i);
          if (close != std::string_view::npos) {
            put("syslog.procid", s.substr(i + 1, close - i - 1));
            i = close + 1;
          }
        }
        if (i < s.size() && s[i] == ':') ++i;
        if (i < s.size() && s[i] == ' ') ++i;
        s.remove_prefix(i);
      }
    }
  }
  out.message = s;
  return out;
}

bool LooksLikeSyslog(std::string_view s) {
  return (!s.empty() && s[0] == '<') || (s.size() > 4 && s[3] == ' ' && MonthNumber(s.substr(0, 3)) != 0);
}

Result<Event> SyslogEvent(Syslog sys, std::string_view line, int64_t now_ns) {
  Event e = Start(IngestionFormat::kSyslog, now_ns);
  if (sys.time) e.event_time_ns = *sys.time;
  sys.fields["syslog.message"] = std::string(sys.message);
  e.type = Classify(sys.app + " " + std::string(sys.message), sys.app.empty() ? "syslog" : sys.app);
  e.source.host = sys.host;
  if (auto ip = IpAddress::Parse(sys.host); ip.ok()) e.source.ip = *ip;
  e.source.collector = "syslog";
  return Finish(std::move(e), std::move(sys.fields), line);
}

// ---------------------------------------------------------------------------
// CEF and LEEF

// CEF:Version|Vendor|Product|Version|SignatureID|Name|Severity|k=v k=v ...
Result<Event> Cef(std::string_view cef, Syslog sys, std::string_view line, int64_t now_ns) {
  static constexpr std::array<std::string_view, 7> kHeader = {
      "cef.version", "cef.device_vendor", "cef.device_product", "cef.device_version",
      "cef.signature_id", "cef.name", "cef.severity"};
  Fields f = std::move(sys.fields);
  cef.remove_prefix(4);  // "CEF:"
  size_t at = 0;
  for (size_t h = 0; h < kHeader.size(); ++h) {
    std::string value;
    while (at < cef.size() && cef[at] != '|') {
      if (cef[at] == '\\' && at + 1 < cef.size() && (cef[at + 1] == '|' || cef[at + 1] == '\\')) ++at;
      value += cef[at++];
    }
    if (at >= cef.size()) {
      return Status::InvalidArgument(fmt::format(
          "CEF header: {} of its 7 '|'-separated fields before the extension (missing {})", h,
          kHeader[h]));
    }
    ++at;
    f[std::string(kHeader[h])] = std::move(value);
  }
  // Extension: key=value pairs; a value runs to the space before the next key=.
  const std::string_view ext = cef.substr(at);
  std::vector<size_t> eqs;  // unescaped '='
  for (size_t i = 0; i < ext.size(); ++i) {
    if (ext[i] == '\\') {
      ++i;
    } else if (ext[i] == '=') {
      eqs.push_back(i);
    }
  }
  auto key_start = [&](size_t eq, size_t floor) {
    size_t k = eq;
    while (k > floor && ext[k - 1] != ' ') --k;
    return k;
  };
  size_t floor = 0;
  std::vector<std::pair<size_t, size_t>> keys;  // [start, eq)
  for (size_t eq : eqs) {
    const size_t k = key_start(eq, floor);
    const std::string_view key = ext.substr(k, eq - k);
    const bool word = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
             c == '.' || c == '-' || c == '[' || c == ']';
    });
    if (!word || (k == floor && !keys.empty())) continue;  // '=' inside a value
    keys.emplace_back(k, eq);
    floor = eq + 1;
  }
  if (!keys.empty() && !std::all_of(ext.begin(), ext.begin() + keys[0].first, [](char c) { return c == ' '; })) {
    return Status::InvalidArgument(fmt::format("CEF extension: text before the first key=value at byte {}",
                                               line.size() - cef.size() + at));
  }
  if (keys.empty() && ext.find_first_not_of(' ') != std::string_view::npos) {
    return Status::InvalidArgument("CEF extension: expected key=value pairs, got '" +
                                   std::string(ext.substr(0, 40)) + "'");
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    const size_t begin = keys[i].second + 1;
    size_t end = i + 1 < keys.size() ? keys[i + 1].first : ext.size();
    while (end > begin && ext[end - 1] == ' ') --end;
    std::string value;
    for (size_t j = begin; j < end; ++j) {
      if (ext[j] == '\\' && j + 1 < end) {
        const char c = ext[++j];
        value += c == 'n' ? '\n' : c == 'r' ? '\r' : c;
      } else {
        value += ext[j];
      }
    }
    const std::string key(ext.substr(keys[i].first, keys[i].second - keys[i].first));
    if (!f.try_emplace(key, std::move(value)).second) return Bad(key, "given twice");
  }
  Event e = Start(IngestionFormat::kCef, now_ns);
  if (sys.time) e.event_time_ns = *sys.time;
  for (std::string_view key : {"rt", "end", "start"}) {
    if (const std::string* v = Find(f, key); v != nullptr && !v->empty()) {
      auto t = DeviceTime(*v, now_ns);
      if (!t.ok()) return Bad(key, t.status().message());
      e.event_time_ns = *t;
      break;
    }
  }
  const std::string name = *Find(f, "cef.name");
  e.type = Classify(FirstOf(f, {"cat"}) + " " + name, name);
  e.source.host = FirstOf(f, {"dvchost"}, sys.host.empty() ? FirstOf(f, {"shost"}) : sys.host);
  HANSHIRO_RETURN_IF_ERROR(SetIp(f, {"dvc", "src"}, &e));
  e.source.collector = *Find(f, "cef.device_vendor") + " " + *Find(f, "cef.device_product");
  return Finish(std::move(e), std::move(f), line);
}

// LEEF:1.0|Vendor|Product|Version|EventID|k=v<TAB>k=v...
// LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|k=v<D>k=v...
Result<Event> Leef(std::string_view leef, Syslog sys, std::string_view line, int64_t now_ns) {
  static constexpr std::array<std::string_view, 5> kHeader = {"leef.version", "leef.vendor", "leef.product",
                                                              "leef.product_version", "leef.event_id"};
  Fields f = std::move(sys.fields);
  leef.remove_prefix(5);  // "LEEF:"
  for (size_t h = 0; h < kHeader.size(); ++h) {
    const size_t bar = leef.find('|');
    if (bar == std::string_view::npos) {
      return Status::InvalidArgument(
          fmt::format("LEEF header: {} of its 5 '|'-separated fields (missing {})", h, kHeader[h]));
    }
    f[std::string(kHeader[h])] = std::string(leef.substr(0, bar));
    leef.remove_prefix(bar + 1);
  }
  char delim = '\t';
  if (f["leef.version"].starts_with("2")) {
    const size_t bar = leef.find('|');
    if (bar == std::string_view::npos) {
      return Status::InvalidArgument("LEEF 2.0 header: missing the delimiter field after the event id");
    }
    std::string_view d = leef.substr(0, bar);
    if (d.starts_with("0x") || d.starts_with("0X")) d.remove_prefix(1);
    if (d.size() == 3 && (d[0] == 'x' || d[0] == 'X') && std::isxdigit(static_cast<unsigned char>(d[1])) &&
        std::isxdigit(static_cast<unsigned char>(d[2]))) {
      delim = static_cast<char>(std::stoi(std::string(d.substr(1)), nullptr, 16));
    } else if (d.size() == 1) {
      delim = d[0];
    } else if (!d.empty()) {
      return Bad("leef.delimiter", "expected one character or xHH, got '" + std::string(d) + "'");
    }
    leef.remove_prefix(bar + 1);
  }
  while (!leef.empty()) {
    const size_t end = leef.find(delim);
    const std::string_view attr = leef.substr(0, end);
    leef.remove_prefix(end == std::string_view::npos ? leef.size() : end + 1);
    if (attr.find_first_not_of(' ') == std::string_view::npos) continue;
    const size_t eq = attr.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Status::InvalidArgument("LEEF attribute '" + std::string(attr.substr(0, 40)) +
                                     "' is not key=value");
    }
    const std::string key(attr.substr(0, eq));
    if (!f.try_emplace(key, std::string(attr.substr(eq + 1))).second) return Bad(key, "given twice");
  }
  Event e = Start(IngestionFormat::kLeef, now_ns);
  if (sys.time) e.event_time_ns = *sys.time;
  if (const std::string* v = Find(f, "devTime"); v != nullptr && !v->empty()) {
    auto t = DeviceTime(*v, now_ns);
    if (!t.ok()) return Bad("devTime", t.status().message());
    e.event_time_ns = *t;
  }
  const std::string id = *Find(f, "leef.event_id");
  e.type = Classify(FirstOf(f, {"cat"}) + " " + id, id);
  e.source.host = FirstOf(f, {"identHostName"}, sys.host.empty() ? FirstOf(f, {"src"}) : sys.host);
  HANSHIRO_RETURN_IF_ERROR(SetIp(f, {"src"}, &e));
  e.source.collector = *Find(f, "leef.vendor") + " " + *Find(f, "leef.product");
  return Finish(std::move(e), std::move(f), line);
}

// A CEF or LEEF line, bare or after a syslog header.
Result<Event> Wrapped(std::string_view line, std::string_view magic, int64_t now_ns) {
  Syslog sys;
  std::string_view body = line;
  if (!line.starts_with(magic)) {
    if (!LooksLikeSyslog(line)) {
      return Status::InvalidArgument(fmt::format("expected '{}' or a syslog header before it", magic));
    }
    HANSHIRO_ASSIGN_OR_RETURN(sys, ParseSyslog(line, now_ns));
    if (!sys.message.starts_with(magic)) {
      return Status::InvalidArgument(fmt::format("no '{}' after the syslog header", magic));
    }
    body = sys.message;
  }
  return magic == "CEF:" ? Cef(body, std::move(sys), line, now_ns) : Leef(body, std::move(sys), line, now_ns);
}

std::string Unescape(std::string_view s) {  // Zeek's \xHH
  std::string out, byte;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && HexDecode(s.substr(i + 2, 2), &byte)) {
      out += byte;
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

enum class JsonKind { kNative, kOcsf, kEcs, kZeek, kSuricata };

JsonKind Recognise(simdjson::dom::object obj) {
  auto has = [&](std::string_view k) { return obj.at_key(k).error() == simdjson::SUCCESS; };
  if (has("class_uid")) return JsonKind::kOcsf;
  if (has("@timestamp") || has("ecs") || has("ecs.version")) return JsonKind::kEcs;
  if (has("ts") && (has("uid") || has("id.orig_h") || has("id") || has("_path") || has("fuid"))) {
    return JsonKind::kZeek;
  }
  if (has("event_type") && (has("flow_id") || has("src_ip") || has("dest_ip") || has("in_iface") ||
                            has("pcap_cnt") || has("stats"))) {
    return JsonKind::kSuricata;
  }
  return JsonKind::kNative;
}

Result<Event> Json(std::string_view line, JsonKind kind, int64_t now_ns) {
  HANSHIRO_ASSIGN_OR_RETURN(simdjson::dom::object obj, ParseObject(line));
  if (kind == JsonKind::kNative) kind = Recognise(obj);
  if (kind == JsonKind::kNative) return ParseEvent(line, now_ns);
  HANSHIRO_ASSIGN_OR_RETURN(Fields f, JsonFields(obj));
  switch (kind) {
    case JsonKind::kOcsf: return Ocsf(std::move(f), line, now_ns);
    case JsonKind::kEcs: return Ecs(std::move(f), line, now_ns);
    case JsonKind::kZeek: return Zeek(std::move(f), "", line, now_ns);
    default: return Suricata(std::move(f), line, now_ns);
  }
}

}  // namespace

Result<LineFormat> ParseLineFormat(std::string_view name) {
  const std::string lower = Lower(name);
  for (size_t i = 0; i < kFormatNames.size(); ++i) {
    if (lower == kFormatNames[i]) return static_cast<LineFormat>(i);
  }
  std::string all;
  for (std::string_view n : kFormatNames) all += (all.empty() ? "" : ", ") + std::string(n);
  return Status::InvalidArgument("unknown format '" + std::string(name) + "' (expected one of " + all + ")");
}

std::string_view LineFormatName(LineFormat format) { return kFormatNames[static_cast<size_t>(format)]; }

Result<std::optional<Event>> LineDecoder::DecodeZeekDirective(std::string_view line) {
  if (line.starts_with("#separator ")) {
    const std::string sep = Unescape(line.substr(11));
    if (sep.size() != 1) return Bad("#separator", "expected one character such as \\x09");
    zeek_.separator = sep[0];
    return std::optional<Event>();
  }
  const std::vector<std::string_view> parts = Split(line, zeek_.separator);
  const std::string_view name = parts[0];
  auto value = [&] { return parts.size() > 1 ? Unescape(parts[1]) : std::string(); };
  if (name == "#set_separator") {
    zeek_.set_separator = value();
  } else if (name == "#empty_field") {
    zeek_.empty_field = value();
  } else if (name == "#unset_field") {
    zeek_.unset_field = value();
  } else if (name == "#path") {
    zeek_.path = value();
  } else if (name == "#fields") {
    zeek_.fields.assign(parts.begin() + 1, parts.end());
    if (zeek_.fields.empty()) return Bad("#fields", "names no field");
  }
  return std::optional<Event>();  // #types, #open, #close, comments
}

Result<Event> LineDecoder::DecodeZeekTsv(std::string_view line, int64_t now_ns) {
  if (zeek_.fields.empty()) return Status::InvalidArgument("Zeek TSV line before a #fields header");
  const std::vector<std::string_view> values = Split(line, zeek_.separator);
  if (values.size() != zeek_.fields.size()) {
    return Status::InvalidArgument(fmt::format("Zeek line has {} fields, its #fields header names {}",
                                               values.size(), zeek_.fields.size()));
  }
  Fields f;
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] == zeek_.unset_field) continue;
    f[zeek_.fields[i]] = values[i] == zeek_.empty_field ? std::string() : Unescape(values[i]);
  }
  return Zeek(std::move(f), zeek_.path, line, now_ns);
}

Result<std::optional<Event>> LineDecoder::Decode(std::string_view line, int64_t now_ns) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return std::optional<Event>();
  auto some = [](Result<Event> e) -> Result<std::optional<Event>> {
    if (!e.ok()) return e.status();
    return std::optional<Event>(std::move(e).value());
  };
  switch (format_) {
    case LineFormat::kNdjson: return some(ParseEvent(line, now_ns));
    case LineFormat::kOcsf: return some(Json(line, JsonKind::kOcsf, now_ns));
    case LineFormat::kEcs: return some(Json(line, JsonKind::kEcs, now_ns));
    case LineFormat::kSuricata: return some(Json(line, JsonKind::kSuricata, now_ns));
    case LineFormat::kZeek:
      if (line[0] == '#') return DecodeZeekDirective(line);
      if (line[0] == '{') return some(Json(line, JsonKind::kZeek, now_ns));
      return some(DecodeZeekTsv(line, now_ns));
    case LineFormat::kCef: return some(Wrapped(line, "CEF:", now_ns));
    case LineFormat::kLeef: return some(Wrapped(line, "LEEF:", now_ns));
    case LineFormat::kSyslog: {
      auto sys = ParseSyslog(line, now_ns);
      if (!sys.ok()) return sys.status();
      return some(SyslogEvent(std::move(sys).value(), line, now_ns));
    }
    case LineFormat::kAuto: break;
  }
  if (line[0] == '#') return DecodeZeekDirective(line);
  if (line[0] == '{') return some(Json(line, JsonKind::kNative, now_ns));
  if (!zeek_.fields.empty()) return some(DecodeZeekTsv(line, now_ns));
  if (line.starts_with("CEF:")) return some(Cef(line, {}, line, now_ns));
  if (line.starts_with("LEEF:")) return some(Leef(line, {}, line, now_ns));
  if (LooksLikeSyslog(line)) {
    auto sys = ParseSyslog(line, now_ns);
    if (!sys.ok()) return sys.status();
    const std::string_view message = sys->message;  // a view of the line
    if (message.starts_with("CEF:")) return some(Cef(message, std::move(sys).value(), line, now_ns));
    if (message.starts_with("LEEF:")) return some(Leef(message, std::move(sys).value(), line, now_ns));
    return some(SyslogEvent(std::move(sys).value(), line, now_ns));
  }
  return Status::InvalidArgument(
      "not a recognised format (a JSON object, CEF, LEEF, syslog, or Zeek TSV after its #fields "
      "header); name it with --format");
}

}  // namespace hanshiro::ingest
