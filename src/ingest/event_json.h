// ingest: events as JSON, in both directions.
//
// Input accepts the original flat shape
//   {"event_type", "source_host", "source_ip", "collector", "format",
//    "raw_data", "metadata", "vector", "timestamp"}
// and the canonical nested one that output uses
//   {"id", "event_time", "event_time_ns", "ingest_time_ns", "event_type",
//    "source": {"host", "ip", "collector", "format"},
//    "raw_data" (text) | "raw_data_hex" (any bytes), "metadata", "vector"}
// (a field may come from either shape, once). Times are RFC 3339 text or
// integers of Unix milliseconds ("timestamp", "event_time"), or integers of
// nanoseconds ("event_time_ns"). Unknown fields, wrong types and bad values
// are errors naming the field. Stateless and thread-safe.
#ifndef HANSHIRO_INGEST_EVENT_JSON_H_
#define HANSHIRO_INGEST_EVENT_JSON_H_

#include <string>
#include <string_view>
#include <vector>

#include "hanshiro/model.h"
#include "hanshiro/status.h"

namespace hanshiro::ingest {

// One event object. now_ns is its event time when the object has none.
// InvalidArgument("field 'source.ip': ...") on bad input.
Result<Event> ParseEvent(std::string_view json, int64_t now_ns);
// One event object or an array of them; errors name the array index.
Result<std::vector<Event>> ParseEvents(std::string_view json, int64_t now_ns);

// The canonical nested JSON of an event (one line, no newline).
void AppendEventJson(const Event& event, std::string* out);

// A code artifact: {"id", "first_seen" (RFC 3339 or Unix ms) | "first_seen_ns",
// "sha256" (64 hex digits), "file_type", "size_bytes", "capabilities" [names],
// "file_names", "imports", "strings" [text], "related_log_ids" [ids],
// "vector" [numbers]}. Output uses the same fields.
Result<CodeArtifact> ParseCodeArtifact(std::string_view json, int64_t now_ns);
void AppendCodeJson(const CodeArtifact& artifact, std::string* out);

// "2023-11-14T22:13:20.123456789Z" (or with an offset) or Unix milliseconds
// -> Unix nanoseconds. InvalidArgument naming what is wrong.
Result<int64_t> ParseTime(std::string_view text);
// RFC 3339 in UTC with nanoseconds: "2023-11-14T22:13:20.123456789Z".
std::string FormatTime(int64_t unix_ns);

}  // namespace hanshiro::ingest

#endif  // HANSHIRO_INGEST_EVENT_JSON_H_
