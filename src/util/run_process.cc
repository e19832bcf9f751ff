#include "util/run_process.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace groundcap {

bool ProcessRun::exited_ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }

ProcessRun RunProcess(std::vector<std::string> argv, const std::string& stdout_path) {
  const auto start = std::chrono::steady_clock::now();
  const std::string out_path = stdout_path.empty() ? "/dev/null" : stdout_path;
  ProcessRun run;
  const pid_t child = ::fork();
  if (child < 0) return run;
  if (child == 0) {
    FILE* out = std::fopen(out_path.c_str(), "wb");
    FILE* null = std::fopen("/dev/null", "wb");
    if (out == nullptr || null == nullptr) ::_exit(126);
    ::dup2(::fileno(out), 1);
    ::dup2(::fileno(null), 2);
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  struct rusage usage {};
  ::wait4(child, &run.status, 0, &usage);
  run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.peak_rss = static_cast<int64_t>(usage.ru_maxrss) * 1024;
  run.cpu_s = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec +
              usage.ru_stime.tv_usec / 1e6;
  return run;
}

}  // namespace groundcap
