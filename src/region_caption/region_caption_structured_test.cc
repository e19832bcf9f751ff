// The structured region-caption mode driven directly: the prompt, re-asks of
// unusable captions, replies cut at the token limit, and failures.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image/draw.h"
#include "region_caption/region_caption.h"
#include "region_caption/region_caption_test_util.h"
#include "teacher/openai_backend.h"

namespace groundcap {
namespace {

using testing_util::RegionCaptionTest;
using testing_util::CutReply;
using testing_util::Reply;
namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

TEST_F(RegionCaptionTest, ReplySchemaMeetsOpenAiStrictRules) {
  EXPECT_EQ(StrictSchemaViolations(RegionReplySchema()), std::vector<std::string>{});
}

TEST_F(RegionCaptionTest, StructuredPromptNamesRegionsAsDrawn) {
  options_.image_root = dir_.string();
  WriteSceneImage();
  auto step = MakeRegionCaptionLogic(options_, teacher_);
  SampleJob job = Job(ordered_json::parse(
      R"({"image": "scene.png", "bbox": [[10, 10, 40, 30], [100, 20, 50, 60], [0, 0, 0, 5], [1, 2]]})"));
  StepAction a = step->Begin(job);
  ASSERT_FALSE(a.error.has_value()) << a.error->message;
  ASSERT_EQ(a.requests.size(), 1u);
  const TeacherRequest& req = a.requests[0];
  EXPECT_NE(req.prompt.find("Region " + RegionLabel(MarkStyle::kNumbered, 1) + ": box 50,100,250,400\n"),
            std::string::npos)
      << req.prompt;
  EXPECT_NE(req.prompt.find("Region [2]: box 500,200,750,800\n"), std::string::npos);
  EXPECT_EQ(req.prompt.find("Region [3]"), std::string::npos);
  EXPECT_EQ(req.response_schema, RegionReplySchema());
  EXPECT_FALSE(req.temperature.has_value());
  ASSERT_EQ(req.images.size(), 1u);
  // The two invalid boxes are reported, per box.
  ASSERT_EQ(job.warnings.size(), 2u);
  EXPECT_EQ(job.warnings[0], "box #2 skipped: empty");
  EXPECT_EQ(job.warnings[1], "box #3 skipped: wrong_arity");
  EXPECT_TRUE(fs::exists(options_.results_dir + "/region_caption_marks/s1.jpg"));
}

TEST_F(RegionCaptionTest, StructuredReasksOnlyBadRegionsThenRecordsFailures) {
  options_.image_root = dir_.string();
  options_.max_reasks = 2;
  WriteSceneImage();
  auto step = MakeRegionCaptionLogic(options_, teacher_);
  SampleJob job = Job(ordered_json::parse(
      R"({"image": "scene.png", "bbox": [[10, 10, 40, 30], [100, 20, 50, 60], [150, 60, 40, 30]]})"));
  StepAction a = step->Begin(job);
  ASSERT_EQ(a.requests.size(), 1u);

  // Round 1: region 1 fine, region 2 describes the mark, region 3 missing.
  a = step->Continue(job, {Reply(R"({"regions": [
      {"region_id": 1, "caption": "A grey wall."},
      {"region_id": 2, "caption": "The green box around the area."}]})")});
  ASSERT_EQ(a.requests.size(), 1u);
  std::string p = a.requests[0].prompt;
  EXPECT_EQ(p.find("Region [1]"), std::string::npos) << p;
  EXPECT_NE(p.find("Region [2]: box"), std::string::npos);
  EXPECT_NE(p.find("Region [3]: box"), std::string::npos);
  EXPECT_NE(p.find("Describe only the regions listed below"), std::string::npos);

  // Round 2 (fenced, id as "[3]"): region 3 fixed, region 2 empty, extra id 9.
  a = step->Continue(job, {Reply("```json\n{\"regions\": [{\"region_id\": \"[3]\", \"caption\": "
                                 "\"A red block.\"}, {\"region_id\": 2, \"caption\": \" \"}, "
                                 "{\"region_id\": 9, \"caption\": \"?\"}]}\n```")});
  ASSERT_EQ(a.requests.size(), 1u);
  p = a.requests[0].prompt;
  EXPECT_NE(p.find("Region [2]: box"), std::string::npos);
  EXPECT_EQ(p.find("Region [3]"), std::string::npos);
  EXPECT_NE(p.find("Describe region [2] again"), std::string::npos) << p;

  // Round 3: still missing; re-asks exhausted.
  a = step->Continue(job, {Reply(R"({"regions": []})")});
  ASSERT_TRUE(a.output.has_value());
  json out = json::parse(a.output->dump());
  ASSERT_EQ(out["regions"].size(), 3u);
  EXPECT_EQ(out["regions"][0]["caption"], "A grey wall.");
  EXPECT_EQ(out["regions"][0]["status"], "ok");
  EXPECT_EQ(out["regions"][0]["bbox"], json::parse("[10, 10, 50, 40]"));
  EXPECT_EQ(out["regions"][0]["attempts"], 1);
  EXPECT_EQ(out["regions"][1]["status"], "failed");
  EXPECT_EQ(out["regions"][1]["reason"], "missing");
  EXPECT_EQ(out["regions"][1]["rejected_caption"], "The green box around the area.");
  EXPECT_EQ(out["regions"][1]["attempts"], 3);
  EXPECT_EQ(out["regions"][2]["caption"], "A red block.");
  EXPECT_EQ(out["regions"][2]["attempts"], 2);
  EXPECT_EQ(out["answers"].size(), 3u);
  EXPECT_EQ(out["extra_region_ids"], json::parse("[9]"));
  EXPECT_EQ(out["box_source"], "input");
  EXPECT_EQ(out["width"], 200);
  ASSERT_FALSE(job.warnings.empty());
  EXPECT_NE(job.warnings.back().find("1 of 3 regions failed"), std::string::npos);
}

TEST_F(RegionCaptionTest, StructuredFailsWhenNoRegionSucceedsOrTeacherFails) {
  options_.image_root = dir_.string();
  options_.max_reasks = 0;
  WriteSceneImage();
  auto step = MakeRegionCaptionLogic(options_, teacher_);
  SampleJob job = Job(ordered_json::parse(R"({"image": "scene.png", "bbox": [[10, 10, 40, 30]]})"));
  ASSERT_EQ(step->Begin(job).requests.size(), 1u);
  StepAction a = step->Continue(job, {Reply("I cannot see anything.")});
  ASSERT_TRUE(a.error.has_value());
  EXPECT_EQ(a.error->kind, ErrorKind::kParse);
  EXPECT_NE(a.error->message.find("[1] unparseable"), std::string::npos) << a.error->message;

  SampleJob job2 = Job(ordered_json::parse(R"({"image": "scene.png", "bbox": [[10, 10, 40, 30]]})"),
                       "s2");
  ASSERT_EQ(step->Begin(job2).requests.size(), 1u);
  TeacherReply failed;
  failed.error = Error::Make(ErrorKind::kTimeout, "timed out");
  a = step->Continue(job2, {failed});
  ASSERT_TRUE(a.error.has_value());
  EXPECT_EQ(a.error->kind, ErrorKind::kTimeout);
}


TEST_F(RegionCaptionTest, CutReplyKeepsFinishedCaptionsAndReasksTheRestInHalves) {
  options_.image_root = dir_.string();
  options_.max_reasks = 0;  // cut replies are re-asked regardless
  WriteSceneImage();
  auto step = MakeRegionCaptionLogic(options_, teacher_);
  SampleJob job = Job(ordered_json::parse(
      R"({"image": "scene.png", "bbox": [[10, 10, 40, 30], [100, 20, 50, 60], [150, 60, 40, 30], [0, 50, 60, 40]]})"));
  ASSERT_EQ(step->Begin(job).requests.size(), 1u);
  // Region 1 finished; region 2's caption was cut (JSON repair would close
  // the string as "A red bl"); regions 3 and 4 never reached.
  StepAction a = step->Continue(job, {CutReply(
      R"({"regions": [{"region_id": 1, "caption": "A grey wall."}, {"region_id": 2, "caption": "A red bl)")});
  ASSERT_FALSE(a.error) << a.error->message;
  ASSERT_EQ(a.requests.size(), 2u);  // 3 unfinished, groups of 4 / 2 = 2
  EXPECT_NE(a.requests[0].prompt.find("Region [2]: box"), std::string::npos);
  EXPECT_NE(a.requests[0].prompt.find("Region [3]: box"), std::string::npos);
  EXPECT_EQ(a.requests[0].prompt.find("Region [1]"), std::string::npos);
  EXPECT_NE(a.requests[1].prompt.find("Region [4]: box"), std::string::npos);
  EXPECT_EQ(a.requests[1].prompt.find("Region [3]"), std::string::npos);

  // Region 3 cut again; region 2 and 4 fine.
  a = step->Continue(job, {CutReply(R"({"regions": [{"region_id": 2, "caption": "A red block."}, {"region_id": 3, "ca)"),
                           Reply(R"({"regions": [{"region_id": 4, "caption": "A shadow."}]})")});
  ASSERT_EQ(a.requests.size(), 1u);
  EXPECT_NE(a.requests[0].prompt.find("Region [3]"), std::string::npos);
  EXPECT_EQ(a.requests[0].prompt.find("Region [2]"), std::string::npos);

  // Cut when asked alone: region 3 fails as truncated, the others are ok.
  a = step->Continue(job, {CutReply(R"({"regions": [{"region_id": 3, "caption": "A dark corner of the)")});
  ASSERT_TRUE(a.output) << (a.error ? a.error->message : "");
  json out = json::parse(a.output->dump());
  EXPECT_EQ(out["regions"][0]["caption"], "A grey wall.");
  EXPECT_EQ(out["regions"][1]["caption"], "A red block.");
  EXPECT_EQ(out["regions"][1]["status"], "ok");
  EXPECT_EQ(out["regions"][2]["status"], "failed");
  EXPECT_EQ(out["regions"][2]["reason"], "truncated");
  EXPECT_EQ(out["regions"][2]["caption"], "");
  EXPECT_EQ(out["regions"][2]["attempts"], 3);
  EXPECT_EQ(out["regions"][3]["caption"], "A shadow.");
  EXPECT_EQ(out["answers"].size(), 4u);
}

TEST_F(RegionCaptionTest, EveryRegionCutFailsTheSampleAsTruncated) {
  options_.image_root = dir_.string();
  WriteSceneImage();
  auto step = MakeRegionCaptionLogic(options_, teacher_);
  SampleJob job = Job(ordered_json::parse(R"({"image": "scene.png", "bbox": [[10, 10, 40, 30]]})"));
  ASSERT_EQ(step->Begin(job).requests.size(), 1u);
  StepAction a = step->Continue(job, {CutReply(R"({"1": "A grey wall with a)")});
  ASSERT_TRUE(a.error);
  EXPECT_FALSE(a.output);
  EXPECT_EQ(a.error->kind, ErrorKind::kTruncated);

  options_.mode = RegionCaptionMode::kDataflow;
  auto dataflow = MakeRegionCaptionLogic(options_, teacher_);
  SampleJob job2 = Job(ordered_json::parse(R"({"image": "scene.png", "bbox": [[10, 10, 40, 30]]})"), "s2");
  ASSERT_EQ(dataflow->Begin(job2).requests.size(), 1u);
  a = dataflow->Continue(job2, {CutReply("In <region1>, a grey wall with a")});
  ASSERT_TRUE(a.error);
  EXPECT_EQ(a.error->kind, ErrorKind::kTruncated);
}

}  // namespace
}  // namespace groundcap
