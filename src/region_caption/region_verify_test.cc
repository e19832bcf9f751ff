// Region captioning's verification step: captioned regions become crops,
// answers mark the regions, rejections are listed as flags.
#include "region_caption/region_verify.h"

#include <gtest/gtest.h>

#include "region_caption/region_caption_test_util.h"

namespace groundcap {
namespace {

using testing_util::RegionCaptionTest;
using testing_util::Reply;
using nlohmann::ordered_json;

TEST_F(RegionCaptionTest, VerificationChecksEveryCaptionedRegion) {
  options_.image_root = dir_.string();
  WriteSceneImage();
  VerifyConfig v;
  auto step = MakeVerificationStep(MakeRegionVerifySubject(options_), v, VerifyContext{});
  SampleJob job = Job(ordered_json::parse(R"({"image": "scene.png", "width": 200, "height": 100,
    "regions": [{"region_id": 1, "bbox": [100, 20, 150, 60], "caption": "A red square.", "status": "ok"},
                {"region_id": 2, "bbox": [0, 0, 50, 50], "caption": "", "status": "failed", "reason": "missing"},
                {"region_id": 3, "bbox": [10, 60, 60, 90], "caption": "A blue circle.", "status": "ok"}]})"));
  ASSERT_FALSE(step->ValidateInput(job.record));
  StepAction a = step->Begin(job);
  ASSERT_FALSE(a.error) << a.error->message;
  ASSERT_EQ(a.requests.size(), 1u);
  EXPECT_EQ(a.requests[0].images.size(), 2u);
  EXPECT_NE(a.requests[0].prompt.find("| A red square.\nCrop 2: box"), std::string::npos) << a.requests[0].prompt;
  StepAction b = step->Continue(job, {Reply(R"({"answers": [{"crop": 1, "answer": "yes", "reason": "a red square"},
      {"crop": 2, "answer": "no", "reason": "grey background"}]})")});
  ASSERT_TRUE(b.output);
  const ordered_json& r = (*b.output)["regions"];
  EXPECT_EQ(r[0]["verified"], true);
  EXPECT_FALSE(r[1].contains("verified"));
  EXPECT_EQ(r[2]["verified"], false);
  EXPECT_EQ(r[2]["verify_reason"], "grey background");
  std::vector<QualityFlag> flags = step->Review(*b.output);
  ASSERT_EQ(flags.size(), 1u);
  EXPECT_EQ(flags[0].name, "caption_rejected");
  EXPECT_EQ(flags[0].item, 2);
}

}  // namespace
}  // namespace groundcap
