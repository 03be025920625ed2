#include "cli/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

namespace hanshiro::cli {

Progress::Progress() : tty_(::isatty(STDERR_FILENO) != 0) {}

void Progress::End() {
  if (drawn_) std::fputs("\n", stderr);
  drawn_ = false;
}

void Progress::Clear() {
  if (!drawn_) return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

std::string Progress::Count(uint64_t n) {
  if (n >= 10'000'000) return fmt::format("{}M", n / 1'000'000);
  if (n >= 1'000'000) return fmt::format("{:.1f}M", static_cast<double>(n) / 1e6);
  if (n >= 10'000) return fmt::format("{}K", n / 1000);
  return fmt::format("{}", n);
}

void Progress::Update(std::string_view label, uint64_t done, uint64_t total, std::string_view text) {
  if (!tty_) return;
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  if (drawn_ && now - last_us_ < 100'000 && done < total) return;  // a finished bar is always drawn
  last_us_ = now;
  drawn_ = true;
  std::string line = fmt::format("\r{:<14}", label);
  if (total > 0) {
    constexpr int kWidth = 20;
    const uint64_t capped = done < total ? done : total;
    const int filled = static_cast<int>(capped * kWidth / total);
    line += "[" + std::string(filled, '#') + std::string(kWidth - filled, '-') + "] ";
    line += fmt::format("{:3}%  ", capped * 100 / total);
  }
  line += text;
  line += "\x1b[K";  // clear what a longer earlier line left
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace hanshiro::cli
