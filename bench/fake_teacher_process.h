// Fake teachers in a forked child process, for the throughput benchmarks:
// the child's CPU is then not counted as the client's, and CpuSeconds
// reads it from /proc (proc_stats.h) so a table can show which side was busy.
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

#include "proc_stats.h"
#include "sim/sim_server.h"
#include "util/log.h"

namespace groundcap::bench {

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
