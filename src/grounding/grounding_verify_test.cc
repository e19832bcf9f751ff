// Image grounding's step 2 (verification) driven directly: the crops and
// prompt it sends, how replies mark instances, re-asks of unanswered crops.
#include "grounding/grounding_verify.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "image/image.h"
#include "teacher/teacher_test_util.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using testing_util::Reply;


class GroundingVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("groundcap_verify_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    RgbImage img = RgbImage::Filled(400, 200, 120);
    Result<std::string> jpeg = EncodeImage(img, "jpeg", 90);
    ASSERT_TRUE(jpeg);
    testing_util::WriteFile(dir_ / "a.jpg", *jpeg);
    config_.image_root = dir_.string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  SampleJob Job() {
    SampleJob job;
    job.sample_id = "s1";
    job.record = Json::parse(R"({"image_path": "a.jpg", "caption": "a red car, a tree, a dog",
      "cleaned_caption": "A red car, a tree, a dog.", "expressions": [
      {"text": "a red car", "char_span": [0, 9], "instances": [{"bbox": [0, 0, 40, 20], "score": 0.9}, {"bbox": [100, 50, 300, 150], "score": 0.8}]},
      {"text": "a tree", "char_span": [11, 17], "instances": []},
      {"text": "a dog", "char_span": [19, 24], "instances": [{"bbox": [350, 100, 400, 200], "score": 0.7}]}],
      "image_width": 400, "image_height": 200, "status": "ok",
      "pipeline_steps": ["step0_expression_extraction", "step1_grounding"]})");
    return job;
  }

  std::unique_ptr<StepLogic> Step(VerifyConfig v) const {
    return MakeVerificationStep(MakeGroundingVerifySubject(config_), v, VerifyContext{});
  }

  fs::path dir_;
  GroundingConfig config_;
};

TEST_F(GroundingVerifyTest, SendsBatchedCropsAndMarksEveryInstance) {
  VerifyConfig v;
  v.crops_per_request = 2;
  auto step = Step(v);
  EXPECT_EQ(step->Name(), "verification");
  SampleJob job = Job();
  ASSERT_FALSE(step->ValidateInput(job.record));
  StepAction a = step->Begin(job);
  ASSERT_FALSE(a.error) << a.error->message;
  ASSERT_EQ(a.requests.size(), 2u);  // 3 boxes, 2 per request
  ASSERT_EQ(a.requests[0].images.size(), 2u);
  ASSERT_EQ(a.requests[1].images.size(), 1u);
  // Box [100,50,300,150] with a 25% margin: crop [50,25,350,175]; the box
  // is at 1/6..5/6 of it.
  EXPECT_NE(a.requests[0].prompt.find("Crop 2: box 167,167,833,833 | a red car\n"), std::string::npos)
      << a.requests[0].prompt;
  // A corner box: the crop is clipped to the image.
  EXPECT_NE(a.requests[0].prompt.find("Crop 1: box 0,0,800,800 | a red car\n"), std::string::npos);
  // [350,100,400,200]: crop [337,75,400,200], clipped on the right and bottom.
  EXPECT_NE(a.requests[1].prompt.find("Crop 1: box 206,200,1000,1000 | a dog\n"), std::string::npos)
      << a.requests[1].prompt;
  // Small crops are sent upscaled to at least min_crop_pixels.
  Result<std::string> bytes = Base64Decode(a.requests[0].images[0].Base64());
  ASSERT_TRUE(bytes);
  Result<RgbImage> crop = DecodeImage(*bytes);
  ASSERT_TRUE(crop);
  EXPECT_GE(static_cast<int64_t>(crop->width) * crop->height, v.min_crop_pixels * 9 / 10);
  EXPECT_NEAR(static_cast<double>(crop->width) / crop->height, 50.0 / 25.0, 0.05);

  StepAction b = step->Continue(job, {
      Reply(R"({"answers": [{"crop": 1, "answer": "no", "reason": "a grey wall"},
                            {"crop": 2, "answer": "yes", "reason": "a red car"}]})"),
      Reply(R"([{"crop": "1", "answer": "Yes.", "reason": "a dog"}])")});
  ASSERT_TRUE(b.output) << (b.error ? b.error->message : "");
  const Json& e = (*b.output)["expressions"];
  EXPECT_EQ(e[0]["instances"][0]["verified"], false);
  EXPECT_EQ(e[0]["instances"][0]["verify_score"], 0.0);
  EXPECT_EQ(e[0]["instances"][0]["verify_reason"], "a grey wall");
  EXPECT_EQ(e[0]["instances"][1]["verified"], true);
  EXPECT_EQ(e[0]["instances"][1]["score"], 0.8) << "the teacher's score is kept";
  EXPECT_EQ(e[2]["instances"][0]["verified"], true);
  EXPECT_EQ((*b.output)["pipeline_steps"].back(), "step2_verification");

  // The rejected box is listed as a (non-blocking) flag.
  std::vector<QualityFlag> flags = step->Review(*b.output);
  ASSERT_EQ(flags.size(), 1u);
  EXPECT_EQ(flags[0].name, "box_rejected");
  EXPECT_EQ(flags[0].item, 0);
  EXPECT_FALSE(flags[0].blocking);
}

TEST_F(GroundingVerifyTest, UnansweredCropsAreAskedAgainThenCountAsNotVerified) {
  VerifyConfig v;
  v.crops_per_request = 4;
  v.max_reasks = 1;
  auto step = Step(v);
  SampleJob job = Job();
  ASSERT_EQ(step->Begin(job).requests.size(), 1u);
  // Only crop 2 answered (the reply was cut after it).
  TeacherReply cut = Reply(R"({"answers": [{"crop": 2, "answer": "yes", "reason": "a car"}, {"crop": 3, "ans)");
  cut.finish = FinishReason::kLength;
  StepAction b = step->Continue(job, {cut});
  // 2 unanswered of a group of 3: asked again one per request.
  ASSERT_EQ(b.requests.size(), 2u);
  ASSERT_EQ(b.requests[0].images.size(), 1u);
  EXPECT_NE(b.requests[1].prompt.find("Crop 1: box 206,200,1000,1000 | a dog"), std::string::npos);
  StepAction c = step->Continue(job, {Reply("I cannot tell."), Reply(R"([{"crop": 1, "answer": "no"}])")});
  ASSERT_TRUE(c.output);
  const Json& e = (*c.output)["expressions"];
  EXPECT_EQ(e[0]["instances"][0]["verified"], false);
  EXPECT_EQ(e[0]["instances"][0]["verify_reason"], "no answer");
  EXPECT_EQ(e[0]["instances"][1]["verified"], true);
  EXPECT_EQ(e[2]["instances"][0]["verified"], false);
}

TEST_F(GroundingVerifyTest, NoBoxesNeedNoRequestAndAFailedTeacherFails) {
  auto step = Step(VerifyConfig{});
  SampleJob empty;
  empty.sample_id = "s2";
  empty.record = Json::parse(R"({"image_path": "missing.jpg", "expressions": [{"text": "x", "instances": []}]})");
  StepAction a = step->Begin(empty);
  ASSERT_TRUE(a.output);
  EXPECT_TRUE(a.requests.empty());

  SampleJob job = Job();
  ASSERT_FALSE(step->Begin(job).requests.empty());
  TeacherReply failed;
  failed.error = Error::Make(ErrorKind::kTimeout, "timed out");
  StepAction b = step->Continue(job, {failed});
  ASSERT_TRUE(b.error);
  EXPECT_EQ(b.error->kind, ErrorKind::kTimeout);
}

}  // namespace
}  // namespace groundcap
