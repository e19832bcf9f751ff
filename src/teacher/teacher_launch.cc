#include "teacher/teacher_launch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <fmt/core.h>

#include "teacher/http_get.h"
#include "util/error.h"
#include "util/log.h"

namespace groundcap {

namespace {

double NowS() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// A port nothing listens on now (bound to 0, read back, released). Another
/// process could take it before the server binds it; the health wait then
/// times out or the server exits, both reported.
int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw SetupError("launch: cannot create a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw SetupError("launch: cannot find a free loopback port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// Polls until no process of group `pgid` is left, or `deadline` (NowS())
/// passes. True when the group is gone. (A child reparented away is reaped
/// by its new parent; one still ours is reaped here.)
bool GroupGoneBy(pid_t pgid, double deadline) {
  while (::kill(-pgid, 0) == 0) {
    while (::waitpid(-pgid, nullptr, WNOHANG) > 0) {
    }
    if (NowS() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::string DescribeExit(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {}", WTERMSIG(status));
  return "stopped";
}

}  // namespace

std::string SubstitutePort(const std::string& command, int port) {
  std::string out;
  const std::string token = "{port}";
  size_t from = 0;
  for (size_t at; (at = command.find(token, from)) != std::string::npos; from = at + token.size())
    out += command.substr(from, at - from) + std::to_string(port);
  return out + command.substr(from);
}

std::string FileTail(const std::string& path, int max_lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > 8192 ? size - 8192 : 0;  // the tail is enough
  in.seekg(from);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && text.back() == '\n') text.pop_back();
  // Walk back over max_lines line breaks; the text after the last one kept.
  size_t start = text.size();
  for (int n = 0; n < max_lines; ++n) {
    size_t nl = start == 0 ? std::string::npos : text.rfind('\n', start - 1);
    if (nl == std::string::npos) return text;
    start = nl;
  }
  return text.substr(start + 1);
}

LaunchedTeachers LaunchedTeachers::Plan(const Spec& spec, const std::string& pipeline) {
  const std::string key = pipeline + ".vlm.openai.launch";
  const nlohmann::json& v = spec.Json(key);
  std::vector<std::string> commands;
  auto add = [&](const nlohmann::json& item, const std::string& where) {
    if (!item.is_string() || item.get<std::string>().find_first_not_of(" \t") == std::string::npos)
      throw SetupError(fmt::format("{}: expected a command line, got {}", where, item.dump()));
    if (item.get<std::string>().find("{port}") == std::string::npos)
      throw SetupError(fmt::format("{}: the command must contain {{port}} (replaced by a free loopback port the "
                                   "server must listen on), got \"{}\"",
                                   where, item.get<std::string>()));
    commands.push_back(item.get<std::string>());
  };
  if (v.is_string() && !v.get<std::string>().empty()) {
    add(v, key);
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) add(v[i], fmt::format("{}[{}]", key, i));
  } else if (!v.is_null() && !v.is_string()) {
    throw SetupError(fmt::format("{}: expected a command or a list of commands, got {}", key, v.dump()));
  }
  if (!commands.empty() && spec.Str(pipeline + ".vlm.backend") != "openai")
    throw SetupError(fmt::format("{} needs {}.vlm.backend=openai (launched servers speak the OpenAI API)", key,
                                 pipeline));
  return LaunchedTeachers(std::move(commands), spec.Float(pipeline + ".vlm.openai.launch_timeout_s"));
}

LaunchedTeachers::LaunchedTeachers(std::vector<std::string> commands, double timeout_s) : timeout_s_(timeout_s) {
  for (const std::string& c : commands) {
    Server s;
    s.port = FreeLoopbackPort();
    s.command = SubstitutePort(c, s.port);
    servers_.push_back(std::move(s));
  }
}

LaunchedTeachers::LaunchedTeachers(LaunchedTeachers&& other) noexcept
    : servers_(std::move(other.servers_)), timeout_s_(other.timeout_s_) {
  other.servers_.clear();
}

LaunchedTeachers::~LaunchedTeachers() { Stop(); }

std::vector<std::string> LaunchedTeachers::Urls() const {
  std::vector<std::string> out;
  for (const Server& s : servers_) out.push_back(fmt::format("http://127.0.0.1:{}/v1", s.port));
  return out;
}

void LaunchedTeachers::Start(const std::string& log_dir, const std::function<bool()>& cancelled) {
  try {
    for (size_t k = 0; k < servers_.size(); ++k) {
      Server& s = servers_[k];
      s.log_path = fmt::format("{}/teacher-{}.log", log_dir, k);
      int log_fd = ::open(s.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (log_fd < 0) throw SetupError(fmt::format("launch: cannot create {}", s.log_path));
      int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      GC_INFO("launching teacher {} on port {}: {} (log {})", k, s.port, s.command, s.log_path);
      const pid_t parent = ::getpid();
      pid_t pid = ::fork();
      if (pid == 0) {
        // Child: only async-signal-safe calls until exec.
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);   // the run died without stopping it
        if (::getppid() != parent) ::_exit(127);
        ::dup2(log_fd, STDOUT_FILENO);
        ::dup2(log_fd, STDERR_FILENO);
        if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
        ::execl("/bin/sh", "sh", "-c", s.command.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
      }
      ::close(log_fd);
      if (null_fd >= 0) ::close(null_fd);
      if (pid < 0) throw SetupError(fmt::format("launch: cannot start \"{}\"", s.command));
      ::setpgid(pid, pid);  // also here: no window in which a signal misses the group
      s.pid = pid;
    }
    for (Server& s : servers_) WaitHealthy(s, cancelled);
  } catch (...) {
    Stop(3);
    throw;
  }
}

void LaunchedTeachers::WaitHealthy(Server& s, const std::function<bool()>& cancelled) {
  const double deadline = NowS() + timeout_s_;
  const std::string root = fmt::format("http://127.0.0.1:{}", s.port);
  while (true) {
    int status = 0;
    if (::waitpid(s.pid, &status, WNOHANG) == s.pid) {
      s.exited = true;
      throw SetupError(fmt::format("launched teacher \"{}\" {} before it answered {}/health; last lines of {}:\n{}",
                                   s.command, DescribeExit(status), root, s.log_path, FileTail(s.log_path, 20)));
    }
    const long health = HttpGet(root + "/health", "", 2).status;
    if (health >= 200 && health < 300) return;
    // Servers without /health (or that route it elsewhere): the model list.
    if (health == 404) {
      const long models = HttpGet(root + "/v1/models", "", 2).status;
      if (models >= 200 && models < 300) return;
    }
    if (cancelled && cancelled()) throw SetupError("stopped by a signal while waiting for launched teachers");
    if (NowS() > deadline)
      throw SetupError(fmt::format(
          "launched teacher \"{}\" did not answer {}/health within {}s (launch_timeout_s); last lines of {}:\n{}",
          s.command, root, timeout_s_, s.log_path, FileTail(s.log_path, 20)));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void LaunchedTeachers::Stop(double grace_s) {
  for (Server& s : servers_) {
    if (s.pid > 0) ::kill(-s.pid, SIGTERM);
  }
  const double deadline = NowS() + grace_s;
  for (Server& s : servers_) {
    if (s.pid <= 0) continue;
    while (!s.exited) {
      int status = 0;
      pid_t r = ::waitpid(s.pid, &status, WNOHANG);
      if (r == s.pid || r < 0) {
        s.exited = true;
        break;
      }
      if (NowS() > deadline) {
        GC_WARN("launched teacher on port {} ignored SIGTERM for {}s: killing it", s.port, grace_s);
        ::kill(-s.pid, SIGKILL);
        ::waitpid(s.pid, &status, 0);
        s.exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // The shell may have been the leader while the server runs as its child:
    // wait until nothing of the group is left (its port is then closed),
    // killing what outlives the grace period.
    if (!GroupGoneBy(s.pid, deadline)) {
      ::kill(-s.pid, SIGKILL);
      GroupGoneBy(s.pid, NowS() + 2);
    }
    s.pid = -1;
  }
}

}  // namespace groundcap
