// One writer per results directory: a second holder is refused with the
// first one's pid and host, and a holder killed with SIGKILL leaves no stale
// lock.
#include "engine/run_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace groundcap {
namespace {

namespace fs = std::filesystem;

class RunLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("groundcap_lock_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

std::string ErrorOfAcquire(const std::string& dir) {
  try {
    RunLock::Acquire(dir);
  } catch (const SetupError& e) {
    return e.what();
  }
  return "";
}

TEST_F(RunLockTest, SecondHolderIsRefusedWithTheFirstOnesPid) {
  {
    RunLock first = RunLock::Acquire(dir_.string());
    const std::string err = ErrorOfAcquire(dir_.string());
    EXPECT_NE(err.find("is in use by another groundcap run (pid " + std::to_string(::getpid()) + " on "),
              std::string::npos)
        << err;
    RunLock moved = std::move(first);  // still held after a move
    EXPECT_NE(ErrorOfAcquire(dir_.string()), "");
  }
  EXPECT_EQ(ErrorOfAcquire(dir_.string()), "") << "released when the holder is gone";
}

TEST_F(RunLockTest, HolderKilledWithSigkillLeavesNoStaleLock) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    RunLock held = RunLock::Acquire(dir_.string());
    (void)!::write(ready[1], "x", 1);
    for (;;) ::pause();
  }
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  const std::string err = ErrorOfAcquire(dir_.string());
  EXPECT_NE(err.find("pid " + std::to_string(child)), std::string::npos) << err;
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(ErrorOfAcquire(dir_.string()), "");
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_F(RunLockTest, SecondGenerateOnALockedDirectoryExitsTwoNamingTheHolder) {
  const fs::path results = dir_ / "results";
  fs::create_directories(results);
  std::ofstream(dir_ / "input.jsonl") << "{\"image_path\": \"a.jpg\", \"caption\": \"a dog\"}\n";
  std::ofstream(dir_ / "spec.yaml")
      << "results_dir: " << results.string() << "\nautolabel_type: image_grounding\n"
      << "image_grounding:\n  data:\n    input_jsonl: " << (dir_ / "input.jsonl").string()
      << "\n  vlm:\n    backend: openai\n    openai:\n      base_url: http://127.0.0.1:9/v1\n"
      << "      model_name: m\n";
  RunLock held = RunLock::Acquire(results.string());
  const std::string cmd = std::string(GROUNDCAP_BINARY) + " generate -e " + (dir_ / "spec.yaml").string() + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int rc = ::pclose(p);
  ASSERT_TRUE(WIFEXITED(rc)) << out;
  EXPECT_EQ(WEXITSTATUS(rc), 2) << out;
  EXPECT_NE(out.find("in use by another groundcap run (pid " + std::to_string(::getpid())), std::string::npos)
      << out;
  EXPECT_FALSE(fs::exists(results / "spec.yaml")) << "nothing in results_dir was touched";
}

TEST_F(RunLockTest, UnwritableDirectoryIsASetupErrorNamingTheFile) {
  const std::string err = ErrorOfAcquire((dir_ / "missing").string());
  EXPECT_NE(err.find("cannot open the run lock " + (dir_ / "missing" / "LOCK").string()), std::string::npos)
      << err;
}

}  // namespace
}  // namespace groundcap
