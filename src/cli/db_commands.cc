#include "cli/db_commands.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "base/clock.h"
#include "base/hex.h"
#include "base/json.h"
#include "cli/progress.h"
#include "engine/write_keeping_good.h"
#include "hanshiro/db.h"
#include "ingest/event_json.h"
#include "ingest/formats.h"
#include "server/routes.h"

namespace hanshiro::cli {

namespace {

constexpr size_t kIngestBatch = 2000;

std::unique_ptr<DB> OpenDb(const DbArgs& args) {
  auto options = Options::FromPresetName(args.preset);
  if (!options.ok()) {
    std::fprintf(stderr, "hanshiro: %s\n", options.status().message().c_str());
    return nullptr;
  }
  auto db = DB::Open(*options, args.data_dir);
  if (!db.ok()) {
    std::fprintf(stderr, "hanshiro: cannot open %s: %s\n", args.data_dir.c_str(),
                 db.status().ToString().c_str());
    return nullptr;
  }
  return std::move(db).value();
}

Result<EventId> ParseId(const std::string& text) {
  auto id = EventId::Parse(text);
  if (!id.ok()) return Status::InvalidArgument("'" + text + "' is not an event id: " + id.status().message());
  return id;
}

std::string Hex(std::string_view bytes) { return HexEncode(bytes); }

}  // namespace

int RunIngest(const DbArgs& args, const std::vector<std::string>& files, const std::string& format_name) {
  auto format = ingest::ParseLineFormat(format_name);
  if (!format.ok()) {
    std::fprintf(stderr, "hanshiro ingest: --format: %s\n", format.status().message().c_str());
    return 2;
  }
  auto db = OpenDb(args);
  if (!db) return 1;
  const std::vector<std::string> inputs = files.empty() ? std::vector<std::string>{"-"} : files;
  auto label = [&](size_t input) { return inputs[input] == "-" ? std::string("stdin") : inputs[input]; };
  uint64_t bytes_total = 0, bytes_read = 0;  // of the files; 0: unknown (stdin)
  for (const std::string& name : inputs) {
    auto size = name == "-" ? Result<uint64_t>(Status::NotFound("stdin")) : Env::Default()->GetFileSize(name);
    if (!size.ok()) {
      bytes_total = 0;
      break;
    }
    bytes_total += *size;
  }
  Progress progress;
  uint64_t written = 0, bad = 0;
  std::vector<Event> batch;
  std::vector<std::pair<size_t, uint64_t>> batch_places;  // (input, line) of each event
  auto report = [&](size_t input, uint64_t line, const std::string& why) {
    ++bad;
    std::fprintf(stderr, "%s:%llu: %s\n", label(input).c_str(), static_cast<unsigned long long>(line), why.c_str());
  };
  auto flush = [&]() -> bool {
    if (batch.empty()) return true;
    auto results = engine::WriteKeepingGood(db.get(), std::move(batch));
    if (!results.ok()) {
      progress.End();
      std::fprintf(stderr, "hanshiro ingest: write failed: %s\n", results.status().ToString().c_str());
      return false;
    }
    for (size_t i = 0; i < results->size(); ++i) {
      if ((*results)[i].ok()) {
        ++written;
      } else {
        report(batch_places[i].first, batch_places[i].second, (*results)[i].status().message());
      }
    }
    batch.clear();
    batch_places.clear();
    progress.Update("ingest", bytes_read, bytes_total,
                    fmt::format("{} events, {} bad lines", Progress::Count(written), Progress::Count(bad)));
    return true;
  };
  for (size_t input = 0; input < inputs.size(); ++input) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (inputs[input] != "-") {
      file.open(inputs[input]);
      if (!file) {
        (void)flush();  // what was read before is kept, and reported
        progress.End();
        std::fprintf(stderr, "hanshiro ingest: cannot read %s\n", inputs[input].c_str());
        std::printf("ingested %llu events before the error\n", static_cast<unsigned long long>(written));
        return 1;
      }
      in = &file;
    }
    ingest::LineDecoder decoder(*format);  // one per input: Zeek headers are per file
    std::string line;
    for (uint64_t n = 1; std::getline(*in, line); ++n) {
      bytes_read += line.size() + 1;
      auto e = decoder.Decode(line, Clock::System()->NowUnixNanos());
      if (!e.ok()) {
        report(input, n, e.status().message());
        continue;
      }
      if (!e->has_value()) continue;  // blank, a header or a comment
      batch.push_back(std::move(**e));
      batch_places.emplace_back(input, n);
      if (batch.size() == kIngestBatch && !flush()) return 1;
    }
  }
  if (!flush()) return 1;
  progress.End();
  if (args.json) {
    std::printf("{\"ingested\":%llu,\"bad_lines\":%llu}\n", static_cast<unsigned long long>(written),
                static_cast<unsigned long long>(bad));
  } else {
    std::printf("ingested %llu events, %llu bad lines\n", static_cast<unsigned long long>(written),
                static_cast<unsigned long long>(bad));
  }
  return bad == 0 ? 0 : 1;
}

int RunGet(const DbArgs& args, const std::string& id_text) {
  auto id = ParseId(id_text);
  if (!id.ok()) {
    std::fprintf(stderr, "hanshiro get: %s\n", id.status().message().c_str());
    return 2;
  }
  auto db = OpenDb(args);
  if (!db) return 1;
  auto e = db->Get(*id);
  if (!e.ok()) {
    std::fprintf(stderr, "hanshiro get: %s\n", e.status().ToString().c_str());
    return 1;
  }
  std::string out;
  ingest::AppendEventJson(*e, &out);
  std::printf("%s\n", out.c_str());
  return 0;
}

int RunQuery(const DbArgs& args, const QueryArgs& q) {
  ScanQuery scan;
  auto time = [](const std::string& text, const char* what, int64_t* out) {
    if (text.empty()) return true;
    auto t = ingest::ParseTime(text);
    if (!t.ok()) {
      std::fprintf(stderr, "hanshiro query: %s: %s\n", what, t.status().message().c_str());
      return false;
    }
    *out = *t;
    return true;
  };
  if (!time(q.from, "--from", &scan.from_ns) || !time(q.to, "--to", &scan.to_ns)) return 2;
  if (!q.type.empty()) scan.type = EventType::FromName(q.type);
  if (!q.host.empty()) scan.host = q.host;
  for (const std::string& w : q.where) {
    const size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "hanshiro query: --where '%s': expected key=value\n", w.c_str());
      return 2;
    }
    scan.metadata.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  if (q.limit == 0) {
    std::fprintf(stderr, "hanshiro query: --limit must be at least 1\n");
    return 2;
  }
  auto db = OpenDb(args);
  if (!db) return 1;
  size_t shown = 0;
  if (!args.json) std::printf("%-30s %-18s %-20s %s\n", "event time", "type", "host", "raw data");
  while (shown < q.limit) {
    scan.limit = std::min<size_t>(q.limit - shown, 10'000);
    auto page = db->Scan(scan);
    if (!page.ok()) {
      std::fprintf(stderr, "hanshiro query: %s\n", page.status().ToString().c_str());
      return 1;
    }
    for (const Value& v : page->values) {
      const Event& e = std::get<Event>(v);
      if (args.json) {
        std::string out;
        ingest::AppendEventJson(e, &out);
        std::printf("%s\n", out.c_str());
      } else {
        std::string raw = e.raw_data.substr(0, 60);
        for (char& c : raw) {
          if (static_cast<unsigned char>(c) < 0x20) c = ' ';
        }
        std::printf("%-30s %-18s %-20s %s\n", ingest::FormatTime(e.event_time_ns).c_str(),
                    std::string(e.type.name()).c_str(), e.source.host.c_str(), raw.c_str());
      }
      ++shown;
    }
    if (page->next_cursor.empty()) break;
    scan.cursor = page->next_cursor;
  }
  if (!args.json) std::printf("(%zu events)\n", shown);
  return 0;
}

int RunVerify(const DbArgs& args, const std::string& against) {
  auto db = OpenDb(args);
  if (!db) return 1;
  VerifyResult r;
  {
    Progress progress;
    r = db->Verify([&](std::string_view pass, uint64_t done, uint64_t total) {
      progress.Update(fmt::format("verify {}", pass), done, total,
                      fmt::format("{} of {} records", Progress::Count(done), Progress::Count(total)));
    });
  }
  if (r.intact() && !against.empty()) {
    auto bytes = ReadFileToString(Env::Default(), against);
    if (!bytes.ok()) {
      std::fprintf(stderr, "hanshiro verify: --against: %s\n", bytes.status().ToString().c_str());
      return 2;
    }
    r.error = db->VerifyAgainst(*bytes);
    if (!r.error.ok()) r.error = r.error.WithContext("--against " + against);
  }
  if (args.json) {
    std::printf("%s\n", server::VerifyJson(r).c_str());
  } else if (r.intact()) {
    std::printf("intact: tree size %llu, root %s\n%llu log records rehashed", static_cast<unsigned long long>(r.tree_size),
                r.root.ToHex().c_str(), static_cast<unsigned long long>(r.records));
    if (r.log_start > 0) {
      std::printf(" (the log starts at seq %llu: earlier segments were removed after flushes, their leaves "
                  "checked from the ledger)",
                  static_cast<unsigned long long>(r.log_start));
    }
    std::printf("\n%llu stored records match their leaves", static_cast<unsigned long long>(r.table_records));
    if (r.removed_by_policy > 0) {
      std::printf(", %llu removed by retention", static_cast<unsigned long long>(r.removed_by_policy));
    }
    std::printf("\n");
    if (r.torn_tail) std::printf("a crash's torn tail was truncated at open: %s\n", r.torn_tail->c_str());
  } else {
    std::printf("BROKEN: %s\n", r.error.ToString().c_str());
  }
  return r.intact() ? 0 : 1;
}

int RunSimilar(const DbArgs& args, const std::string& vector, const std::string& like, size_t k) {
  if (vector.empty() == like.empty()) {
    std::fprintf(stderr, "hanshiro similar: give --vector or --like, one of them\n");
    return 2;
  }
  std::vector<float> query;
  for (size_t at = 0; !vector.empty() && at <= vector.size();) {
    const size_t comma = std::min(vector.find(',', at), vector.size());
    const std::string part = vector.substr(at, comma - at);
    char* end = nullptr;
    const float f = std::strtof(part.c_str(), &end);
    if (part.empty() || end != part.c_str() + part.size()) {
      std::fprintf(stderr, "hanshiro similar: --vector element %zu ('%s') is not a number\n", query.size(), part.c_str());
      return 2;
    }
    query.push_back(f);
    at = comma + 1;
  }
  auto db = OpenDb(args);
  if (!db) return 1;
  if (!like.empty()) {
    auto id = ParseId(like);
    if (!id.ok()) {
      std::fprintf(stderr, "hanshiro similar: %s\n", id.status().message().c_str());
      return 2;
    }
    auto e = db->Get(*id);
    if (!e.ok() || e->vector.empty()) {
      std::fprintf(stderr, "hanshiro similar: %s\n",
                   e.ok() ? "that event has no vector" : e.status().ToString().c_str());
      return 1;
    }
    query = e->vector;
  }
  auto hits = db->FindSimilar(query, k);
  if (!hits.ok()) {
    std::fprintf(stderr, "hanshiro similar: %s\n", hits.status().ToString().c_str());
    return 1;
  }
  if (!args.json) std::printf("%-38s %-6s %s\n", "id", "kind", "score");
  for (const SimilarHit& h : *hits) {
    if (args.json) {
      std::printf("{\"id\":\"%s\",\"kind\":\"%s\",\"score\":%g,\"distance\":%g}\n", h.id.ToString().c_str(),
                  std::string(ValueKindName(h.kind)).c_str(), h.score, h.distance);
    } else {
      std::printf("%-38s %-6s %.4f\n", h.id.ToString().c_str(), std::string(ValueKindName(h.kind)).c_str(), h.score);
    }
  }
  return 0;
}

int RunCheckpoint(const DbArgs& args, const std::string& out_file) {
  auto db = OpenDb(args);
  if (!db) return 1;
  auto cp = db->Checkpoint();
  if (!cp.ok()) {
    std::fprintf(stderr, "hanshiro checkpoint: %s\n", cp.status().ToString().c_str());
    return 1;
  }
  if (!out_file.empty()) {
    Status s = WriteStringToFile(Env::Default(), cp->encoded, out_file, /*sync=*/true);
    if (!s.ok()) {
      std::fprintf(stderr, "hanshiro checkpoint: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  if (args.json) {
    std::printf("%s\n", server::CheckpointJson(*cp).c_str());
  } else {
    std::printf("signed tree head: size %llu, root %s, at %s%s\n",
                static_cast<unsigned long long>(cp->tree_size), cp->root.ToHex().c_str(),
                ingest::FormatTime(cp->time_ns).c_str(),
                out_file.empty() ? "" : (", written to " + out_file).c_str());
  }
  return 0;
}

int RunProof(const DbArgs& args, const std::string& id_text) {
  auto id = ParseId(id_text);
  if (!id.ok()) {
    std::fprintf(stderr, "hanshiro proof: %s\n", id.status().message().c_str());
    return 2;
  }
  auto db = OpenDb(args);
  if (!db) return 1;
  auto p = db->Proof(*id);
  if (!p.ok()) {
    std::fprintf(stderr, "hanshiro proof: %s\n", p.status().ToString().c_str());
    return 1;
  }
  std::string path;
  for (const Hash256& h : p->path) path += (path.empty() ? "\"" : ",\"") + h.ToHex() + "\"";
  if (args.json) {
    std::printf("{\"id\":\"%s\",\"seq\":%llu,\"kind\":\"%s\",\"tree_size\":%llu,\"root\":\"%s\","
                "\"path\":[%s],\"record\":\"%s\",\"public_key\":\"%s\",\"bundle\":\"%s\"}\n",
                p->id.ToString().c_str(), static_cast<unsigned long long>(p->seq),
                std::string(ValueKindName(p->kind)).c_str(),
                static_cast<unsigned long long>(p->checkpoint.tree_size),
                p->checkpoint.root.ToHex().c_str(), path.c_str(), Hex(p->record).c_str(),
                p->public_key_hex.c_str(), Hex(p->encoded).c_str());
  } else {
    std::printf("%s is record %llu of the tree of size %llu (root %s), signed by key %s\n"
                "inclusion path: %zu hashes; bundle: %zu bytes (--json prints them)\n",
                p->id.ToString().c_str(), static_cast<unsigned long long>(p->seq),
                static_cast<unsigned long long>(p->checkpoint.tree_size),
                p->checkpoint.root.ToHex().c_str(), p->public_key_hex.c_str(), p->path.size(),
                p->encoded.size());
  }
  return 0;
}

}  // namespace hanshiro::cli
