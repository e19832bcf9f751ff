// Image pass-through through the real grounding steps: the same replies give
// the same boxes (in original pixels) whether the file was sent as it is or
// decoded and re-encoded, each step prepares its image once per sample
// however many chunks and re-asks it sends, and the chunks share one base64
// string.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "grounding/grounding_steps.h"
#include "image/image.h"
#include "teacher/teacher_test_util.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using testing_util::CutReply;
using testing_util::Reply;

const char* kRecord = R"({"image_path": "p.jpg", "caption": "c", "image_id": "p",
  "cleaned_caption": "a red car, a tree and a dog",
  "expressions": [{"text": "a red car"}, {"text": "a tree"}, {"text": "a dog"}]})";

class GroundingPassThroughTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("groundcap_gpass_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    RgbImage img = RgbImage::Filled(672, 476, 90);  // on the 28-grid: smart_resize keeps it
    for (int y = 100; y < 200; ++y)
      for (int x = 50; x < 300; ++x) img.at(x, y)[0] = 250;
    Result<std::string> jpeg = EncodeImage(img, "jpeg", 85);
    ASSERT_TRUE(jpeg);
    testing_util::WriteFile(dir_ / "p.jpg", *jpeg);
    file_bytes_ = *jpeg;
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// A step-1 config on the real image layer, counting preparations.
  GroundingConfig Config(BoxFormat format, bool pass_through) {
    GroundingConfig c;
    c.image_root = dir_.string();
    c.box_format = format;
    c.teacher_fingerprint = "t";
    c.expressions_per_request = 2;
    c.prepare.pass_through = pass_through;
    c.prepare_image = [this](const std::string& path, const PrepareOptions& o) {
      ++prepared_;
      return PrepareForTeacher(path, o);
    };
    return c;
  }

  /// Runs step 1 with a first reply cut after E1's box (so E1, whose list
  /// may be unfinished, is asked again) and
  /// fixed boxes; returns the output record.
  Json Run(BoxFormat format, bool pass_through, const std::string& e0, const std::string& e1,
           const std::string& e2, std::vector<TeacherRequest>* sent) {
    auto step = MakePhraseGroundingStep(Config(format, pass_through));
    SampleJob job;
    job.sample_id = "p";
    job.record = Json::parse(kRecord);
    StepAction a = step->Begin(job);
    EXPECT_EQ(a.requests.size(), 2u);
    *sent = a.requests;
    job.round = 1;
    StepAction b = step->Continue(job, {CutReply("[" + e0 + ", " + e1 + ","),
                                        Reply("[" + e2 + "]")});
    EXPECT_EQ(b.requests.size(), 1u);  // E1 asked again
    for (const TeacherRequest& r : b.requests) sent->push_back(r);
    job.round = 2;
    StepAction c = step->Continue(job, {Reply("[" + e1 + "]")});
    EXPECT_TRUE(c.output) << (c.error ? c.error->message : "");
    return c.output ? *c.output : Json();
  }

  fs::path dir_;
  std::string file_bytes_;
  int prepared_ = 0;
};

TEST_F(GroundingPassThroughTest, SameBoxesWithAndWithoutPassThrough) {
  struct Case {
    BoxFormat format;
    std::string e0, e1, e2;
  };
  const std::vector<Case> cases = {
      // Gemini: [ymin, xmin, ymax, xmax] on 0-1000.
      {BoxFormat::kGemini, R"({"label": "E0", "box_2d": [210, 74, 420, 446]})",
       R"({"label": "E1", "box_2d": [500, 500, 900, 700]})",
       R"({"label": "E2", "box_2d": [0, 0, 1000, 1000]})"},
      // Qwen2.5-VL: absolute pixels of the image sent.
      {BoxFormat::kQwen25Vl, R"({"label": "E0", "bbox_2d": [50, 100, 300, 200]})",
       R"({"label": "E1", "bbox_2d": [336, 238, 600, 400]})",
       R"({"label": "E2", "bbox_2d": [1, 2, 671, 475]})"},
  };
  for (const Case& k : cases) {
    std::vector<TeacherRequest> with, without;
    prepared_ = 0;
    Json a = Run(k.format, true, k.e0, k.e1, k.e2, &with);
    EXPECT_EQ(prepared_, 1) << "one preparation for 3 requests";
    prepared_ = 0;
    Json b = Run(k.format, false, k.e0, k.e1, k.e2, &without);
    EXPECT_EQ(prepared_, 1);
    ASSERT_FALSE(a.is_null());
    EXPECT_EQ(a["expressions"], b["expressions"]) << static_cast<int>(k.format);
    EXPECT_EQ(a["image_width"], 672);
    EXPECT_EQ(a["image_height"], 476);
    EXPECT_FALSE(a["expressions"][0]["instances"].empty());
    // The file itself went out with pass-through, a re-encoding without.
    ASSERT_EQ(with.size(), 3u);
    EXPECT_EQ(Base64Decode(with[0].images[0].Base64()).value_or(""), file_bytes_);
    EXPECT_NE(Base64Decode(without[0].images[0].Base64()).value_or(""), file_bytes_);
    // Every request of the sample shares one base64 string.
    ASSERT_TRUE(with[0].images[0].shared);
    EXPECT_EQ(with[0].images[0].shared.get(), with[2].images[0].shared.get());
  }
}

}  // namespace
}  // namespace groundcap
