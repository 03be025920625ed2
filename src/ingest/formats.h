// ingest: security log formats in, events out, one line at a time.
//
// Formats (docs/ingest-formats.md has every field mapping):
//   ndjson    HanshiroDB event JSON (event_json.h), flat or nested shape
//   ocsf      OCSF 1.x JSON events (class_uid, time, device, ...)
//   ecs       Elastic Common Schema JSON (@timestamp, event.category, host, ...)
//   zeek      Zeek logs, TSV (with their #fields header) or JSON
//   suricata  Suricata EVE JSON
//   cef       ArcSight CEF, bare or after a syslog header
//   leef      IBM QRadar LEEF 1.0 / 2.0, bare or after a syslog header
//   syslog    RFC 5424 and RFC 3164 (BSD) syslog lines
//   auto      each line's format recognised from its shape
//
// Every event keeps the line's exact bytes as raw_data and its fields,
// flattened to dotted names, as metadata (the first kMaxMetadataFields in byte
// order), so `query --where dst_endpoint.port=443` works on any format; the
// event time, type, host, ip and collector come from the fields the format
// defines for them. A line that is not what its format says is an
// InvalidArgument naming the field or the place.
#ifndef HANSHIRO_INGEST_FORMATS_H_
#define HANSHIRO_INGEST_FORMATS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hanshiro/model.h"
#include "hanshiro/status.h"

namespace hanshiro::ingest {

enum class LineFormat : uint8_t { kAuto, kNdjson, kOcsf, kEcs, kZeek, kSuricata, kCef, kLeef, kSyslog };

constexpr size_t kMaxMetadataFields = 256;

// "auto", "ndjson", "ocsf", ... (case-insensitive); the error lists them.
Result<LineFormat> ParseLineFormat(std::string_view name);
std::string_view LineFormatName(LineFormat format);

// Decodes the lines of one input (a file, stdin, a request body) in order.
// Keeps what a format carries across lines (a Zeek TSV header). Not
// thread-safe; one per input.
class LineDecoder {
 public:
  explicit LineDecoder(LineFormat format) : format_(format) {}

  // The line's event; std::nullopt for a line without one (blank, a Zeek
  // header or a '#' comment). A trailing '\r' is not part of the line.
  // now_ns is the event time of a line that carries none and the clock that
  // dates a BSD syslog timestamp (which has no year).
  Result<std::optional<Event>> Decode(std::string_view line, int64_t now_ns);

 private:
  struct ZeekHeader {
    char separator = '\t';
    std::string set_separator = ",";
    std::string empty_field = "(empty)";
    std::string unset_field = "-";
    std::string path;
    std::vector<std::string> fields;
  };

  Result<std::optional<Event>> DecodeZeekDirective(std::string_view line);
  Result<Event> DecodeZeekTsv(std::string_view line, int64_t now_ns);

  LineFormat format_;
  ZeekHeader zeek_;
};

}  // namespace hanshiro::ingest

#endif  // HANSHIRO_INGEST_FORMATS_H_
