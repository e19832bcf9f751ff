#include "util/run_process.h"

#include <sys/wait.h>

#include <gtest/gtest.h>

#include "util/test_util.h"

namespace groundcap {
namespace {

TEST(RunProcessTest, CapturesStdoutAndTheExitStatus) {
  const std::filesystem::path dir = testing_util::UniqueTempDir("groundcap_run_process");
  std::filesystem::create_directories(dir);
  const std::string out = (dir / "out.txt").string();
  ProcessRun ok = RunProcess({"sh", "-c", "echo to-stdout; echo to-stderr >&2"}, out);
  EXPECT_TRUE(ok.exited_ok());
  EXPECT_EQ(testing_util::ReadFile(out), "to-stdout\n");
  EXPECT_GT(ok.peak_rss, 0);

  ProcessRun three = RunProcess({"sh", "-c", "exit 3"});
  EXPECT_FALSE(three.exited_ok());
  ASSERT_TRUE(WIFEXITED(three.status));
  EXPECT_EQ(WEXITSTATUS(three.status), 3);

  ProcessRun missing = RunProcess({"groundcap-no-such-program"});
  ASSERT_TRUE(WIFEXITED(missing.status));
  EXPECT_EQ(WEXITSTATUS(missing.status), 127);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace groundcap
