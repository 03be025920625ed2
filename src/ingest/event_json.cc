#include "ingest/event_json.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>

#include <fmt/format.h>
#include <simdjson.h>

#include "base/hex.h"
#include "base/json.h"
#include "base/utf8.h"

namespace hanshiro::ingest {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

Status Bad(std::string_view field, std::string_view why) {
  return Status::InvalidArgument(fmt::format("field '{}': {}", field, why));
}

Result<std::string_view> String(element e, std::string_view field) {
  std::string_view s;
  if (e.get(s) != simdjson::SUCCESS) return Bad(field, "expected a string");
  return s;
}

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(std::string_view s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

Result<int64_t> TimeField(element e, std::string_view field, int64_t unit_ns) {
  int64_t i;
  if (e.get(i) == simdjson::SUCCESS) {
    if (i < 0) return Bad(field, "is negative");
    if (i > INT64_MAX / unit_ns) return Bad(field, "is too far in the future");
    return i * unit_ns;
  }
  std::string_view s;
  if (unit_ns == 1 || e.get(s) != simdjson::SUCCESS) {
    return Bad(field, unit_ns == 1 ? "expected an integer of nanoseconds"
                                   : "expected RFC 3339 text or an integer of Unix milliseconds");
  }
  auto t = ParseTime(s);
  if (!t.ok()) return Bad(field, t.status().message());
  return *t;
}

Status SetSource(std::string_view key, element v, Event* e, std::string_view field) {
  HANSHIRO_ASSIGN_OR_RETURN(std::string_view s, String(v, field));
  if (key == "host") {
    e->source.host = std::string(s);
  } else if (key == "collector") {
    e->source.collector = std::string(s);
  } else if (key == "ip") {
    auto ip = IpAddress::Parse(s);
    if (!ip.ok()) return Bad(field, ip.status().message());
    e->source.ip = *ip;
  } else if (key == "format") {
    auto f = ParseIngestionFormat(s);
    if (!f.ok()) return Bad(field, f.status().message());
    e->source.format = *f;
  }
  return Status::OK();
}

Status StringList(element value, std::string_view field, std::vector<std::string>* out) {
  simdjson::dom::array arr;
  if (value.get(arr) != simdjson::SUCCESS) return Bad(field, "expected an array of strings");
  size_t i = 0;
  for (element x : arr) {
    HANSHIRO_ASSIGN_OR_RETURN(std::string_view s, String(x, fmt::format("{}[{}]", field, i)));
    out->emplace_back(s);
    ++i;
  }
  return Status::OK();
}

Status FloatList(element value, std::string_view field, std::vector<float>* out) {
  simdjson::dom::array arr;
  if (value.get(arr) != simdjson::SUCCESS) return Bad(field, "expected an array of numbers");
  size_t i = 0;
  for (element x : arr) {
    double d;
    if (x.get(d) != simdjson::SUCCESS) return Bad(fmt::format("{}[{}]", field, i), "expected a number");
    const auto f = static_cast<float>(d);
    if (!std::isfinite(f)) return Bad(fmt::format("{}[{}]", field, i), "not a finite float");
    out->push_back(f);
    ++i;
  }
  return Status::OK();
}

Status ParseObject(simdjson::dom::object obj, int64_t now_ns, Event* e) {
  std::set<std::string> seen;
  bool have_text = false, have_ns = false;
  int64_t time_text = 0;
  auto once = [&](std::string_view canonical, std::string_view field) -> Status {
    if (!seen.insert(std::string(canonical)).second) {
      return Bad(field, "given twice (flat and nested shapes name the same field)");
    }
    return Status::OK();
  };
  for (auto [key, value] : obj) {
    if (key == "id") {
      HANSHIRO_RETURN_IF_ERROR(once("id", key));
      HANSHIRO_ASSIGN_OR_RETURN(std::string_view s, String(value, key));
      auto id = EventId::Parse(s);
      if (!id.ok()) return Bad(key, id.status().message());
      e->id = *id;
    } else if (key == "timestamp" || key == "event_time") {
      HANSHIRO_RETURN_IF_ERROR(once("event_time", key));
      HANSHIRO_ASSIGN_OR_RETURN(time_text, TimeField(value, key, 1'000'000));
      have_text = true;
    } else if (key == "event_time_ns") {
      HANSHIRO_RETURN_IF_ERROR(once("event_time_ns", key));
      HANSHIRO_ASSIGN_OR_RETURN(e->event_time_ns, TimeField(value, key, 1));
      have_ns = true;
    } else if (key == "ingest_time_ns") {
      HANSHIRO_RETURN_IF_ERROR(once("ingest_time", key));
      HANSHIRO_ASSIGN_OR_RETURN(e->ingest_time_ns, TimeField(value, key, 1));
    } else if (key == "event_type") {
      HANSHIRO_RETURN_IF_ERROR(once("event_type", key));
      HANSHIRO_ASSIGN_OR_RETURN(std::string_view s, String(value, key));
      if (s.empty()) return Bad(key, "is empty");
      e->type = EventType::FromName(s);
    } else if (key == "source_host" || key == "source_ip" || key == "collector" || key == "format") {
      const std::string_view sub = key == "source_host" ? "host" : key == "source_ip" ? "ip" : key;
      HANSHIRO_RETURN_IF_ERROR(once(std::string("source.") + std::string(sub), key));
      HANSHIRO_RETURN_IF_ERROR(SetSource(sub, value, e, key));
    } else if (key == "source") {
      simdjson::dom::object src;
      if (value.get(src) != simdjson::SUCCESS) return Bad(key, "expected an object");
      for (auto [k, v] : src) {
        const std::string field = "source." + std::string(k);
        if (k != "host" && k != "ip" && k != "collector" && k != "format") {
          return Bad(field, "unknown field (expected host, ip, collector or format)");
        }
        HANSHIRO_RETURN_IF_ERROR(once(field, field));
        HANSHIRO_RETURN_IF_ERROR(SetSource(k, v, e, field));
      }
    } else if (key == "raw_data") {
      HANSHIRO_RETURN_IF_ERROR(once("raw_data", key));
      HANSHIRO_ASSIGN_OR_RETURN(std::string_view s, String(value, key));
      e->raw_data = std::string(s);
    } else if (key == "raw_data_hex") {
      HANSHIRO_RETURN_IF_ERROR(once("raw_data", key));
      HANSHIRO_ASSIGN_OR_RETURN(std::string_view s, String(value, key));
      if (!HexDecode(s, &e->raw_data)) return Bad(key, "not an even number of hex digits");
    } else if (key == "metadata") {
      HANSHIRO_RETURN_IF_ERROR(once("metadata", key));
      simdjson::dom::object md;
      if (value.get(md) != simdjson::SUCCESS) return Bad(key, "expected an object of strings");
      for (auto [k, v] : md) {
        const std::string field = "metadata." + std::string(k);
        if (k.empty()) return Bad(field, "empty key");
        HANSHIRO_ASSIGN_OR_RETURN(std::string_view s, String(v, field));
        e->metadata[std::string(k)] = std::string(s);
      }
    } else if (key == "vector") {
      HANSHIRO_RETURN_IF_ERROR(once("vector", key));
      HANSHIRO_RETURN_IF_ERROR(FloatList(value, key, &e->vector));
    } else {
      return Bad(key, "unknown field");
    }
  }
  // Output carries both forms; text (ms or a fraction) must agree with ns.
  if (have_text && have_ns && time_text / 1'000'000 != e->event_time_ns / 1'000'000) {
    return Bad("event_time", "differs from event_time_ns");
  }
  if (!have_ns) e->event_time_ns = have_text ? time_text : now_ns;
  return Status::OK();
}

// The document lives in the parser until its next parse.
Result<element> ParseDocument(simdjson::dom::parser* parser, std::string_view json) {
  element doc;
  if (auto err = parser->parse(json.data(), json.size(), /*realloc_if_needed=*/true).get(doc);
      err != simdjson::SUCCESS) {
    return Status::InvalidArgument(std::string("malformed JSON: ") + simdjson::error_message(err));
  }
  return doc;
}

// One parser per thread, reused: a parser's buffers are costly to make.
simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

Status ParseCodeObject(simdjson::dom::object obj, int64_t now_ns, CodeArtifact* a) {
  std::set<std::string> seen;
  bool have_text = false, have_ns = false;
  int64_t text_ns = 0;
  for (auto [key, value] : obj) {
    if (!seen.insert(std::string(key)).second) return Bad(key, "given twice");
    if (key == "id") {
      HANSHIRO_ASSIGN_OR_RETURN(std::string_view s, String(value, key));
      auto id = EventId::Parse(s);
      if (!id.ok()) return Bad(key, id.status().message());
      a->id = *id;
    } else if (key == "first_seen") {
      HANSHIRO_ASSIGN_OR_RETURN(text_ns, TimeField(value, key, 1'000'000));
      have_text = true;
    } else if (key == "first_seen_ns") {
      HANSHIRO_ASSIGN_OR_RETURN(a->first_seen_ns, TimeField(value, key, 1));
      have_ns = true;
    } else if (key == "sha256") {
      HANSHIRO_ASSIGN_OR_RETURN(std::string_view s, String(value, key));
      std::string raw;
      if (s.size() != 64 || !HexDecode(s, &raw)) return Bad(key, "expected 64 hex digits");
      std::copy(raw.begin(), raw.end(), a->sha256.begin());
    } else if (key == "file_type") {
      HANSHIRO_ASSIGN_OR_RETURN(std::string_view s, String(value, key));
      auto t = ParseFileType(s);
      if (!t.ok()) return Bad(key, t.status().message());
      a->file_type = *t;
    } else if (key == "size_bytes") {
      uint64_t n;
      if (value.get(n) != simdjson::SUCCESS) return Bad(key, "expected a non-negative integer");
      a->size_bytes = n;
    } else if (key == "capabilities") {
      std::vector<std::string> names;
      HANSHIRO_RETURN_IF_ERROR(StringList(value, key, &names));
      for (const std::string& n : names) {
        auto c = ParseCapability(n);
        if (!c.ok()) return Bad(key, c.status().message());
        a->capabilities.Set(*c);
      }
    } else if (key == "file_names") {
      HANSHIRO_RETURN_IF_ERROR(StringList(value, key, &a->file_names));
    } else if (key == "imports") {
      HANSHIRO_RETURN_IF_ERROR(StringList(value, key, &a->imports));
    } else if (key == "strings") {
      HANSHIRO_RETURN_IF_ERROR(StringList(value, key, &a->strings));
    } else if (key == "related_log_ids") {
      std::vector<std::string> ids;
      HANSHIRO_RETURN_IF_ERROR(StringList(value, key, &ids));
      for (size_t i = 0; i < ids.size(); ++i) {
        auto id = EventId::Parse(ids[i]);
        if (!id.ok()) return Bad(fmt::format("related_log_ids[{}]", i), id.status().message());
        a->related_log_ids.push_back(*id);
      }
    } else if (key == "vector") {
      HANSHIRO_RETURN_IF_ERROR(FloatList(value, key, &a->vector));
    } else {
      return Bad(key, "unknown field");
    }
  }
  if (have_text && have_ns && text_ns / 1'000'000 != a->first_seen_ns / 1'000'000) {
    return Bad("first_seen", "differs from first_seen_ns");
  }
  if (!have_ns) a->first_seen_ns = have_text ? text_ns : now_ns;
  return Status::OK();
}

void AppendStrings(std::string* out, const std::vector<std::string>& v) {
  *out += "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) *out += ",";
    json::AppendString(out, v[i]);
  }
  *out += "]";
}

}  // namespace

Result<CodeArtifact> ParseCodeArtifact(std::string_view json, int64_t now_ns) {
  HANSHIRO_ASSIGN_OR_RETURN(element doc, ParseDocument(&ThreadParser(), json));
  simdjson::dom::object obj;
  if (doc.get(obj) != simdjson::SUCCESS) return Status::InvalidArgument("expected a JSON object");
  CodeArtifact a;
  HANSHIRO_RETURN_IF_ERROR(ParseCodeObject(obj, now_ns, &a));
  return a;
}

void AppendCodeJson(const CodeArtifact& a, std::string* out) {
  *out += "{\"id\":";
  json::AppendString(out, a.id.ToString());
  *out += ",\"first_seen\":";
  json::AppendString(out, FormatTime(a.first_seen_ns));
  *out += fmt::format(",\"first_seen_ns\":{},\"sha256\":\"{}\",\"file_type\":", a.first_seen_ns,
                      HexEncode(std::string_view(reinterpret_cast<const char*>(a.sha256.data()), 32)));
  json::AppendString(out, FileTypeName(a.file_type));
  *out += fmt::format(",\"size_bytes\":{},\"capabilities\":", a.size_bytes);
  std::vector<std::string> caps;
  for (std::string_view n : a.capabilities.Names()) caps.emplace_back(n);
  AppendStrings(out, caps);
  *out += ",\"file_names\":";
  AppendStrings(out, a.file_names);
  *out += ",\"imports\":";
  AppendStrings(out, a.imports);
  *out += ",\"strings\":";
  AppendStrings(out, a.strings);
  std::vector<std::string> related;
  for (const EventId& id : a.related_log_ids) related.push_back(id.ToString());
  *out += ",\"related_log_ids\":";
  AppendStrings(out, related);
  if (!a.vector.empty()) {
    *out += ",\"vector\":[";
    for (size_t i = 0; i < a.vector.size(); ++i) {
      if (i > 0) *out += ",";
      *out += fmt::format("{}", a.vector[i]);
    }
    *out += "]";
  }
  *out += "}";
}

Result<Event> ParseEvent(std::string_view json, int64_t now_ns) {
  HANSHIRO_ASSIGN_OR_RETURN(element doc, ParseDocument(&ThreadParser(), json));
  simdjson::dom::object obj;
  if (doc.get(obj) != simdjson::SUCCESS) return Status::InvalidArgument("expected a JSON object");
  Event e;
  HANSHIRO_RETURN_IF_ERROR(ParseObject(obj, now_ns, &e));
  return e;
}

Result<std::vector<Event>> ParseEvents(std::string_view json, int64_t now_ns) {
  HANSHIRO_ASSIGN_OR_RETURN(element doc, ParseDocument(&ThreadParser(), json));
  std::vector<Event> out;
  simdjson::dom::object obj;
  if (doc.get(obj) == simdjson::SUCCESS) {
    out.emplace_back();
    HANSHIRO_RETURN_IF_ERROR(ParseObject(obj, now_ns, &out.back()));
    return out;
  }
  simdjson::dom::array arr;
  if (doc.get(arr) != simdjson::SUCCESS) {
    return Status::InvalidArgument("expected an event object or an array of them");
  }
  size_t i = 0;
  for (element x : arr) {
    if (x.get(obj) != simdjson::SUCCESS) {
      return Status::InvalidArgument(fmt::format("[{}]: expected an event object", i));
    }
    out.emplace_back();
    Status s = ParseObject(obj, now_ns, &out.back());
    if (!s.ok()) return s.WithContext(fmt::format("[{}]", i));
    ++i;
  }
  return out;
}

Result<int64_t> ParseTime(std::string_view s) {
  if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (s.size() > 13) return Status::InvalidArgument("Unix milliseconds out of range (13 digits at most)");
    return static_cast<int64_t>(std::stoll(std::string(s))) * 1'000'000;
  }
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, &hour) || s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' ||
      !Digits(s, 17, 2, &second)) {
    return Status::InvalidArgument(
        "not RFC 3339 (2023-11-14T22:13:20Z) and not Unix milliseconds: '" + std::string(s) + "'");
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] ||
      (month == 2 && day == 29 && !leap) || hour > 23 || minute > 59 || second > 60) {
    return Status::InvalidArgument("date or time out of range: '" + std::string(s) + "'");
  }
  size_t at = 19;
  int64_t frac_ns = 0;
  if (at < s.size() && s[at] == '.') {
    ++at;
    int64_t scale = 100'000'000;
    const size_t start = at;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
      frac_ns += (s[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == start || at - start > 9) {
      return Status::InvalidArgument("fraction of a second needs 1 to 9 digits");
    }
  }
  int64_t offset_s = 0;
  if (at < s.size() && (s[at] == 'Z' || s[at] == 'z') && at + 1 == s.size()) {
  } else if (at + 6 == s.size() && (s[at] == '+' || s[at] == '-') && s[at + 3] == ':') {
    int oh, om;
    if (!Digits(s, at + 1, 2, &oh) || !Digits(s, at + 4, 2, &om) || oh > 23 || om > 59) {
      return Status::InvalidArgument("bad UTC offset in '" + std::string(s) + "'");
    }
    offset_s = (s[at] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return Status::InvalidArgument("time needs Z or an offset like +02:00: '" + std::string(s) + "'");
  }
  const int64_t secs = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) *
                           86400 + hour * 3600 + minute * 60 + std::min(second, 59) - offset_s;
  if (secs < 0) return Status::InvalidArgument("time before 1970: '" + std::string(s) + "'");
  if (secs > INT64_MAX / 1'000'000'000 - 1) return Status::InvalidArgument("time out of range");
  return secs * 1'000'000'000 + frac_ns;
}

std::string FormatTime(int64_t ns) {
  const int64_t secs = ns / 1'000'000'000;
  const int64_t frac = ns % 1'000'000'000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:09d}Z", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

void AppendEventJson(const Event& e, std::string* out) {
  *out += "{\"id\":";
  json::AppendString(out, e.id.ToString());
  *out += ",\"event_time\":";
  json::AppendString(out, FormatTime(e.event_time_ns));
  *out += fmt::format(",\"event_time_ns\":{},\"ingest_time_ns\":{},\"event_type\":", e.event_time_ns,
                      e.ingest_time_ns);
  json::AppendString(out, e.type.name());
  *out += ",\"source\":{\"host\":";
  json::AppendString(out, e.source.host);
  if (e.source.ip) {
    *out += ",\"ip\":";
    json::AppendString(out, e.source.ip->ToString());
  }
  *out += ",\"collector\":";
  json::AppendString(out, e.source.collector);
  *out += ",\"format\":";
  json::AppendString(out, IngestionFormatName(e.source.format));
  *out += "}";
  if (utf8::IsValid(e.raw_data)) {
    *out += ",\"raw_data\":";
    json::AppendString(out, e.raw_data);
  } else {
    // Not text: hex keeps every byte (JSON strings cannot).
    *out += ",\"raw_data_hex\":\"";
    static constexpr char kHex[] = "0123456789abcdef";
    for (const char c : e.raw_data) {
      *out += kHex[static_cast<uint8_t>(c) >> 4];
      *out += kHex[static_cast<uint8_t>(c) & 15];
    }
    *out += "\"";
  }
  *out += ",\"metadata\":{";
  bool first = true;
  for (const auto& [k, v] : e.metadata) {
    if (!first) *out += ",";
    first = false;
    json::AppendString(out, k);
    *out += ":";
    json::AppendString(out, v);
  }
  *out += "}";
  if (!e.vector.empty()) {
    *out += ",\"vector\":[";
    for (size_t i = 0; i < e.vector.size(); ++i) {
      if (i > 0) *out += ",";
      *out += fmt::format("{}", e.vector[i]);
    }
    *out += "]";
  }
  *out += "}";
}

}  // namespace hanshiro::ingest
