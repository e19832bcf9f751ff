// Small helpers shared by the tests (header-only; tests only).
#ifndef GROUNDCAP_TEST_UTIL_H_
#define GROUNDCAP_TEST_UTIL_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

/// Skips the current test (GoogleTest's skip: counted as skipped, not passed)
/// when a fixture from the workspace's shared folder is absent, as in a plain
/// clone of the repository. `dir` is a std::filesystem::path.
#define GROUNDCAP_REQUIRE_SHARED_FIXTURE(dir)                                            \
  do {                                                                                   \
    if (!std::filesystem::exists(dir)) {                                                 \
      GTEST_SKIP() << "shared fixture missing: " << (dir).string()                       \
                   << " (present in CI, absent in a plain clone; the generated-image "   \
                      "parity tests still run)";                                         \
    }                                                                                    \
  } while (0)

namespace groundcap::testing_util {

/// The whole file as bytes ("" when it cannot be read).
inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Writes `text`, creating parent directories.
inline void WriteFile(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

/// Every non-empty line of a JSONL file, parsed.
template <class J = nlohmann::ordered_json>
std::vector<J> ReadJsonl(const std::filesystem::path& p) {
  std::vector<J> out;
  std::istringstream in(ReadFile(p));
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(J::parse(line));
  }
  return out;
}

/// A fresh path under the system temp folder, unique to this process, so
/// test runs in parallel checkouts never share (or delete) a directory.
inline std::filesystem::path UniqueTempDir(const std::string& name) {
  return std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
}

/// A loopback port nothing listens on (bound, read, closed): connecting to it
/// is refused at once, as to a teacher that is down.
inline int DeadPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace groundcap::testing_util

#endif  // GROUNDCAP_TEST_UTIL_H_
