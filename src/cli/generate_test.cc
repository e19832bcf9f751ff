// `generate` at setup and at the end: inputs it cannot use (a pipe, a file it
// would overwrite), a spec path that is a directory, and the exit status when
// input lines were rejected. No teacher call is made: the teacher URL is a
// closed loopback port and no sample reaches it.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/commands.h"
#include "util/error.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using testing_util::ReadFile;
using testing_util::WriteFile;

class GenerateSetupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           (std::string("groundcap_generate_") +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    results_ = dir_ / "results";
    WriteFile(dir_ / "input.jsonl", "{\"image_path\": \"a.jpg\"}\n");  // no caption: rejected
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::string WriteSpec(const std::string& input) {
    std::string yaml = "results_dir: " + results_.string() +
                       "\nautolabel_type: image_grounding\nimage_grounding:\n  data:\n    input_jsonl: " +
                       input +
                       "\n  vlm:\n    backend: openai\n    preflight: false\n    openai:\n      base_url: http://127.0.0.1:9/v1\n"
                       "      model_name: qwen2.5-vl-7b-instruct\n      api_key: test-key\n";
    fs::path p = dir_ / "spec.yaml";
    WriteFile(p, yaml);
    return p.string();
  }

  /// CmdGenerate's SetupError message ("" when it returned), stderr swallowed.
  std::string SetupErrorOf(const std::string& spec, const std::vector<std::string>& overrides = {}) {
    ::testing::internal::CaptureStderr();
    std::string err;
    try {
      rc_ = CmdGenerate(spec, overrides);
    } catch (const SetupError& e) {
      err = e.what();
    }
    ::testing::internal::GetCapturedStderr();
    return err;
  }

  fs::path dir_, results_;
  int rc_ = -1;
};

TEST_F(GenerateSetupTest, RejectedLinesMakeTheExitStatusOne) {
  EXPECT_EQ(SetupErrorOf(WriteSpec((dir_ / "input.jsonl").string())), "");
  EXPECT_EQ(rc_, kExitSomeFailed) << "a rejected line is data that was not processed";
  EXPECT_NE(ReadFile(results_ / "rejects.jsonl").find("caption"), std::string::npos);
}

TEST_F(GenerateSetupTest, PipeInputIsRefusedSayingWhy) {
  fs::path fifo = dir_ / "input.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string err = SetupErrorOf(WriteSpec(fifo.string()));
  EXPECT_NE(err.find("image_grounding.data.input_jsonl"), std::string::npos) << err;
  EXPECT_NE(err.find("pipe"), std::string::npos) << err;
  EXPECT_NE(err.find("regular file"), std::string::npos) << err;
  EXPECT_EQ(err.find("no such file"), std::string::npos) << err;
}

TEST_F(GenerateSetupTest, DirectoryInputIsReportedAsADirectory) {
  std::string err = SetupErrorOf(WriteSpec(dir_.string()));
  EXPECT_NE(err.find("is a directory"), std::string::npos) << err;
}

TEST_F(GenerateSetupTest, InputThatIsTheFinalOutputIsRefused) {
  const std::string original = "{\"image_path\": \"a.jpg\", \"caption\": \"keep me\"}\n";
  WriteFile(results_ / "annotations.jsonl", original);
  std::string err = SetupErrorOf(WriteSpec((results_ / "annotations.jsonl").string()));
  EXPECT_NE(err.find("annotations.jsonl"), std::string::npos) << err;
  EXPECT_NE(err.find("same file"), std::string::npos) << err;
  EXPECT_EQ(ReadFile(results_ / "annotations.jsonl"), original) << "the input was overwritten";
}

TEST_F(GenerateSetupTest, InputThatIsAStepOutputThroughASymlinkIsRefused) {
  const std::string original = "{\"image_path\": \"a.jpg\", \"caption\": \"keep me\"}\n";
  fs::path step_out = results_ / "step_0_expression_extraction" / "annotations.jsonl";
  WriteFile(step_out, original);
  fs::create_symlink(step_out, dir_ / "linked.jsonl");
  std::string err = SetupErrorOf(WriteSpec((dir_ / "linked.jsonl").string()),
                                 {"image_grounding.workflow.steps=[\"0\"]"});
  EXPECT_NE(err.find("same file"), std::string::npos) << err;
  EXPECT_EQ(ReadFile(dir_ / "linked.jsonl"), original) << "the input was overwritten";
}

TEST_F(GenerateSetupTest, StepOneMayReadStepZeroOutput) {
  // Chaining is not a collision: step 1 alone reads the step-0 output.
  fs::path step_out = results_ / "step_0_expression_extraction" / "annotations.jsonl";
  WriteFile(step_out, "{\"image_path\": \"a.jpg\", \"status\": \"failed\"}\n");
  EXPECT_EQ(SetupErrorOf(WriteSpec((dir_ / "input.jsonl").string()),
                         {"image_grounding.workflow.steps=[\"1\"]"}),
            "");
  EXPECT_EQ(rc_, kExitSomeFailed);  // the one record was failed upstream
}

TEST_F(GenerateSetupTest, SpecPathThatIsADirectoryExitsTwoSayingSo) {
  const std::string cmd = std::string(GROUNDCAP_BINARY) + " generate -e " + dir_.string() + " > " +
                          (dir_ / "out.txt").string() + " 2>&1";
  int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), kExitSetupError);
  std::string out = ReadFile(dir_ / "out.txt");
  EXPECT_NE(out.find("is a directory"), std::string::npos) << out;
  EXPECT_EQ(out.find("results_dir"), std::string::npos) << out;
}

}  // namespace
}  // namespace groundcap
