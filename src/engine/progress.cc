#include "engine/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/core.h>

#include "util/log.h"

namespace groundcap {

int64_t EstimateTotal(const ProgressCounts& c) {
  if (c.input_done || c.bytes_read <= 0 || c.file_size <= c.bytes_read) return c.records_read;
  double est = static_cast<double>(c.records_read) * static_cast<double>(c.file_size) /
               static_cast<double>(c.bytes_read);
  return static_cast<int64_t>(est + 0.5);
}

namespace {
std::string Duration(double s) {
  if (s < 0 || s > 1e8) return "?";
  auto t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, (t / 60) % 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}
}  // namespace

std::string FormatProgress(const std::string& label, const ProgressCounts& c, double elapsed_s) {
  int64_t total = EstimateTotal(c);
  double rate = elapsed_s > 0 ? static_cast<double>(c.done - c.skipped) / elapsed_s : 0;
  std::string eta = "?";
  if (rate > 0 && total >= c.done) eta = Duration(static_cast<double>(total - c.done) / rate);
  return fmt::format("{} {}/{}{} failed {} in flight {} {:.1f}/s ETA {}", label, c.done,
                     c.input_done ? "" : "~", total, c.failed, c.in_flight, rate, eta);
}

Progress::Progress(std::string label, bool enabled, double log_interval_s)
    : label_(std::move(label)), enabled_(enabled), tty_(isatty(STDERR_FILENO) == 1),
      interval_s_(log_interval_s) {
  start_ = last_ = std::chrono::steady_clock::now();
}

void Progress::Update(const ProgressCounts& c) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_).count();
  if (since < (tty_ ? 0.25 : interval_s_)) return;
  last_ = now;
  std::string text = FormatProgress(label_, c, std::chrono::duration<double>(now - start_).count());
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s", text.c_str());
    std::fflush(stderr);
    drawn_ = true;
  } else {
    GC_INFO("{}", text);
  }
}

void Progress::Finish(const ProgressCounts& c) {
  if (!enabled_) return;
  double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string text = FormatProgress(label_, c, el);
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s\n", text.c_str());
    std::fflush(stderr);
  } else {
    GC_INFO("{}", text);
  }
}

}  // namespace groundcap
