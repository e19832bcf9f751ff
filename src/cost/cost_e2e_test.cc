// Cost control end to end with the simulated teacher on loopback: a pilot
// (--limit) resumed into the full run redoes nothing, a budget stops the run
// (exit 3) and a higher budget resumes it, spend persists across runs, the
// estimate recorded in run_summary.json matches the server's counts, and
// `plan` gives the numbers computed by hand for a tiny input.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cost/plan.h"
#include "grounding/grounding_prompts.h"
#include "image/image.h"
#include "sim/sim_server.h"
#include "sim/sim_vision.h"
#include "sim/synth.h"
#include "util/error.h"
#include "util/test_util.h"
#include "verify/verify_step.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using testing_util::ReadFile;
using testing_util::WriteFile;

int64_t LineCount(const fs::path& p) {
  std::string text = ReadFile(p);
  return static_cast<int64_t>(std::count(text.begin(), text.end(), '\n'));
}

class CostE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / (std::string("groundcap_cost_") +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
                                        std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  /// Synthetic scenes and the simulated teacher imitating Qwen2.5-VL.
  void StartSim(int count) {
    ASSERT_TRUE(WriteSynthDataset((dir_ / "data").string(), count, 7).has_value());
    SimOptions sim;
    sim.imitate = "qwen2_5_vl";
    server_ = std::make_unique<SimServer>(MakeSimResponder(sim));
    server_->Start("127.0.0.1", 0);
  }

  std::string Spec(const fs::path& results, const std::string& steps, const std::string& extra = "") {
    const std::string yaml =
        "results_dir: " + results.string() +
        "\nautolabel_type: image_grounding\nimage_grounding:\n"
        "  workflow:\n    max_workers: 1\n    steps: " + steps + "\n" + extra +
        "  data:\n    input_jsonl: " + (dir_ / "data" / "input.jsonl").string() +
        "\n    image_root: " + (dir_ / "data").string() +
        "\n  vlm:\n    backend: openai\n    openai:\n      base_url: " + server_->OpenAiBaseUrl() +
        "\n      model_name: Qwen/Qwen2.5-VL-7B-Instruct\n      api_key: k\n";
    const fs::path p = results.string() + ".yaml";
    WriteFile(p, yaml);
    return p.string();
  }

  /// `groundcap plan --json` of `spec` with `overrides`.
  nlohmann::json PlanJson(const std::string& spec, const std::vector<std::string>& overrides = {}) {
    PlanOptions po;
    po.spec_path = spec;
    po.overrides = overrides;
    po.json = true;
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(CmdPlan(po), kExitOk);
    return nlohmann::json::parse(::testing::internal::GetCapturedStdout());
  }

  int Generate(const std::string& spec, const std::vector<std::string>& overrides = {}, int64_t limit = -1) {
    ::testing::internal::CaptureStderr();
    GenerateFlags flags;
    flags.limit = limit;
    int rc = -1;
    try {
      rc = CmdGenerate(spec, overrides, flags);
    } catch (...) {
      ::testing::internal::GetCapturedStderr();
      throw;
    }
    stderr_ = ::testing::internal::GetCapturedStderr();
    return rc;
  }

  fs::path dir_;
  std::unique_ptr<SimServer> server_;
  std::string stderr_;
};

TEST_F(CostE2eTest, PilotThenFullRunRedoesNothing) {
  StartSim(6);
  const fs::path results = dir_ / "pilot";
  const std::string spec = Spec(results, "[\"0\", \"1\"]");
  ASSERT_EQ(Generate(spec, {}, 2), kExitOk) << stderr_;
  EXPECT_EQ(LineCount(results / "annotations.jsonl"), 2) << "the pilot's output holds its samples only";
  EXPECT_NE(stderr_.find("pilot"), std::string::npos) << stderr_;
  const int64_t pilot_requests = server_->requests();
  EXPECT_GE(pilot_requests, 4) << "two samples, two steps";

  ASSERT_EQ(Generate(spec), kExitOk) << stderr_;
  const int64_t continued = server_->requests();
  EXPECT_EQ(LineCount(results / "annotations.jsonl"), 6);
  // No sample was asked twice: every journal has its header and one line
  // per sample (a redone sample would append a second).
  EXPECT_EQ(LineCount(results / "step_0_expression_extraction" / ".ckpt" / "journal.jsonl"), 1 + 6);
  EXPECT_EQ(LineCount(results / "step_1_grounding" / ".ckpt" / "journal.jsonl"), 1 + 6);

  // The same job in one go costs exactly as many requests as pilot + rest.
  ASSERT_EQ(Generate(Spec(dir_ / "onego", "[\"0\", \"1\"]")), kExitOk) << stderr_;
  EXPECT_EQ(server_->requests() - continued, continued) << "pilot " << pilot_requests;
  // Spend is kept per results directory, over both runs.
  nlohmann::json spend = nlohmann::json::parse(ReadFile(results / "spend.json"));
  EXPECT_EQ(spend["requests"].get<int64_t>(), continued);
}

TEST_F(CostE2eTest, LimitCountsInputLinesNotOnlyNewOnes) {
  StartSim(4);
  const fs::path input = dir_ / "data" / "input.jsonl";
  WriteFile(input, "{\"image_path\": \"no_caption.png\"}\n" + ReadFile(input));  // line 1: rejected
  const fs::path results = dir_ / "lines";
  const std::string spec = Spec(results, "[\"0\"]");
  // Lines 1-3: one rejected, two samples.
  ASSERT_EQ(Generate(spec, {}, 3), kExitSomeFailed) << "a rejected line makes the status 1";
  EXPECT_EQ(server_->requests(), 2);
  // --limit 4 is the first four lines again, not four more: one new sample.
  ASSERT_EQ(Generate(spec, {}, 4), kExitSomeFailed);
  EXPECT_EQ(server_->requests(), 3);
  EXPECT_EQ(LineCount(results / "annotations.jsonl"), 3);
  ASSERT_EQ(Generate(spec), kExitSomeFailed);
  EXPECT_EQ(server_->requests(), 4) << "each of the four samples asked once";
  EXPECT_EQ(LineCount(results / "annotations.jsonl"), 4);
}

TEST_F(CostE2eTest, BudgetStopsWithExitThreeAndAHigherBudgetContinues) {
  StartSim(6);
  const fs::path results = dir_ / "budget";
  const std::string spec = Spec(results, "[\"0\"]");
  // Step 0 sends one request per sample: two fit in max_requests=2.
  ASSERT_EQ(Generate(spec, {"image_grounding.workflow.budget.max_requests=2"}), kExitStopped) << stderr_;
  EXPECT_EQ(server_->requests(), 2);
  EXPECT_NE(stderr_.find("max_requests"), std::string::npos) << stderr_;
  EXPECT_NE(stderr_.find("spent in this results_dir so far: requests 2"), std::string::npos) << stderr_;
  nlohmann::json summary = nlohmann::json::parse(ReadFile(results / "run_summary.json"));
  EXPECT_TRUE(summary["stopped"].get<bool>());
  EXPECT_NE(summary["stop_reason"].get<std::string>().find("budget"), std::string::npos);
  EXPECT_EQ(summary["cost"]["spend_total"]["requests"].get<int64_t>(), 2);

  // The same budget again: it is a budget for the directory, not per run.
  ASSERT_EQ(Generate(spec, {"image_grounding.workflow.budget.max_requests=2"}), kExitStopped) << stderr_;
  EXPECT_EQ(server_->requests(), 2) << "nothing more may be spent";

  ASSERT_EQ(Generate(spec, {"image_grounding.workflow.budget.max_requests=5"}), kExitStopped) << stderr_;
  EXPECT_EQ(server_->requests(), 5);
  ASSERT_EQ(Generate(spec, {"image_grounding.workflow.budget.max_requests=100"}), kExitOk) << stderr_;
  EXPECT_EQ(server_->requests(), 6) << "each sample asked once over four runs";
  EXPECT_EQ(LineCount(results / "annotations.jsonl"), 6);
  nlohmann::json spend = nlohmann::json::parse(ReadFile(results / "spend.json"));
  EXPECT_EQ(spend["requests"].get<int64_t>(), 6);
}

TEST_F(CostE2eTest, TokenBudgetStopsBeforeTheSampleThatWouldExceedIt) {
  StartSim(4);
  const fs::path results = dir_ / "tokens";
  const std::string spec = Spec(results, "[\"0\"]");
  ASSERT_EQ(Generate(spec, {"image_grounding.workflow.budget.max_input_tokens=1"}), kExitStopped) << stderr_;
  EXPECT_EQ(server_->requests(), 0) << "the first sample alone is estimated over the budget";
  EXPECT_NE(stderr_.find("max_input_tokens"), std::string::npos) << stderr_;
}

TEST_F(CostE2eTest, MaxCostWithoutAPriceIsASetupError) {
  StartSim(1);
  const std::string spec = Spec(dir_ / "noprice", "[\"0\"]");
  try {
    Generate(spec, {"image_grounding.workflow.budget.max_cost=1"});
    FAIL() << "expected a SetupError";
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("no price for model 'Qwen/Qwen2.5-VL-7B-Instruct'"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(server_->requests(), 0);
}

TEST_F(CostE2eTest, EstimateMatchesTheServerCountsForStepZero) {
  // Step 0's prompt is the template plus the caption, and the image goes as
  // prepared: the estimate's rules are the ones the server counts by.
  StartSim(5);
  const fs::path results = dir_ / "estimate";
  ASSERT_EQ(Generate(Spec(results, "[\"0\"]")), kExitOk) << stderr_;
  nlohmann::json cost = nlohmann::json::parse(ReadFile(results / "run_summary.json"))["cost"];
  EXPECT_EQ(cost["estimated"]["samples"].get<int64_t>(), 5);
  EXPECT_EQ(cost["estimated"]["requests"].get<int64_t>(), cost["actual"]["requests"].get<int64_t>());
  EXPECT_GT(cost["estimated"]["input_image_tokens"].get<int64_t>(), 0);
  EXPECT_EQ(cost["estimated"]["input_tokens"].get<int64_t>(), cost["actual"]["input_tokens"].get<int64_t>())
      << cost.dump(2);
  EXPECT_TRUE(cost["price"].is_null());
  EXPECT_NE(cost["price_note"].get<std::string>().find("no price"), std::string::npos);
}

TEST_F(CostE2eTest, PlanGivesHandComputedNumbersOnATinyInput) {
  StartSim(1);  // only for the base URL; plan sends nothing
  const fs::path img = dir_ / "img";
  fs::create_directories(img);
  auto write_jpeg = [&](const std::string& name, int w, int h) {
    Result<std::string> jpeg = EncodeImage(RgbImage::Filled(w, h, 128), "jpeg", 90);
    ASSERT_TRUE(jpeg.has_value());
    WriteFile(img / name, *jpeg);
  };
  write_jpeg("a.jpg", 640, 480);
  write_jpeg("b.jpg", 1000, 1000);
  WriteFile(dir_ / "data" / "input.jsonl",
            "{\"image_path\": \"" + (img / "a.jpg").string() + "\", \"caption\": \"a red circle\"}\n" +
                "{\"image_path\": \"" + (img / "b.jpg").string() +
                "\", \"caption\": \"two blue squares and a green triangle\"}\n" +
                "{\"image_path\": \"" + (img / "missing.jpg").string() + "\", \"caption\": \"gone\"}\n" +
                "{\"image_path\": \"x.jpg\"}\n");
  WriteFile(dir_ / "prices.yaml",
            "currency: EUR\nmodels:\n  Qwen2.5-VL-7B-Instruct:\n    input_per_million: 1.0\n"
            "    output_per_million: 2.0\n    date: \"2026-12-01\"\n");
  PlanOptions po;
  po.spec_path = Spec(dir_ / "plan", "[\"0\", \"1\", \"2\"]");
  po.prices = (dir_ / "prices.yaml").string();
  po.json = true;
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(CmdPlan(po), kExitOk);
  nlohmann::json plan = nlohmann::json::parse(::testing::internal::GetCapturedStdout());
  EXPECT_EQ(server_->requests(), 0) << "plan sends nothing";

  // Image tokens, Qwen2.5-VL (both sizes fit the default pixel budget of
  // 1003520 and are sent as they are): 640x480 -> 23*17 = 391;
  // 1000x1000 -> 36*36 = 1296; 391 + 1296 = 1687 per step.
  // Step 0 text: ceil((T+12)/4) + ceil((T+37)/4), T = the template's bytes.
  const int64_t t = static_cast<int64_t>(RenderExtractionPrompt(DefaultExtractionPrompt(), "").size());
  const nlohmann::json& s0 = plan["steps"][0];
  EXPECT_EQ(s0["name"], "expression_extraction");
  EXPECT_EQ(s0["records"].get<int64_t>(), 3);
  EXPECT_EQ(s0["rejected"].get<int64_t>(), 1) << "the line without a caption";
  EXPECT_EQ(s0["refused_images"].get<int64_t>(), 1) << "missing.jpg";
  EXPECT_EQ(s0["to_do"].get<int64_t>(), 3);
  EXPECT_EQ(s0["requests"].get<int64_t>(), 2);
  EXPECT_EQ(s0["input_image_tokens"].get<int64_t>(), 1687);
  EXPECT_EQ(s0["input_text_tokens"].get<int64_t>(), (t + 12 + 3) / 4 + (t + 37 + 3) / 4);
  // Output: 32 + 2*ceil(12/4) = 38 and 32 + 2*ceil(37/4) = 52.
  EXPECT_EQ(s0["output_tokens"].get<int64_t>(), 90);
  // Step 1 from the captions: 3 words -> 1 expression, 7 words -> 2; one
  // request each (8 per request); text 250 + ceil((12+8)/4) = 255 and
  // 250 + ceil((37+16)/4) = 264; output 40 per expression = 120.
  const nlohmann::json& s1 = plan["steps"][1];
  EXPECT_EQ(s1["name"], "grounding");
  EXPECT_EQ(s1["requests"].get<int64_t>(), 2);
  EXPECT_EQ(s1["input_image_tokens"].get<int64_t>(), 1687);
  EXPECT_EQ(s1["input_text_tokens"].get<int64_t>(), 519);
  EXPECT_EQ(s1["output_tokens"].get<int64_t>(), 120);
  // Step 2 (verification) from the captions: one crop per guessed
  // expression (1 + 2), boxes unknown, so each crop at the largest size
  // sent, max_crop_pixels = 448x448: 16*16 = 256 tokens; 4 crops per
  // request -> one request per sample; output 24 per crop = 72. Text: the
  // verification prompt for 1 crop of a 12-byte claim, and for 2 crops of
  // 37/2 = 18 bytes each.
  const nlohmann::json& s2 = plan["steps"][2];
  EXPECT_EQ(s2["name"], "verification");
  EXPECT_EQ(s2["requests"].get<int64_t>(), 2);
  EXPECT_EQ(s2["images"].get<int64_t>(), 3);
  EXPECT_EQ(s2["refused_images"].get<int64_t>(), 1) << "missing.jpg";
  EXPECT_EQ(s2["input_image_tokens"].get<int64_t>(), 3 * 256);
  const VerifyItem claim12{{1000, 1000, 1000, 1000}, std::string(12, 'x')};
  const VerifyItem claim18{{1000, 1000, 1000, 1000}, std::string(18, 'x')};
  EXPECT_EQ(s2["input_text_tokens"].get<int64_t>(),
            static_cast<int64_t>((VerifyPrompt({claim12}).size() + 3) / 4 + (VerifyPrompt({claim18, claim18}).size() + 3) / 4));
  EXPECT_EQ(s2["output_tokens"].get<int64_t>(), 72);
  // Cost: input (2*1687 + s0 text + 519 + s2 in) at 1 EUR/M, output 282 at 2 EUR/M.
  const int64_t in = 2 * 1687 + s0["input_text_tokens"].get<int64_t>() + 519 + s2["input_tokens"].get<int64_t>();
  EXPECT_NEAR(plan["total"]["cost"].get<double>(), in * 1.0 / 1e6 + 282 * 2.0 / 1e6, 1e-12);
  EXPECT_EQ(plan["price"]["currency"], "EUR");
}

TEST_F(CostE2eTest, VerificationPlanMatchesTheServerCounts) {
  // Steps 0 and 1 find the boxes; then plan estimates step 2 from them and
  // step 2 runs: the requests are exact, the image tokens too (each crop's
  // size as Begin prepares it), and the text is over by at most the digits
  // of the boxes (the estimate writes each as 1000,1000,1000,1000).
  StartSim(6);
  const fs::path results = dir_ / "verify";
  const std::string spec = Spec(results, "[\"0\", \"1\"]");
  ASSERT_EQ(Generate(spec), kExitOk) << stderr_;
  // Small crops go at their own size (no upscaling to 224x224): each one's
  // tokens then depend on the box, the margin and the image's edges.
  const std::vector<std::string> step2 = {"image_grounding.workflow.steps=[\"2\"]",
                                          "image_grounding.verify.min_crop_pixels=64"};
  const nlohmann::json plan = PlanJson(spec, step2);
  const nlohmann::json& est = plan["steps"][0];
  ASSERT_EQ(est["name"], "verification");
  ASSERT_GT(est["images"].get<int64_t>(), 6) << "the boxes step 1 found";

  ASSERT_EQ(Generate(spec, step2), kExitOk) << stderr_;
  nlohmann::json actual = nlohmann::json::parse(ReadFile(results / "run_summary.json"))["cost"]["actual"];
  EXPECT_EQ(est["requests"].get<int64_t>(), actual["requests"].get<int64_t>());
  const int64_t over = est["input_tokens"].get<int64_t>() - actual["input_tokens"].get<int64_t>();
  EXPECT_GE(over, 0) << plan.dump(2) << actual.dump(2);
  EXPECT_LE(over, 3 * est["images"].get<int64_t>() + est["requests"].get<int64_t>()) << plan.dump(2) << actual.dump(2);
}

TEST_F(CostE2eTest, ShardPlansAddUpToTheWholePlanAndFollowTheShardsRuns) {
  StartSim(12);
  const fs::path results = dir_ / "sharded";
  const std::string spec = Spec(results, "[\"0\"]");
  auto plan_of = [&](const std::vector<std::string>& overrides) { return PlanJson(spec, overrides); };
  const nlohmann::json whole = plan_of({});
  const nlohmann::json a = plan_of({"image_grounding.workflow.shard=0/2"});
  const nlohmann::json b = plan_of({"image_grounding.workflow.shard=1/2"});
  EXPECT_EQ(a["shard"], "0/2");
  EXPECT_FALSE(fs::exists(results)) << "plan creates nothing";
  for (const char* key : {"to_do", "requests", "input_tokens", "output_tokens"}) {
    EXPECT_EQ(a["steps"][0][key].get<int64_t>() + b["steps"][0][key].get<int64_t>(),
              whole["steps"][0][key].get<int64_t>()) << key;
  }
  EXPECT_GT(a["steps"][0]["to_do"].get<int64_t>(), 0);
  EXPECT_GT(b["steps"][0]["to_do"].get<int64_t>(), 0);

  // After shard 0 ran, its plan has nothing left and shard 1's is unchanged.
  ASSERT_EQ(Generate(spec, {"image_grounding.workflow.shard=0/2"}), kExitOk) << stderr_;
  EXPECT_EQ(server_->requests(), a["steps"][0]["requests"].get<int64_t>());
  const nlohmann::json a_after = plan_of({"image_grounding.workflow.shard=0/2"});
  EXPECT_EQ(a_after["steps"][0]["to_do"].get<int64_t>(), 0);
  EXPECT_EQ(a_after["steps"][0]["done"].get<int64_t>(), a["steps"][0]["to_do"].get<int64_t>());
  EXPECT_EQ(plan_of({"image_grounding.workflow.shard=1/2"})["steps"][0]["to_do"], b["steps"][0]["to_do"]);
}

TEST_F(CostE2eTest, PlanAfterAPilotCountsOnlyWhatIsLeft) {
  StartSim(5);
  const fs::path results = dir_ / "pilot_plan";
  const std::string spec = Spec(results, "[\"0\"]");
  ASSERT_EQ(Generate(spec, {}, 2), kExitOk) << stderr_;
  PlanOptions po;
  po.spec_path = spec;
  po.json = true;
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(CmdPlan(po), kExitOk);
  nlohmann::json plan = nlohmann::json::parse(::testing::internal::GetCapturedStdout());
  EXPECT_EQ(plan["steps"][0]["done"].get<int64_t>(), 2);
  EXPECT_EQ(plan["steps"][0]["to_do"].get<int64_t>(), 3);
  EXPECT_EQ(plan["steps"][0]["requests"].get<int64_t>(), 3);
  EXPECT_EQ(plan["spend_so_far"]["requests"].get<int64_t>(), 2);

  // The text report says whether spent + planned fits the budget.
  po.json = false;
  po.overrides = {"image_grounding.workflow.budget.max_requests=4"};
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(CmdPlan(po), kExitOk);
  std::string text = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(text.find("budget max_requests = 4: spent 2 + planned 3 EXCEEDS"), std::string::npos) << text;
  po.overrides = {"image_grounding.workflow.budget.max_requests=5"};
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(CmdPlan(po), kExitOk);
  text = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(text.find("budget max_requests = 5: spent 2 + planned 3 fits"), std::string::npos) << text;
}

}  // namespace
}  // namespace groundcap
