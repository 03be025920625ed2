#include "server/routes.h"

#include <charconv>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <simdjson.h>

#include "base/blake3.h"
#include "base/clock.h"
#include "base/hex.h"
#include "base/json.h"
#include "engine/write_keeping_good.h"
#include "hanshiro/env.h"
#include "hanshiro/version.h"
#include "ingest/event_json.h"
#include "ingest/formats.h"
#include "server/wire.h"

namespace hanshiro::server {

namespace {

constexpr size_t kBulkBatch = 2000;

Response Json(int status, std::string body) { return {status, "application/json", std::move(body)}; }

Response Error(int status, std::string_view message, int64_t line = -1) {
  std::string body = "{\"error\":" + json::Quote(message);
  if (line >= 0) body += fmt::format(",\"line\":{}", line);
  return Json(status, body + "}");
}

// 404 for NotFound, 400 for bad input, 500 otherwise.
Response FromStatus(const Status& s) {
  if (s.IsNotFound()) return Error(404, s.message());
  if (s.IsInvalidArgument()) return Error(400, s.message());
  return Error(500, s.ToString());
}

int64_t Now() { return Clock::System()->NowUnixNanos(); }

std::map<std::string, std::string> QueryParams(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    const size_t amp = q.find('&');
    const std::string_view part = q.substr(0, amp);
    const size_t eq = part.find('=');
    out[UrlDecode(part.substr(0, eq))] = eq == std::string_view::npos ? "" : UrlDecode(part.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return out;
}

std::string IdsJson(const std::vector<EventId>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ",";
    json::AppendString(&out, ids[i].ToString());
  }
  return out + "]";
}

}  // namespace

std::string CheckpointJson(const CheckpointInfo& cp) {
  return fmt::format("{{\"tree_size\":{},\"root\":\"{}\",\"time\":{},\"checkpoint\":\"{}\"}}",
                     cp.tree_size, cp.root.ToHex(), json::Quote(ingest::FormatTime(cp.time_ns)),
                     HexEncode(cp.encoded));
}

std::string VerifyJson(const VerifyResult& v) {
  std::string out = fmt::format(
      "{{\"intact\":{},\"records\":{},\"tree_size\":{},\"root\":\"{}\",\"table_records\":{},\"removed_by_policy\":{},"
      "\"log_start\":{}",
      v.intact() ? "true" : "false", v.records, v.tree_size, v.root.ToHex(), v.table_records, v.removed_by_policy,
      v.log_start);
  if (v.torn_tail) out += ",\"torn_tail\":" + json::Quote(*v.torn_tail);
  if (!v.intact()) out += ",\"error\":" + json::Quote(v.error.ToString());
  return out + "}";
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    std::string byte;
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexDecode(s.substr(i + 1, 2), &byte)) {
      out += byte;
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Result<std::vector<Hash256>> LoadApiKeys(const std::string& path) {
  HANSHIRO_ASSIGN_OR_RETURN(std::string text, ReadFileToString(Env::Default(), path));
  std::vector<Hash256> keys;
  size_t line_no = 0;
  for (std::string_view rest = text; !rest.empty();) {
    const size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    if (line.size() < 16) {
      return Status::InvalidArgument(fmt::format("{}:{}: an API key needs at least 16 characters", path, line_no));
    }
    keys.push_back(blake3::Hash(line));
  }
  if (keys.empty()) return Status::InvalidArgument(path + ": no API keys in the file");
  return keys;
}

bool Router::Authorized(const Request& r) const {
  if (api_keys_.empty()) return true;
  const std::string_view path = std::string_view(r.target).substr(0, r.target.find('?'));
  return path == "/health" || KeyValid(r);
}

bool Router::KeyValid(const Request& r) const {
  constexpr std::string_view kBearer = "Bearer ";
  if (!std::string_view(r.authorization).starts_with(kBearer)) return false;
  const Hash256 h = blake3::Hash(std::string_view(r.authorization).substr(kBearer.size()));
  bool match = false;
  for (const Hash256& k : api_keys_) {
    uint8_t diff = 0;  // constant time in the key's bytes
    for (size_t i = 0; i < Hash256::kSize; ++i) diff |= static_cast<uint8_t>(k.bytes[i] ^ h.bytes[i]);
    match |= diff == 0;
  }
  return match;
}

Response Router::Handle(const Request& r) const {
  std::string_view target = r.target;
  std::string_view query;
  if (const size_t q = target.find('?'); q != std::string_view::npos) {
    query = target.substr(q + 1);
    target = target.substr(0, q);
  }
  const bool get = r.method == "GET", post = r.method == "POST";
  auto wrong_method = [&] { return Error(405, fmt::format("{} is not allowed on {}", r.method, target)); };
  auto tail = [&](std::string_view prefix) { return target.substr(prefix.size()); };

  if (target == "/health") {
    return get ? Json(200, fmt::format("{{\"status\":\"ok\",\"version\":\"{}\"}}", Version())) : wrong_method();
  }
  if (!Authorized(r)) {
    return Error(401, "this server needs an API key: Authorization: Bearer KEY");
  }
  const bool writes = post && (target == "/events" || target == "/events/_bulk" || target == "/code" ||
                               target.starts_with("/bin/"));
  if (writes && db_->WritesStalled()) {
    // Back-pressure: flushing is behind. Nothing of this request was taken.
    Response busy = Error(429, "writes are stalled while the store flushes; retry shortly");
    busy.retry_after_s = 1;
    return busy;
  }
  if (target == "/events") {
    if (post) return PostEvents(r);
    if (get) return ListEvents(query);
    return wrong_method();
  }
  if (target == "/events/_bulk") return post ? PostBulk(r, query) : wrong_method();
  if (target.starts_with("/events/")) return get ? GetEvent(tail("/events/")) : wrong_method();
  if (target == "/code") return post ? PostCode(r) : wrong_method();
  if (target.starts_with("/code/")) return get ? GetCode(tail("/code/")) : wrong_method();
  if (target == "/similar") return post ? PostSimilar(r) : wrong_method();
  if (target == "/correlate") return post ? PostCorrelate() : wrong_method();
  if (target.starts_with("/correlations/")) {
    return get ? GetCorrelations(tail("/correlations/")) : wrong_method();
  }
  if (target == "/verify") return get ? GetVerify() : wrong_method();
  if (target.starts_with("/proof/")) return get ? GetProof(tail("/proof/")) : wrong_method();
  if (target == "/checkpoint") return get ? GetCheckpoint() : wrong_method();
  if (target == "/bin/events" || target == "/bin/code") {
    return post ? PostBinary(r, target == "/bin/events" ? ValueKind::kLog : ValueKind::kCode) : wrong_method();
  }
  if (target.starts_with("/bin/events/")) return get ? GetBinaryEvent(tail("/bin/events/")) : wrong_method();
  if (target == "/metrics") {
    return get ? Response{200, "text/plain; version=0.0.4", db_->MetricsText()} : wrong_method();
  }
  return Error(404, fmt::format("no route {} {}", r.method, target));
}

Response Router::PostEvents(const Request& r) const {
  auto events = ingest::ParseEvents(r.body, Now());
  if (!events.ok()) return Error(400, events.status().message());
  auto ids = db_->WriteBatch(std::move(events).value());
  if (!ids.ok()) return FromStatus(ids.status());
  return Json(200, "{\"ids\":" + IdsJson(*ids) + "}");
}

// One result per line: {"line": N, "id": ...} or {"line": N, "error": ...}.
Response Router::PostBulk(const Request& r, std::string_view query) const {
  ingest::LineFormat format = ingest::LineFormat::kNdjson;
  for (const auto& [k, v] : QueryParams(query)) {
    if (k != "format") return Error(400, "unknown parameter '" + k + "' (format)");
    auto f = ingest::ParseLineFormat(v);
    if (!f.ok()) return Error(400, "format: " + f.status().message());
    format = *f;
  }
  ingest::LineDecoder decoder(format);
  std::string_view body = r.body;
  std::vector<Event> batch;
  std::vector<int64_t> batch_lines;
  std::vector<std::pair<int64_t, std::string>> results;  // (line, JSON object)
  uint64_t ok = 0, bad = 0;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status::OK();
    HANSHIRO_ASSIGN_OR_RETURN(std::vector<Result<EventId>> written,
                              engine::WriteKeepingGood(db_, std::move(batch)));
    for (size_t i = 0; i < written.size(); ++i) {
      if (written[i].ok()) {
        ++ok;
        results.emplace_back(batch_lines[i], fmt::format("{{\"line\":{},\"id\":\"{}\"}}", batch_lines[i],
                                                         written[i]->ToString()));
      } else {
        ++bad;
        results.emplace_back(batch_lines[i], fmt::format("{{\"line\":{},\"error\":{}}}", batch_lines[i],
                                                         json::Quote(written[i].status().message())));
      }
    }
    batch.clear();
    batch_lines.clear();
    return Status::OK();
  };
  int64_t line = 0;
  while (!body.empty()) {
    ++line;
    const size_t nl = body.find('\n');
    std::string_view text = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    auto e = decoder.Decode(text, Now());
    if (!e.ok()) {
      ++bad;
      results.emplace_back(line, fmt::format("{{\"line\":{},\"error\":{}}}", line,
                                             json::Quote(e.status().message())));
      continue;
    }
    if (!e->has_value()) continue;  // blank, a header or a comment
    batch.push_back(std::move(**e));
    batch_lines.push_back(line);
    if (batch.size() == kBulkBatch) {
      if (Status s = flush(); !s.ok()) return FromStatus(s);
    }
  }
  if (Status s = flush(); !s.ok()) return FromStatus(s);
  std::sort(results.begin(), results.end());
  std::string out = fmt::format("{{\"ingested\":{},\"errors\":{},\"items\":[", ok, bad);
  for (size_t i = 0; i < results.size(); ++i) {
    if (i > 0) out += ",";
    out += results[i].second;
  }
  return Json(200, out + "]}");
}

Response Router::GetEvent(std::string_view id_text) const {
  auto id = EventId::Parse(UrlDecode(id_text));  // also {hi}/{lo}
  if (!id.ok()) return Error(400, id.status().message());
  auto e = db_->Get(*id);
  if (!e.ok()) return FromStatus(e.status());
  std::string out;
  ingest::AppendEventJson(*e, &out);
  return Json(200, out);
}

Response Router::ListEvents(std::string_view query) const {
  ScanQuery q;
  for (const auto& [k, v] : QueryParams(query)) {
    if (k == "from" || k == "to") {
      auto t = ingest::ParseTime(v);
      if (!t.ok()) return Error(400, k + ": " + t.status().message());
      (k == "from" ? q.from_ns : q.to_ns) = *t;
    } else if (k == "type") {
      q.type = EventType::FromName(v);
    } else if (k == "host") {
      q.host = v;
    } else if (k == "limit") {
      size_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || p != v.data() + v.size()) return Error(400, "limit: not a number");
      q.limit = n;
    } else if (k == "cursor") {
      q.cursor = v;
    } else if (k.starts_with("meta.")) {
      q.metadata.emplace_back(k.substr(5), v);
    } else {
      return Error(400, "unknown parameter '" + k + "' (from, to, type, host, limit, cursor, meta.KEY)");
    }
  }
  auto page = db_->Scan(q);
  if (!page.ok()) return FromStatus(page.status());
  std::string out = "{\"events\":[";
  for (size_t i = 0; i < page->values.size(); ++i) {
    if (i > 0) out += ",";
    ingest::AppendEventJson(std::get<Event>(page->values[i]), &out);
  }
  out += "],\"next_cursor\":";
  out += page->next_cursor.empty() ? "null" : json::Quote(page->next_cursor);
  return Json(200, out + "}");
}

Response Router::PostCode(const Request& r) const {
  auto a = ingest::ParseCodeArtifact(r.body, Now());
  if (!a.ok()) return Error(400, a.status().message());
  auto id = db_->WriteCode(std::move(a).value());
  if (!id.ok()) return FromStatus(id.status());
  return Json(200, fmt::format("{{\"id\":\"{}\"}}", id->ToString()));
}

Response Router::GetCode(std::string_view id_text) const {
  auto id = EventId::Parse(UrlDecode(id_text));
  if (!id.ok()) return Error(400, id.status().message());
  auto a = db_->GetCode(*id);
  if (!a.ok()) return FromStatus(a.status());
  std::string out;
  ingest::AppendCodeJson(*a, &out);
  return Json(200, out);
}

Response Router::PostSimilar(const Request& r) const {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  const simdjson::padded_string padded(r.body);
  if (parser.parse(padded).get(obj) != simdjson::SUCCESS) return Error(400, "expected a JSON object");
  std::vector<float> query;
  uint64_t k = 10;
  SimilarFilter filter;
  for (auto [key, value] : obj) {
    if (key == "vector") {
      simdjson::dom::array arr;
      if (value.get(arr) != simdjson::SUCCESS) return Error(400, "field 'vector': expected an array of numbers");
      for (simdjson::dom::element x : arr) {
        double d;
        if (x.get(d) != simdjson::SUCCESS) return Error(400, "field 'vector': expected numbers");
        if (!std::isfinite(d) || std::fabs(d) > 3.0e38) {
          return Error(400, "field 'vector': elements must be finite floats");
        }
        query.push_back(static_cast<float>(d));
      }
    } else if (key == "like") {
      std::string_view s;
      if (value.get(s) != simdjson::SUCCESS) return Error(400, "field 'like': expected an id");
      auto id = EventId::Parse(s);
      if (!id.ok()) return Error(400, "field 'like': " + id.status().message());
      auto e = db_->Get(*id);
      if (!e.ok()) return FromStatus(e.status());
      if (e->vector.empty()) return Error(400, "field 'like': that event has no vector");
      query = e->vector;
    } else if (key == "top_k") {
      if (value.get(k) != simdjson::SUCCESS) return Error(400, "field 'top_k': expected a positive integer");
    } else if (key == "filter") {
      simdjson::dom::object f;
      if (value.get(f) != simdjson::SUCCESS) return Error(400, "field 'filter': expected an object");
      for (auto [fk, fv] : f) {
        std::string_view s;
        if (fv.get(s) != simdjson::SUCCESS) return Error(400, fmt::format("field 'filter.{}': expected a string", fk));
        if (fk == "kind") {
          if (s == "log") filter.kind = ValueKind::kLog;
          else if (s == "code") filter.kind = ValueKind::kCode;
          else return Error(400, "field 'filter.kind': expected log or code");
        } else if (fk == "type") {
          filter.type = EventType::FromName(s);
        } else if (fk == "host") {
          filter.host = std::string(s);
        } else if (fk == "from" || fk == "to") {
          auto t = ingest::ParseTime(s);
          if (!t.ok()) return Error(400, fmt::format("field 'filter.{}': {}", fk, t.status().message()));
          (fk == "from" ? filter.from_ns : filter.to_ns) = *t;
        } else {
          return Error(400, fmt::format("field 'filter.{}': unknown (kind, type, host, from, to)", fk));
        }
      }
    } else {
      return Error(400, fmt::format("field '{}': unknown (vector, like, top_k, filter)", key));
    }
  }
  if (query.empty()) return Error(400, "give a 'vector' or 'like'");
  auto hits = db_->FindSimilar(query, k, filter);
  if (!hits.ok()) return FromStatus(hits.status());
  std::string out = "{\"hits\":[";
  for (size_t i = 0; i < hits->size(); ++i) {
    const SimilarHit& h = (*hits)[i];
    if (i > 0) out += ",";
    auto num = [](float f) { return std::isfinite(f) ? fmt::format("{}", f) : std::string("null"); };
    out += fmt::format("{{\"id\":\"{}\",\"kind\":\"{}\",\"score\":{},\"distance\":{}}}", h.id.ToString(),
                       ValueKindName(h.kind), num(h.score), num(h.distance));
  }
  return Json(200, out + "]}");
}

Response Router::PostBinary(const Request& r, ValueKind kind) const {
  auto values = wire::DecodeRequest(r.body, kind);
  if (!values.ok()) return Error(400, values.status().message());
  std::vector<EventId> ids;
  if (kind == ValueKind::kLog) {
    std::vector<Event> events;
    for (Value& v : *values) events.push_back(std::move(std::get<Event>(v)));
    auto written = db_->WriteBatch(std::move(events));
    if (!written.ok()) return FromStatus(written.status());
    ids = std::move(written).value();
  } else {
    std::vector<CodeArtifact> artifacts;
    for (Value& v : *values) artifacts.push_back(std::move(std::get<CodeArtifact>(v)));
    auto written = db_->WriteCodeBatch(std::move(artifacts));
    if (!written.ok()) return FromStatus(written.status());
    ids = std::move(written).value();
  }
  return {200, "application/octet-stream", wire::EncodeResponse(ids)};
}

Response Router::GetBinaryEvent(std::string_view id_text) const {
  auto id = EventId::Parse(UrlDecode(id_text));
  if (!id.ok()) return Error(400, id.status().message());
  auto record = db_->GetRecord(*id);
  if (!record.ok()) return FromStatus(record.status());
  if (record->size() < 2 || static_cast<uint8_t>((*record)[1]) != static_cast<uint8_t>(ValueKind::kLog)) {
    return Error(404, id->ToString() + " is not an event");
  }
  return {200, "application/octet-stream", std::move(record).value()};
}

Response Router::PostCorrelate() const {
  auto r = db_->Correlate();
  if (!r.ok()) return FromStatus(r.status());
  return Json(200, fmt::format("{{\"logs_examined\":{},\"artifacts_examined\":{},\"links_added\":{},\"cursor\":{}}}",
                               r->logs_examined, r->artifacts_examined, r->links_added, r->cursor));
}

Response Router::GetCorrelations(std::string_view id_text) const {
  auto id = EventId::Parse(UrlDecode(id_text));
  if (!id.ok()) return Error(400, id.status().message());
  auto links = db_->FindCorrelated(*id);
  if (!links.ok()) return FromStatus(links.status());
  std::string out = "{\"correlations\":[";
  for (size_t i = 0; i < links->size(); ++i) {
    const Correlation& c = (*links)[i];
    if (i > 0) out += ",";
    out += fmt::format("{{\"log_id\":\"{}\",\"code_id\":\"{}\",\"reason\":\"{}\",\"score\":{}}}",
                       c.log_id.ToString(), c.code_id.ToString(), CorrelationReasonName(c.reason), c.score);
  }
  return Json(200, out + "]}");
}

Response Router::GetVerify() const { return Json(200, VerifyJson(db_->Verify())); }

Response Router::GetProof(std::string_view id_text) const {
  auto id = EventId::Parse(UrlDecode(id_text));
  if (!id.ok()) return Error(400, id.status().message());
  auto p = db_->Proof(*id);
  if (!p.ok()) return FromStatus(p.status());
  std::string path = "[";
  for (size_t i = 0; i < p->path.size(); ++i) path += (i ? ",\"" : "\"") + p->path[i].ToHex() + "\"";
  path += "]";
  return Json(200, fmt::format(
                       "{{\"id\":\"{}\",\"seq\":{},\"kind\":\"{}\",\"record\":\"{}\",\"path\":{},\"checkpoint\":{},"
                       "\"public_key\":\"{}\",\"bundle\":\"{}\"}}",
                       p->id.ToString(), p->seq, ValueKindName(p->kind), HexEncode(p->record), path,
                       CheckpointJson(p->checkpoint), p->public_key_hex, HexEncode(p->encoded)));
}

Response Router::GetCheckpoint() const {
  auto cp = db_->Checkpoint();
  if (!cp.ok()) return FromStatus(cp.status());
  return Json(200, CheckpointJson(*cp));
}

}  // namespace hanshiro::server
