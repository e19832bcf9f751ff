// Fake teachers in a forked child process, for the throughput benchmarks:
// the child's CPU is then not counted as the client's, and ProcCpuSeconds
// reads it from /proc so a table can show which side was busy.
#ifndef GROUNDCAP_BENCH_FAKE_TEACHER_PROCESS_H_
#define GROUNDCAP_BENCH_FAKE_TEACHER_PROCESS_H_

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "sim/sim_server.h"
#include "util/log.h"

namespace groundcap::bench {

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

/// One fake teacher to start in the child.
struct FakeTeacherSpec {
  Responder responder;
  FaultConfig faults;
};

/// SimServers (600 threads each) in a forked child, killed by the destructor.
class FakeTeacherProcess {
 public:
  explicit FakeTeacherProcess(const std::vector<FakeTeacherSpec>& servers) {
    int fd[2];
    if (pipe(fd) != 0) std::exit(1);
    pid_ = fork();
    if (pid_ < 0) std::exit(1);
    if (pid_ == 0) {
      close(fd[0]);
      SetLogLevel(LogLevel::kError);
      std::vector<std::unique_ptr<SimServer>> running;
      std::vector<int> ports;
      for (const FakeTeacherSpec& s : servers) {
        running.push_back(std::make_unique<SimServer>(s.responder, s.faults, 600));
        ports.push_back(running.back()->Start());
      }
      const ssize_t bytes = static_cast<ssize_t>(ports.size() * sizeof(int));
      if (write(fd[1], ports.data(), ports.size() * sizeof(int)) != bytes) _exit(1);
      close(fd[1]);
      pause();  // until the parent kills us
      _exit(0);
    }
    close(fd[1]);
    ports_.resize(servers.size());
    const ssize_t bytes = static_cast<ssize_t>(ports_.size() * sizeof(int));
    if (read(fd[0], ports_.data(), ports_.size() * sizeof(int)) != bytes) std::exit(1);
    close(fd[0]);
  }
  ~FakeTeacherProcess() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  FakeTeacherProcess(const FakeTeacherProcess&) = delete;
  FakeTeacherProcess& operator=(const FakeTeacherProcess&) = delete;

  int port(size_t i) const { return ports_[i]; }
  pid_t pid() const { return pid_; }
  /// CPU seconds the fake teachers used so far.
  double CpuSeconds() const { return ProcCpuSeconds(pid_); }

 private:
  pid_t pid_ = -1;
  std::vector<int> ports_;
};

}  // namespace groundcap::bench

#endif  // GROUNDCAP_BENCH_FAKE_TEACHER_PROCESS_H_
