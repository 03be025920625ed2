// Arbitrary text through every line format: the first byte picks the format,
// the rest is split into lines and decoded in order (so Zeek headers carry
// over). Never a crash or an out-of-bounds read, and every event decoded is
// one the database accepts as it is.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/record.h"
#include "ingest/formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using hanshiro::ingest::LineFormat;
  const auto format = static_cast<LineFormat>(data[0] % 9);
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  hanshiro::ingest::LineDecoder decoder(format);
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    auto e = decoder.Decode(line, 1'700'000'000'000'000'000);
    if (!e.ok() || !e->has_value()) continue;
    // The native shape may carry any value (the database checks it on write).
    if (format == LineFormat::kNdjson || (format == LineFormat::kAuto && line[0] == '{')) continue;
    if (!hanshiro::record::Validate(hanshiro::Value(**e)).ok()) std::abort();
  }
  return 0;
}
