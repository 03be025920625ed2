// Sample values for record tests (test-only).
#ifndef HANSHIRO_BASE_RECORD_TEST_UTIL_H_
#define HANSHIRO_BASE_RECORD_TEST_UTIL_H_

#include <vector>

#include "hanshiro/model.h"

namespace hanshiro::testing {

// An event with every field set, text in several scripts.
inline Event FullEvent() {
  Event e;
  e.id = EventId::FromParts(1'700'000'000'123, 0x0abc, 0x0123456789abcdefull);
  e.event_time_ns = 1'700'000'000'123'456'789;
  e.ingest_time_ns = 1'700'000'000'200'000'000;
  e.type = EventType::Named(EventTypeCode::kDnsQuery);
  e.source.host = "dc01.corp.example";
  e.source.ip = IpAddress::V4({192, 168, 1, 10});
  e.source.collector = "zeek-sensor-\xE6\x9D\xB1";  // "東"
  e.source.format = IngestionFormat::kZeek;
  e.raw_data = std::string("query=evil.example\0\xff\xfe", 21);  // arbitrary bytes
  e.metadata = {{"answer", "203.0.113.9"},
                {"qtype", "A"},
                {"user", "\xD0\x90\xD0\xBB\xD0\xB8\xD1\x81\xD0\xB0"}};  // "Алиса"
  e.vector = {0.25f, -1.5f, 3.0e-8f, 1024.0f};
  return e;
}

// Only the required fields; everything optional empty.
inline Event MinimalEvent() {
  Event e;
  e.id = EventId(0, 1);
  e.type = EventType::Custom("\xF0\x9F\x94\x92 LockScreenBypass");  // emoji custom name
  return e;
}

inline CodeArtifact FullArtifact() {
  CodeArtifact c;
  c.id = EventId::FromParts(1'700'000'001'000, 1, 2);
  c.first_seen_ns = 1'700'000'001'000'000'000;
  for (size_t i = 0; i < c.sha256.size(); ++i) c.sha256[i] = static_cast<uint8_t>(0xa0 + i);
  c.file_type = FileType::kPe;
  c.size_bytes = 345'088;
  c.capabilities.Set(Capability::kNetwork)
      .Set(Capability::kProcessInjection)
      .Set(Capability::kExfiltration);
  c.file_names = {"invoice.pdf.exe", "svch0st.exe"};
  c.imports = {"kernel32.dll!VirtualAllocEx", "ws2_32.dll!connect"};
  c.strings = {"http://198.51.100.4/gate.php", "", "Mozilla/5.0"};
  c.related_log_ids = {EventId(1, 2), EventId(3, 4)};
  c.vector = {1.0f, 0.0f};
  return c;
}

inline IndexEntry FullIndexEntry() {
  IndexEntry x;
  x.id = EventId::FromParts(1'700'000'002'000, 9, 9);
  x.time_ns = 1'700'000'002'000'000'000;
  x.field = "source.host";
  x.value = "dc01.corp.example";
  x.refs = {EventId(5, 6), EventId(7, 8), EventId(9, 10)};
  return x;
}

// Only the required fields of an index entry.
inline IndexEntry MinimalIndexEntry() {
  IndexEntry x;
  x.field = "f";
  return x;
}

inline std::vector<Value> SampleValues() {
  return {FullEvent(),    MinimalEvent(),   FullArtifact(),
          CodeArtifact{}, FullIndexEntry(), MinimalIndexEntry()};
}

}  // namespace hanshiro::testing

#endif  // HANSHIRO_BASE_RECORD_TEST_UTIL_H_
