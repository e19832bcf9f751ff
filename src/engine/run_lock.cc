#include "engine/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include <fmt/core.h>

#include "util/text_util.h"

namespace groundcap {
namespace {

std::string LockPath(const std::string& dir) { return dir + "/LOCK"; }

std::string HostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) return "unknown host";
  return host;
}

}  // namespace

RunLock RunLock::Acquire(const std::string& dir) {
  const std::string path = LockPath(dir);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw SetupError(fmt::format("cannot open the run lock {}: {}", path, std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      throw SetupError(fmt::format(
          "results_dir {} is in use by another groundcap run ({}); wait for it to end or use "
          "another results_dir",
          dir, Holder(dir)));
    }
    throw SetupError(fmt::format("cannot lock {}: {}", path, std::strerror(err)));
  }
  // Ours now: record who we are for the message a second process prints.
  const std::string who = fmt::format("pid {} on {}\n", ::getpid(), HostName());
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, who.data(), who.size(), 0) < 0) {
    // The lock holds without the note; the message just says less.
  }
  return RunLock(fd);
}

std::string RunLock::Holder(const std::string& dir) {
  std::ifstream in(LockPath(dir));
  std::stringstream text;
  text << in.rdbuf();
  std::string who(Trim(text.str()));
  return who.empty() ? "holder unknown" : who;
}

RunLock::RunLock(RunLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace groundcap
