// Runs another program to completion: argv searched on PATH, stdout to a
// file (or discarded), stderr discarded; reports its exit status, wall time,
// CPU time and peak RSS. For tests and benchmarks that drive external tools
// (headless Chromium, the groundcap binary); the run itself never forks.
#ifndef GROUNDCAP_RUN_PROCESS_H_
#define GROUNDCAP_RUN_PROCESS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace groundcap {

/// What a finished child did.
struct ProcessRun {
  int status = -1;          ///< as waitpid reports it
  double wall_s = 0;
  double cpu_s = 0;         ///< user + system
  int64_t peak_rss = 0;     ///< bytes
  bool exited_ok() const;   ///< exited normally with status 0
};

/// Runs `argv` (argv[0] looked up on PATH) and waits for it. stdout goes to
/// `stdout_path` (created or truncated) or /dev/null when empty.
ProcessRun RunProcess(std::vector<std::string> argv, const std::string& stdout_path = "");

}  // namespace groundcap

#endif  // GROUNDCAP_RUN_PROCESS_H_
