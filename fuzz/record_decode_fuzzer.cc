// libFuzzer target: record::Decode on arbitrary bytes. Beyond "no crash, no
// out-of-bounds read" (ASan + UBSan), it checks the format's key invariant:
// whatever decodes re-encodes to exactly the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = hanshiro::record::Decode(input);
  if (!decoded.ok()) {
    if (!decoded.status().IsCorruption()) std::abort();
    return 0;
  }
  std::string again;
  if (!hanshiro::record::Encode(*decoded, &again).ok() || again != input) std::abort();
  return 0;
}
