// Test-only helpers: real records (encoded events) and their keys.
#ifndef HANSHIRO_LSM_TEST_UTIL_H_
#define HANSHIRO_LSM_TEST_UTIL_H_

#include <string>

#include "base/record.h"
#include "hanshiro/model.h"
#include "hanshiro/storage_key.h"
#include "hanshiro/status.h"

namespace hanshiro::lsm::testing {

struct TestRecord {
  std::string key, record;
};

// Event number i at event time t (ns); `version` changes the payload, not
// the key.
inline TestRecord MakeEvent(uint64_t i, int64_t t, int version = 0, size_t raw_bytes = 40) {
  Event e;
  e.id = EventId::FromParts(1'700'000'000'000 + i / 4096, static_cast<uint16_t>(i % 4096),
                            0x8000000000000000ull | (i * 0x9e3779b97f4a7c15ull >> 2));
  e.event_time_ns = t;
  e.ingest_time_ns = t + 1;
  e.type = EventType::Named(EventTypeCode::kDnsQuery);
  e.source.host = "host-" + std::to_string(i % 13);
  e.raw_data = "event " + std::to_string(i) + " v" + std::to_string(version) + " " +
               std::string(raw_bytes, static_cast<char>('a' + i % 26));
  TestRecord r;
  HANSHIRO_CHECK(record::Encode(e, &r.record).ok());
  r.key = std::string(StorageKey::For(e).view());
  return r;
}

}  // namespace hanshiro::lsm::testing

#endif  // HANSHIRO_LSM_TEST_UTIL_H_
