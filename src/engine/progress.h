// Progress reporting for a step: a live line on a terminal (done/total,
// failed, in flight, rate, ETA), periodic plain log lines otherwise. The
// total is estimated from bytes read / file size, so the input is read once.
#ifndef GROUNDCAP_PROGRESS_H_
#define GROUNDCAP_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace groundcap {

struct ProgressCounts {
  int64_t done = 0;       ///< finished or skipped (resumed) samples
  int64_t skipped = 0;    ///< of `done`, skipped thanks to checkpoints
  int64_t failed = 0;     ///< of `done`, failed
  int64_t in_flight = 0;
  int64_t records_read = 0;
  int64_t bytes_read = 0;
  int64_t file_size = 0;
  bool input_done = false;  ///< records_read is then the exact total
};

/// Estimated total records: exact when the input is done, otherwise
/// records_read scaled by file_size / bytes_read. Pure (tested).
int64_t EstimateTotal(const ProgressCounts& c);
/// The progress text, e.g. "step_1_grounding 120/~1000 failed 3 in flight 8
/// 4.1/s ETA 3m34s". Pure (tested).
std::string FormatProgress(const std::string& label, const ProgressCounts& c, double elapsed_s);

class Progress {
 public:
  /// `enabled` false: silent. On a TTY (stderr) the line is redrawn at most
  /// every 0.25 s; otherwise a log line every `log_interval_s`.
  Progress(std::string label, bool enabled, double log_interval_s = 30);
  void Update(const ProgressCounts& c);
  /// Prints the final state (and ends the TTY line).
  void Finish(const ProgressCounts& c);

 private:
  std::string label_;
  bool enabled_, tty_;
  double interval_s_;
  std::chrono::steady_clock::time_point start_, last_;
  bool drawn_ = false;
};

}  // namespace groundcap

#endif  // GROUNDCAP_PROGRESS_H_
