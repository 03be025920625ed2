// Status and Result<T>: errors are values.
//
// A Status is either OK or carries a code and a message that names the place
// ("wal 000042: chain mismatch at seq 1817 (offset 59392)"). Result<T> holds
// either a T or a non-OK Status. Both are cheap to move; neither throws.
// Thread-safety: like int — distinct objects may be used concurrently.
#ifndef HANSHIRO_STATUS_H_
#define HANSHIRO_STATUS_H_

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

// Aborts with the failed condition when `cond` is false. For invariants only
// (bugs abort); never for disk or network input. Always on, in every build.
#define HANSHIRO_CHECK(cond)                                                        \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

namespace hanshiro {

class [[nodiscard]] Status {
 public:
  enum class Code : uint8_t {
    kOk = 0,
    kNotFound = 1,
    kInvalidArgument = 2,
    kIOError = 3,
    kCorruption = 4,
    kIntegrityBroken = 5,
    kBusy = 6,
  };

  Status() = default;

  static Status OK() { return Status(); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status InvalidArgument(std::string msg) {
    return Status(Code::kInvalidArgument, std::move(msg));
  }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IntegrityBroken(std::string msg) {
    return Status(Code::kIntegrityBroken, std::move(msg));
  }
  static Status Busy(std::string msg) { return Status(Code::kBusy, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsIntegrityBroken() const { return code_ == Code::kIntegrityBroken; }
  bool IsBusy() const { return code_ == Code::kBusy; }

  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "OK", or "<code name>: <message>".
  std::string ToString() const;

  // Returns a status with the same code and "<prefix>: <message>".
  Status WithContext(std::string_view prefix) const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

std::string_view CodeName(Status::Code code);

// Result<T>: a T, or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  // REQUIRES: !status.ok()
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    HANSHIRO_CHECK(!status_.ok());
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok()
  T& value() & {
    HANSHIRO_CHECK(ok());
    return *value_;
  }
  const T& value() const& {
    HANSHIRO_CHECK(ok());
    return *value_;
  }
  T&& value() && {
    HANSHIRO_CHECK(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace hanshiro

#define HANSHIRO_CONCAT_INNER_(a, b) a##b
#define HANSHIRO_CONCAT_(a, b) HANSHIRO_CONCAT_INNER_(a, b)

// Returns the Status of `expr` from the enclosing function when it is not OK.
#define HANSHIRO_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::hanshiro::Status hanshiro_status_ = (expr);        \
    if (!hanshiro_status_.ok()) return hanshiro_status_; \
  } while (0)

// `lhs = value of expr` (a Result), or return its Status.
#define HANSHIRO_ASSIGN_OR_RETURN(lhs, expr) \
  HANSHIRO_ASSIGN_OR_RETURN_IMPL_(HANSHIRO_CONCAT_(hanshiro_result_, __LINE__), lhs, expr)
#define HANSHIRO_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()

#endif  // HANSHIRO_STATUS_H_
