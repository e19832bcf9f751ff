// What the benchmarks read from /proc about a process: its peak resident
// set and the CPU time of another process (a forked fake teacher).
#ifndef GROUNDCAP_BENCH_PROC_STATS_H_
#define GROUNDCAP_BENCH_PROC_STATS_H_

#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace groundcap::bench {

/// Peak resident set size of this process in bytes (VmHWM), -1 if unknown.
inline int64_t PeakRss() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  }
  return -1;
}

/// utime + stime of another process, in seconds.
inline double ProcCpuSeconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(f, line);
  size_t close_paren = line.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::vector<std::string> fields;  // from field 3 (state) on
  size_t pos = close_paren + 2;
  while (pos < line.size()) {
    size_t sp = line.find(' ', pos);
    fields.push_back(line.substr(pos, sp - pos));
    if (sp == std::string::npos) break;
    pos = sp + 1;
  }
  if (fields.size() < 13) return 0;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return (std::stod(fields[11]) + std::stod(fields[12])) / ticks;  // fields 14 and 15
}

}  // namespace groundcap::bench

#endif  // GROUNDCAP_BENCH_PROC_STATS_H_
