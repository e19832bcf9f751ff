// `generate` checks the teacher before the first paid request: an unknown
// model or a rejected key is a setup error (exit 2) naming what is wrong,
// with no generation request sent; a server without listings only warns.
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "sim/sim_server.h"
#include "util/error.h"
#include "cli/generate_test_util.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using testing_util::NoExpressions;
using testing_util::WriteFile;

constexpr const char* kSecret = "sk-PREFLIGHT-GEN-77aa";

class GeneratePreflightTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("groundcap_preflight");
    testing_util::WriteWallDataset(dir_, 1);
    WriteFile(dir_ / "spec.yaml",
              "results_dir: " + (dir_ / "results").string() +
                  "\nautolabel_type: image_grounding\nimage_grounding:\n  data:\n    input_jsonl: " +
                  (dir_ / "input.jsonl").string() + "\n    image_root: " + (dir_ / "images").string() +
                  "\n  quality:\n    block: []\n  vlm:\n    backend: openai\n    openai:\n      api_key: " +
                  kSecret + "\n");
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  /// Runs generate; returns the SetupError text ("" = no setup error) and
  /// sets `rc` when it returned.
  std::string Run(const SimServer& s, const std::string& model, int* rc) {
    ::testing::internal::CaptureStderr();
    std::string error;
    try {
      *rc = CmdGenerate((dir_ / "spec.yaml").string(),
                        {"image_grounding.vlm.openai.base_url=" + s.OpenAiBaseUrl(),
                         "image_grounding.vlm.openai.model_name=" + model});
    } catch (const SetupError& e) {
      error = e.what();
    }
    stderr_ = ::testing::internal::GetCapturedStderr();
    return error;
  }
  fs::path dir_;
  std::string stderr_;
};

TEST_F(GeneratePreflightTest, UnknownModelStopsBeforeAnyRequest) {
  FaultConfig f;
  f.models = {"Qwen/Qwen2.5-VL-7B-Instruct", "other"};
  SimServer s(NoExpressions, f);
  s.Start();
  int rc = -1;
  const std::string error = Run(s, "Qwen2.5-VL-7B-Instruct", &rc);
  EXPECT_NE(error.find("does not serve model \"Qwen2.5-VL-7B-Instruct\""), std::string::npos) << error;
  EXPECT_NE(error.find("it serves: Qwen/Qwen2.5-VL-7B-Instruct, other"), std::string::npos) << error;
  EXPECT_EQ(s.requests(), 0);
  EXPECT_FALSE(fs::exists(dir_ / "results/step_0_expression_extraction"));

  EXPECT_EQ(Run(s, "Qwen/Qwen2.5-VL-7B-Instruct", &rc), "");
  EXPECT_EQ(rc, kExitOk);
  EXPECT_EQ(s.requests(), 1);
}

TEST_F(GeneratePreflightTest, WrongKeyStopsAndIsNotPrinted) {
  FaultConfig f;
  f.models = {"m"};
  f.require_api_key = "another-key";
  SimServer s(NoExpressions, f);
  s.Start();
  int rc = -1;
  const std::string error = Run(s, "m", &rc);
  EXPECT_NE(error.find("rejected the API key (HTTP 401"), std::string::npos) << error;
  EXPECT_EQ(error.find(kSecret), std::string::npos);
  EXPECT_EQ(stderr_.find(kSecret), std::string::npos);
  EXPECT_EQ(s.requests(), 0);
}

TEST_F(GeneratePreflightTest, ServerWithoutListingWarnsAndRuns) {
  FaultConfig f;
  f.listing = false;
  SimServer s(NoExpressions, f);
  s.Start();
  int rc = -1;
  EXPECT_EQ(Run(s, "m", &rc), "");
  EXPECT_EQ(rc, kExitOk);
  EXPECT_NE(stderr_.find("does not list models (HTTP 404)"), std::string::npos) << stderr_;
  nlohmann::json summary = nlohmann::json::parse(testing_util::ReadFile(dir_ / "results/run_summary.json"));
  const nlohmann::json& t = summary["teacher"];
  EXPECT_EQ(t["tokens_out_billed"].get<int64_t>(),
            t["tokens_out"].get<int64_t>() + t["tokens_thinking"].get<int64_t>());
}

}  // namespace
}  // namespace groundcap
