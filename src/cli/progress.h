// A one-line progress bar on standard error, drawn only when it is a
// terminal (scripts and logs see nothing), at most ten times a second.
//   verify log     [##########----------]  52%  2.6M of 5.0M records
#ifndef HANSHIRO_CLI_PROGRESS_H_
#define HANSHIRO_CLI_PROGRESS_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace hanshiro::cli {

class Progress {
 public:
  Progress();
  ~Progress() { End(); }

  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // `done` of `total` (0: unknown, no bar), then `text`.
  void Update(std::string_view label, uint64_t done, uint64_t total, std::string_view text);

  // Erases the line (before other output); the next Update draws it again.
  void Clear();
  // Ends the line where it is, if one was drawn (before a summary).
  void End();

  // "2.6M", "917K", "12".
  static std::string Count(uint64_t n);

 private:
  bool tty_;
  bool drawn_ = false;
  int64_t last_us_ = 0;
};

}  // namespace hanshiro::cli

#endif  // HANSHIRO_CLI_PROGRESS_H_
