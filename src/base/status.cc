#include "hanshiro/status.h"

namespace hanshiro {

std::string_view CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "OK";
    case Status::Code::kNotFound:
      return "not found";
    case Status::Code::kInvalidArgument:
      return "invalid argument";
    case Status::Code::kIOError:
      return "I/O error";
    case Status::Code::kCorruption:
      return "corruption";
    case Status::Code::kIntegrityBroken:
      return "integrity broken";
    case Status::Code::kBusy:
      return "busy";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(CodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::WithContext(std::string_view prefix) const {
  if (ok()) return *this;
  std::string msg(prefix);
  msg += ": ";
  msg += message_;
  return Status(code_, std::move(msg));
}

}  // namespace hanshiro
