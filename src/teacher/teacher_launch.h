// Launched teachers: `vlm.openai.launch` commands (vLLM, llama.cpp's
// llama-server, `groundcap serve-sim`, ...) that this run starts on free
// loopback ports, waits for, uses as pool endpoints and stops at the end.
// Each runs in its own process group (so stopping it stops whatever it
// forked), with stdout/stderr in results_dir/teacher-<k>.log.
#ifndef GROUNDCAP_TEACHER_LAUNCH_H_
#define GROUNDCAP_TEACHER_LAUNCH_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "spec/spec.h"

namespace groundcap {

/// `command` with every "{port}" replaced by `port`.
std::string SubstitutePort(const std::string& command, int port);

/// The last `max_lines` lines of the file at `path` ("" when unreadable).
std::string FileTail(const std::string& path, int max_lines);

/// The servers of one run. Plan picks the ports (so the teacher can be built
/// with their URLs before anything starts); Start launches them.
class LaunchedTeachers {
 public:
  /// Reads <pipeline>.vlm.openai.launch (a command or a list; "" = none) and
  /// launch_timeout_s, and picks a free loopback port for each command.
  /// Throws SetupError on a malformed value or a command without {port}.
  static LaunchedTeachers Plan(const Spec& spec, const std::string& pipeline);
  /// For tests and benchmarks: these commands (with {port}), this timeout.
  LaunchedTeachers(std::vector<std::string> commands, double timeout_s);
  LaunchedTeachers(LaunchedTeachers&& other) noexcept;
  LaunchedTeachers& operator=(LaunchedTeachers&&) = delete;
  ~LaunchedTeachers();

  bool empty() const { return servers_.empty(); }
  /// "http://127.0.0.1:<port>/v1", one per command.
  std::vector<std::string> Urls() const;
  /// Starts every server (log: `log_dir`/teacher-<k>.log) and waits until
  /// each answers GET /health (or /v1/models) with 2xx. Throws SetupError
  /// (exit 2) when one exits first (its exit status and log tail in the
  /// message), does not answer within the timeout, or `cancelled()` turns
  /// true; the servers already started are stopped first.
  void Start(const std::string& log_dir, const std::function<bool()>& cancelled = {});
  /// SIGTERM to each process group, SIGKILL after `grace_s`. Idempotent.
  void Stop(double grace_s = 10);

 private:
  struct Server {
    std::string command;  ///< {port} already substituted
    int port = 0;
    pid_t pid = -1;       ///< also the process group id
    std::string log_path;
    bool exited = false;
  };
  void WaitHealthy(Server& s, const std::function<bool()>& cancelled);
  std::vector<Server> servers_;
  double timeout_s_ = 600;
};

}  // namespace groundcap

#endif  // GROUNDCAP_TEACHER_LAUNCH_H_
