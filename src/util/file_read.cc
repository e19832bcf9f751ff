#include "util/file_read.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/core.h>

namespace groundcap {

namespace {

/// The phrase for a stat result that is not a regular file, or nullopt.
std::optional<std::string> TypeProblem(const struct stat& st) {
  if (S_ISREG(st.st_mode)) return std::nullopt;
  if (S_ISDIR(st.st_mode)) return std::string("is a directory");
  const char* what = "a special file";
  if (S_ISFIFO(st.st_mode)) what = "a pipe (FIFO)";
  else if (S_ISCHR(st.st_mode)) what = "a character device";
  else if (S_ISBLK(st.st_mode)) what = "a block device";
  else if (S_ISSOCK(st.st_mode)) what = "a socket";
  return fmt::format("is {}, not a regular file", what);
}

std::string OpenProblem(int err) {
  if (err == ENOENT) return "does not exist";
  return fmt::format("cannot be read: {}", std::strerror(err));
}

}  // namespace

std::optional<std::string> NotARegularFile(const std::string& path) {
  if (path.find('\0') != std::string::npos) return std::string("contains a NUL character");
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return OpenProblem(errno);
  return TypeProblem(st);
}

Result<std::string> ReadRegularFile(const std::string& path, int64_t max_bytes) {
  if (path.find('\0') != std::string::npos) return Fail(ErrorKind::kInvalidInput, "contains a NUL character");
  // O_NONBLOCK: opening a FIFO without a writer would otherwise block.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Fail(ErrorKind::kInvalidInput, OpenProblem(errno));
  struct stat st;
  std::optional<std::string> problem;
  if (::fstat(fd, &st) != 0) {
    problem = OpenProblem(errno);
  } else if ((problem = TypeProblem(st))) {
  } else if (st.st_size > max_bytes) {
    problem = fmt::format("is larger than the limit of {} bytes ({} bytes)", max_bytes,
                          static_cast<int64_t>(st.st_size));
  }
  std::string text;
  while (!problem) {
    // One byte past the limit tells a file that grew since fstat.
    char buf[65536];
    size_t want = static_cast<size_t>(std::min<int64_t>(sizeof buf, max_bytes + 1 - static_cast<int64_t>(text.size())));
    ssize_t n = ::read(fd, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      problem = OpenProblem(errno);
    } else if (n == 0) {
      break;
    } else {
      text.append(buf, static_cast<size_t>(n));
      if (static_cast<int64_t>(text.size()) > max_bytes)
        problem = fmt::format("is larger than the limit of {} bytes", max_bytes);
    }
  }
  ::close(fd);
  if (problem) return Fail(ErrorKind::kInvalidInput, *problem);
  return text;
}

}  // namespace groundcap
