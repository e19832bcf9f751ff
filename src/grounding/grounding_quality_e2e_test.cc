// Quality flags through `generate`: a teacher that answers schema-valid
// garbage yields no ok sample, flags are counted in run_summary.json, and a
// new blocking list or threshold re-judges the records without asking the
// teacher again.
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <filesystem>
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "image/image.h"
#include "sim/sim_server.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using testing_util::ReadFile;
using testing_util::ReadJsonl;
using testing_util::WriteFile;

/// Random words: what a random-weight model "describes".
std::string Gibberish(std::mt19937& rng, int words) {
  static const char* kSyllables[] = {"ka", "lo", "mi", "zu", "re", "ta", "vo", "ne", "shi", "pa"};
  std::string out;
  for (int w = 0; w < words; ++w) {
    if (w) out += ' ';
    for (int s = 0; s < 2 + static_cast<int>(rng() % 3); ++s) out += kSyllables[rng() % 10];
  }
  return out;
}

class GroundingQualityE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("groundcap_quality_e2e_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    RgbImage img;
    img.width = 320;
    img.height = 240;
    img.pixels.assign(320 * 240 * 3, 90);
    Result<std::string> jpeg = EncodeImage(img, "jpeg", 90);
    ASSERT_TRUE(jpeg);
    WriteFile(dir_ / "a.jpg", *jpeg);
    std::string input;
    for (const char* caption : {"a dog on the grass", "two cats on a sofa", "a red car near a tree",
                                "in this image we can see a man with a hat", "a bowl of apples",
                                "three birds on a wire"}) {
      input += Json{{"image_path", "a.jpg"}, {"caption", caption}}.dump() + "\n";
    }
    WriteFile(dir_ / "input.jsonl", input);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::string Spec(const SimServer& server) {
    const std::string yaml = "results_dir: " + (dir_ / "results").string() +
                             "\nautolabel_type: image_grounding\nimage_grounding:\n  data:\n"
                             "    input_jsonl: " + (dir_ / "input.jsonl").string() +
                             "\n    image_root: " + dir_.string() +
                             "\n  vlm:\n    backend: openai\n    openai:\n      base_url: " +
                             server.OpenAiBaseUrl() + "\n      model_name: random-weights\n";
    WriteFile(dir_ / "spec.yaml", yaml);
    return (dir_ / "spec.yaml").string();
  }

  /// Runs generate with its log captured; the capture ends even when
  /// generate throws (an open capture would abort the next test that starts one).
  int Run(const std::string& spec, const std::vector<std::string>& overrides) {
    ::testing::internal::CaptureStderr();
    try {
      int rc = CmdGenerate(spec, overrides);
      ::testing::internal::GetCapturedStderr();
      return rc;
    } catch (...) {
      ::testing::internal::GetCapturedStderr();
      throw;
    }
  }

  fs::path dir_;
};

TEST_F(GroundingQualityE2eTest, GarbageTeacherYieldsNoOkSampleAndFlagsAreRejudgedForFree) {
  std::mt19937 rng(7);
  std::mutex mu;
  std::atomic<int> extraction{0}, grounding{0};
  SimServer server([&](const SimRequest& req) {
    std::lock_guard<std::mutex> lock(mu);
    SimReply r;
    if (req.prompt.find("\nCaption: ") != std::string::npos) {
      ++extraction;
      Json exprs = Json::array();
      for (int k = 0; k < 3; ++k) {
        exprs.push_back({{"text", Gibberish(rng, 2)}, {"noun_chunk", Gibberish(rng, 1)}});
      }
      r.text = Json{{"cleaned_caption", Gibberish(rng, 8)}, {"expressions", exprs}}.dump();
    } else {
      ++grounding;
      r.text = "[]";
    }
    return r;
  });
  server.Start();
  const std::string spec = Spec(server);
  const fs::path results = dir_ / "results";

  EXPECT_EQ(Run(spec, {}), kExitSomeFailed);
  std::vector<Json> out = ReadJsonl(results / "annotations.jsonl");
  ASSERT_EQ(out.size(), 6u);
  for (const Json& r : out) {
    EXPECT_EQ(r["status"], "flagged") << r.dump();
    EXPECT_NE(r["flags"].dump().find("caption_rewritten"), std::string::npos) << r.dump();
    EXPECT_NE(r["flags"].dump().find("span_not_found"), std::string::npos) << r.dump();
  }
  EXPECT_EQ(extraction.load(), 6);
  EXPECT_EQ(grounding.load(), 0) << "flagged step-0 samples are not grounded";
  Json summary = Json::parse(ReadFile(results / "run_summary.json"));
  EXPECT_EQ(summary["flagged"], 6);
  EXPECT_EQ(summary["succeeded"], 0);
  EXPECT_EQ(summary["flags_by_name"]["caption_rewritten"], 6);
  // Flags do not fail the exit status when the user says so.
  EXPECT_EQ(Run(spec, {"image_grounding.quality.flagged_exit_nonzero=false"}), kExitOk);
  EXPECT_EQ(extraction.load(), 6);

  // Nothing blocks: step 0 is re-judged, not re-asked; its records go on to
  // grounding with their flags listed, and the final records are ok.
  EXPECT_EQ(Run(spec, {"image_grounding.quality.block=[]"}), kExitOk);
  EXPECT_EQ(extraction.load(), 6);
  EXPECT_EQ(grounding.load(), 6);
  out = ReadJsonl(results / "annotations.jsonl");
  for (const Json& r : out) {
    EXPECT_EQ(r["status"], "ok") << r.dump();
    EXPECT_FALSE(r["flags"][0]["blocking"].get<bool>());
  }
  // Back to the default: the same records are flagged again, at no cost.
  EXPECT_EQ(Run(spec, {}), kExitSomeFailed);
  EXPECT_EQ(extraction.load(), 6);
  EXPECT_EQ(grounding.load(), 6);
  for (const Json& r : ReadJsonl(results / "annotations.jsonl")) EXPECT_EQ(r["status"], "flagged");
}

TEST_F(GroundingQualityE2eTest, UnknownFlagNameIsASetupError) {
  SimServer server([](const SimRequest&) { return SimReply{}; });
  server.Start();
  const std::string spec = Spec(server);
  try {
    Run(spec, {"image_grounding.quality.block=[\"caption_rewriten\"]"});
    FAIL() << "accepted an unknown flag";
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("image_grounding.quality.block: unknown flag \"caption_rewriten\""),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace groundcap
