// server::wire: the binary bodies of the /bin routes (docs/format/wire.md;
// rule tags [WIRE-n]). Stateless and thread-safe.
#ifndef HANSHIRO_SERVER_WIRE_H_
#define HANSHIRO_SERVER_WIRE_H_

#include <string>
#include <string_view>
#include <vector>

#include "hanshiro/model.h"
#include "hanshiro/status.h"

namespace hanshiro::server::wire {

constexpr std::string_view kMagic = "HSWIRE01";
constexpr uint32_t kMaxCount = 100'000;

// The values of a request body, all of kind `kind`; InvalidArgument naming
// the record index and rule otherwise.
Result<std::vector<Value>> DecodeRequest(std::string_view body, ValueKind kind);
std::string EncodeRequest(const std::vector<std::string>& records);
std::string EncodeResponse(const std::vector<EventId>& ids);

}  // namespace hanshiro::server::wire

#endif  // HANSHIRO_SERVER_WIRE_H_
