// Unit tests of the two grounding StepLogics, driven directly: Begin ->
// inspect the requests -> feed hand-written replies -> Continue -> exact
// output records. The image layer is replaced by a fake preparer so that the
// sizes are known exactly.
#include "grounding/grounding_steps.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "grounding/grounding_prompts.h"
#include "grounding/spans.h"
#include "teacher/openai_backend.h"
#include "teacher/teacher_test_util.h"

namespace groundcap {
namespace {

using Json = nlohmann::ordered_json;
using testing_util::CutReply;
using testing_util::Reply;

struct FakeImages {
  Size upright{1000, 500};
  Size sent{800, 400};
  std::vector<std::string> paths;
  std::vector<PrepareOptions::Resize> modes;
  bool missing = false;
};

GroundingConfig TestConfig(FakeImages* images, BoxFormat format = BoxFormat::kGemini) {
  GroundingConfig c;
  c.image_root = "/data/imgs";
  c.box_format = format;
  c.teacher_fingerprint = "fake-teacher";
  c.prepare_image = [images](const std::string& path,
                             const PrepareOptions& o) -> Result<PreparedImage> {
    images->paths.push_back(path);
    images->modes.push_back(o.resize);
    if (images->missing) return Fail(ErrorKind::kImage, "cannot open " + path);
    PreparedImage p;
    p.original.upright = images->upright;
    p.original.stored = images->upright;
    p.sent = images->sent;
    p.mime = "image/jpeg";
    p.bytes = "JPEGBYTES";
    return p;
  };
  return c;
}


TeacherReply FailedReply(ErrorKind kind, std::string message) {
  TeacherReply r;
  r.error = Error::Make(kind, std::move(message));
  return r;
}

SampleJob Job(const std::string& id, const std::string& line) {
  SampleJob j;
  j.sample_id = id;
  j.record = Json::parse(line);
  return j;
}

// ---------------------------------------------------------------- step 0

TEST(GroundingStep0Test, ValidationNamesTheField) {
  FakeImages images;
  auto step = MakeExpressionExtractionStep(TestConfig(&images));
  EXPECT_EQ(step->Name(), "expression_extraction");
  EXPECT_EQ(step->ImageKey(), "image_path");
  EXPECT_NE(step->ValidateInput(Json::parse(R"({"caption": "x"})"))->find("image_path"),
            std::string::npos);
  EXPECT_NE(step->ValidateInput(Json::parse(R"({"image_path": "a.jpg"})"))->find("caption"),
            std::string::npos);
  EXPECT_NE(step->ValidateInput(Json::parse(R"({"image_path": 3, "caption": "x"})"))->find("image_path"),
            std::string::npos);
  EXPECT_FALSE(step->ValidateInput(Json::parse(R"({"image_path": "a.jpg", "caption": "x"})")));
}

TEST(GroundingStep0Test, RequestCarriesImageCaptionLineAndSchema) {
  FakeImages images;
  GroundingConfig c = TestConfig(&images);
  c.use_schema = true;
  auto step = MakeExpressionExtractionStep(c);
  SampleJob job = Job("s1", R"({"image_path": "a/b.jpg", "caption": "we can see a dog\nand a cat"})");
  StepAction a = step->Begin(job);
  ASSERT_EQ(a.requests.size(), 1u);
  EXPECT_EQ(images.paths, std::vector<std::string>{"/data/imgs/a/b.jpg"});
  const TeacherRequest& r = a.requests[0];
  ASSERT_EQ(r.images.size(), 1u);
  EXPECT_EQ(r.images[0].mime, "image/jpeg");
  EXPECT_EQ(r.images[0].base64, Base64Encode("JPEGBYTES"));
  EXPECT_NE(r.prompt.find("\nCaption: we can see a dog and a cat\n"), std::string::npos);
  EXPECT_EQ(r.response_schema, ExtractionSchema());
  EXPECT_EQ(r.sample_id, "s1");
}

TEST(GroundingStep0Test, ExtractionSchemaMeetsOpenAiStrictRules) {
  EXPECT_EQ(StrictSchemaViolations(ExtractionSchema()), std::vector<std::string>{});
}

TEST(GroundingStep0Test, RepairedReplyGivesExactRecordWithComputedSpans) {
  FakeImages images;
  auto step = MakeExpressionExtractionStep(TestConfig(&images));
  SampleJob job = Job("s1", R"({"image_path": "b.jpg", "caption": "we can see a Dog and a dog", "width": 1000, "height": 500, "extra": 7})");
  ASSERT_EQ(step->Begin(job).requests.size(), 1u);
  // Fenced, trailing comma, a rephrased capital, a repeated phrase, a
  // missing noun_chunk and an unlocatable expression.
  StepAction a = step->Continue(job, {Reply(
      "```json\n{\"cleaned_caption\": \"A Dog and a dog.\", \"expressions\": ["
      "{\"text\": \"a dog\", \"noun_chunk\": \"dog\"}, {\"text\": \"a dog\"}, "
      "{\"text\": \"a giraffe\", \"noun_chunk\": \"giraffe\"},]}\n```")});
  ASSERT_TRUE(a.output) << (a.error ? a.error->message : "");
  Json expected = Json::parse(R"({"image_path": "b.jpg", "caption": "we can see a Dog and a dog",
    "width": 1000, "height": 500, "extra": 7, "image_id": "s1", "cleaned_caption": "A Dog and a dog.",
    "expressions": [
      {"text": "a dog", "instances": [], "expression_id": "s1:e0", "char_span": [10, 15], "noun_chunk": "dog"},
      {"text": "a dog", "instances": [], "expression_id": "s1:e1", "char_span": [0, 5], "noun_chunk": "dog"},
      {"text": "a giraffe", "instances": [], "expression_id": "s1:e2", "char_span": null, "noun_chunk": "giraffe", "span_found": false}],
    "image_width": 1000, "image_height": 500, "source": "image_grounding",
    "pipeline_steps": ["step0_expression_extraction"]})");
  EXPECT_EQ(a.output->dump(), expected.dump());
  bool repaired = false;
  for (const auto& w : job.warnings) repaired |= w.find("repaired") != std::string::npos;
  EXPECT_TRUE(repaired);
}

TEST(GroundingStep0Test, SizeMismatchWarnsAndUsesTrueSize) {
  FakeImages images;
  auto step = MakeExpressionExtractionStep(TestConfig(&images));
  SampleJob job = Job("s2", R"({"image_path": "/abs/c.jpg", "caption": "a cat", "width": 500, "height": 1000})");
  ASSERT_EQ(step->Begin(job).requests.size(), 1u);
  EXPECT_EQ(images.paths[0], "/abs/c.jpg");
  StepAction a = step->Continue(job, {Reply(R"({"cleaned_caption": "a cat", "expressions": []})")});
  ASSERT_TRUE(a.output);
  EXPECT_EQ((*a.output)["image_width"], 1000);
  EXPECT_EQ((*a.output)["width"], 500);
  EXPECT_EQ((*a.output)["expressions"], Json::array());
  ASSERT_EQ(job.warnings.size(), 1u);
  EXPECT_NE(job.warnings[0].find("500x1000"), std::string::npos);
}

TEST(GroundingStep0Test, MissingImageFailsWithoutARequest) {
  FakeImages images;
  images.missing = true;
  auto step = MakeExpressionExtractionStep(TestConfig(&images));
  SampleJob job = Job("s3", R"({"image_path": "gone.jpg", "caption": "a cat"})");
  StepAction a = step->Begin(job);
  EXPECT_TRUE(a.requests.empty());
  ASSERT_TRUE(a.error);
  EXPECT_EQ(a.error->kind, ErrorKind::kImage);
}

TEST(GroundingStep0Test, TeacherFailureAndGarbageAreFailuresNotEmptyResults) {
  FakeImages images;
  auto step = MakeExpressionExtractionStep(TestConfig(&images));
  SampleJob job = Job("s4", R"({"image_path": "a.jpg", "caption": "a cat"})");
  step->Begin(job);
  StepAction a = step->Continue(job, {FailedReply(ErrorKind::kRateLimited, "429")});
  ASSERT_TRUE(a.error);
  EXPECT_EQ(a.error->kind, ErrorKind::kRateLimited);
  SampleJob job2 = Job("s5", R"({"image_path": "a.jpg", "caption": "a cat"})");
  step->Begin(job2);
  StepAction b = step->Continue(job2, {Reply("I am sorry, I cannot help with that.")});
  ASSERT_TRUE(b.error);
  EXPECT_EQ(b.error->kind, ErrorKind::kParse);
  SampleJob job3 = Job("s6", R"({"image_path": "a.jpg", "caption": "a cat"})");
  step->Begin(job3);
  StepAction c = step->Continue(job3, {Reply(R"({"answer": 3})")});
  ASSERT_TRUE(c.error);
  EXPECT_EQ(c.error->kind, ErrorKind::kParse);
}

TEST(GroundingStep0Test, ReplyCutAtTheTokenLimitFailsAsTruncated) {
  FakeImages images;
  auto step = MakeExpressionExtractionStep(TestConfig(&images));
  SampleJob job = Job("s7", R"({"image_path": "a.jpg", "caption": "a cat and a dog"})");
  step->Begin(job);
  // The repaired JSON would read as a complete list of one expression.
  TeacherReply cut = Reply(R"({"cleaned_caption": "a cat and a dog", "expressions": [{"text": "a cat"}, {"te)");
  cut.finish = FinishReason::kLength;
  StepAction a = step->Continue(job, {cut});
  ASSERT_TRUE(a.error);
  EXPECT_FALSE(a.output);
  EXPECT_EQ(a.error->kind, ErrorKind::kTruncated);
  EXPECT_NE(a.error->message.find("vlm.openai.max_tokens"), std::string::npos);
}

TEST(GroundingStep0Test, ChineseCaptionSpansAreCodePoints) {
  FakeImages images;
  auto step = MakeExpressionExtractionStep(TestConfig(&images));
  SampleJob job = Job("zh", R"({"image_path": "z.jpg", "caption": "图中可以看到一只黑猫坐在红色沙发上"})");
  ASSERT_EQ(step->Begin(job).requests.size(), 1u);
  StepAction a = step->Continue(job, {Reply(
      R"({"cleaned_caption": "一只黑猫坐在红色沙发上。", "expressions": [{"text": "一只黑猫", "noun_chunk": "猫"}, {"text": "红色沙发", "noun_chunk": "沙发"}]})")});
  ASSERT_TRUE(a.output);
  EXPECT_EQ((*a.output)["expressions"][0]["char_span"].dump(), "[0,4]");
  EXPECT_EQ((*a.output)["expressions"][1]["char_span"].dump(), "[6,10]");
}

// ---------------------------------------------------------------- step 1

const char* kStep0Record = R"({"image_path": "g.jpg", "caption": "c", "image_id": "img7",
  "cleaned_caption": "a red car, a tree and a red car",
  "expressions": [
    {"text": "a red car", "instances": [], "expression_id": "s9:e0", "char_span": [0, 9], "noun_chunk": "car"},
    {"text": "a tree", "instances": [], "expression_id": "s9:e1", "char_span": [11, 17], "noun_chunk": "tree"},
    {"text": "a red car", "instances": [], "expression_id": "s9:e2", "char_span": [22, 31], "noun_chunk": "car"}],
  "source": "image_grounding", "pipeline_steps": ["step0_expression_extraction"]})";

TEST(GroundingStep1Test, ChunksAreSentTogetherAndMatchedByIndex) {
  FakeImages images;
  GroundingConfig c = TestConfig(&images, BoxFormat::kGemini);
  c.expressions_per_request = 2;
  auto step = MakePhraseGroundingStep(c);
  EXPECT_EQ(step->Name(), "grounding");
  SampleJob job = Job("s9", kStep0Record);
  ASSERT_FALSE(step->ValidateInput(job.record));
  StepAction a = step->Begin(job);
  ASSERT_EQ(a.requests.size(), 2u);
  EXPECT_NE(a.requests[0].prompt.find("E0: a red car\nE1: a tree\n"), std::string::npos);
  EXPECT_EQ(a.requests[0].prompt.find("E2:"), std::string::npos);
  EXPECT_NE(a.requests[1].prompt.find("E2: a red car\n"), std::string::npos);
  EXPECT_NE(a.requests[0].prompt.find("box_2d"), std::string::npos);
  EXPECT_EQ(images.modes[0], PrepareOptions::Resize::kPixelBudget);
  // Gemini: [ymin, xmin, ymax, xmax] on 0-1000 of a 1000x500 image.
  StepAction b = step->Continue(job, {
      Reply(R"([{"label": "E0", "box_2d": [100, 200, 500, 800], "score": 0.8},
                {"label": "E1", "box_2d": [0, 0, 1000, 100], "score": 1.7}])"),
      Reply(R"(```json
[{"label": "E2", "box_2d": [500, 500, 900, 700], "score": 0.55},])")});
  ASSERT_TRUE(b.output) << (b.error ? b.error->message : "");
  Json expected = Json::parse(kStep0Record);
  expected["expressions"][0]["instances"] = Json::parse(
      R"([{"bbox": [200, 50, 800, 250], "score": 0.8, "bbox_score": 0.8, "bbox_id": "s9:e0:b0"}])");
  expected["expressions"][1]["instances"] = Json::parse(
      R"([{"bbox": [0, 0, 100, 500], "score": 1.0, "bbox_score": 1.0, "bbox_id": "s9:e1:b0"}])");
  expected["expressions"][2]["instances"] = Json::parse(
      R"([{"bbox": [500, 250, 700, 450], "score": 0.55, "bbox_score": 0.55, "bbox_id": "s9:e2:b0"}])");
  expected["image_width"] = 1000;
  expected["image_height"] = 500;
  expected["pipeline_steps"].push_back("step1_grounding");
  EXPECT_EQ(b.output->dump(), expected.dump());
}

TEST(GroundingStep1Test, Qwen25SendsSmartResizedImageAndMapsItsPixels) {
  FakeImages images;
  images.sent = {500, 250};  // half size: pixels double back
  auto step = MakePhraseGroundingStep(TestConfig(&images, BoxFormat::kQwen25Vl));
  SampleJob job = Job("s9", kStep0Record);
  StepAction a = step->Begin(job);
  ASSERT_EQ(a.requests.size(), 1u);
  EXPECT_EQ(images.modes[0], PrepareOptions::Resize::kSmartResize);
  EXPECT_NE(a.requests[0].prompt.find("500x250"), std::string::npos);
  EXPECT_NE(a.requests[0].prompt.find("bbox_2d"), std::string::npos);
  StepAction b = step->Continue(job, {Reply(
      R"([{"label": "E1", "bbox_2d": [10, 20, 110, 120], "score": 0.9}])")});
  ASSERT_TRUE(b.output);
  EXPECT_EQ((*b.output)["expressions"][1]["instances"].dump(),
            R"([{"bbox":[20,40,220,240],"score":0.9,"bbox_score":0.9,"bbox_id":"s9:e1:b0"}])");
  EXPECT_EQ((*b.output)["expressions"][0]["instances"], Json::array());
}

TEST(GroundingStep1Test, Qwen3AndGenericUseZeroToThousand) {
  for (BoxFormat f : {BoxFormat::kQwen3Vl, BoxFormat::kXyxyNorm1000}) {
    FakeImages images;
    auto step = MakePhraseGroundingStep(TestConfig(&images, f));
    SampleJob job = Job("s9", kStep0Record);
    StepAction a = step->Begin(job);
    ASSERT_EQ(a.requests.size(), 1u);
    EXPECT_NE(a.requests[0].prompt.find("0-1000"), std::string::npos);
    std::string key = f == BoxFormat::kQwen3Vl ? "bbox_2d" : "bbox";
    StepAction b = step->Continue(job, {Reply(
        "[{\"label\": \"E0\", \"" + key + "\": [100, 100, 500, 600], \"score\": 0.5}]")});
    ASSERT_TRUE(b.output) << BoxFormatName(f);
    EXPECT_EQ((*b.output)["expressions"][0]["instances"][0]["bbox"].dump(), "[100,50,500,300]")
        << BoxFormatName(f);
  }
}

TEST(GroundingStep1Test, LabelsFallBackToNormalisedTextNeverOnlyExact) {
  FakeImages images;
  auto step = MakePhraseGroundingStep(TestConfig(&images, BoxFormat::kGemini));
  SampleJob job = Job("s9", kStep0Record);
  step->Begin(job);
  StepAction b = step->Continue(job, {Reply(
      R"([{"label": "A Tree.", "box_2d": [0, 0, 100, 100], "score": 0.7},
          {"label": "E7: a red  car", "box_2d": [0, 0, 200, 200], "score": 0.6},
          {"label": "bicycle", "box_2d": [0, 0, 300, 300], "score": 0.6}])")});
  ASSERT_TRUE(b.output);
  EXPECT_EQ((*b.output)["expressions"][1]["instances"].size(), 1u);
  // "a red car" twice: text fallback gives the box to the first one.
  EXPECT_EQ((*b.output)["expressions"][0]["instances"].size(), 1u);
  EXPECT_EQ((*b.output)["expressions"][2]["instances"].size(), 0u);
  bool dropped = false;
  for (const auto& w : job.warnings) dropped |= w.find("bicycle") != std::string::npos;
  EXPECT_TRUE(dropped);
}

TEST(GroundingStep1Test, LabelTextStartingWithANumberIsNotReadAsAnIndex) {
  FakeImages images;
  auto step = MakePhraseGroundingStep(TestConfig(&images, BoxFormat::kGemini));
  SampleJob job = Job("s3", R"({"image_path": "g.jpg", "caption": "c", "expressions": [
    {"text": "2 dogs"}, {"text": "a cat"}, {"text": "a ball"}]})");
  step->Begin(job);
  StepAction b = step->Continue(job, {Reply(
      R"([{"label": "2 dogs", "box_2d": [0, 0, 100, 100], "score": 0.7},
          {"label": "E2", "box_2d": [0, 0, 200, 200], "score": 0.6}])")});
  ASSERT_TRUE(b.output);
  EXPECT_EQ((*b.output)["expressions"][0]["instances"].size(), 1u);
  EXPECT_EQ((*b.output)["expressions"][1]["instances"].size(), 0u);
  EXPECT_EQ((*b.output)["expressions"][2]["instances"].size(), 1u);
}

TEST(GroundingStep1Test, MaxInstancesKeepsHighestScores) {
  FakeImages images;
  GroundingConfig c = TestConfig(&images, BoxFormat::kGemini);
  c.max_instances = 2;
  auto step = MakePhraseGroundingStep(c);
  SampleJob job = Job("s9", kStep0Record);
  step->Begin(job);
  StepAction b = step->Continue(job, {Reply(
      R"([{"label": "E1", "box_2d": [0, 0, 100, 100], "score": 0.2},
          {"label": "E1", "box_2d": [200, 200, 300, 300], "score": 0.9},
          {"label": "E1", "box_2d": [400, 400, 500, 500], "score": -3},
          {"label": "E1", "box_2d": [600, 600, 700, 700], "score": 0.5}])")});
  ASSERT_TRUE(b.output);
  const Json& inst = (*b.output)["expressions"][1]["instances"];
  ASSERT_EQ(inst.size(), 2u);
  EXPECT_EQ(inst[0]["score"], 0.9);
  EXPECT_EQ(inst[0]["bbox_id"], "s9:e1:b0");
  EXPECT_EQ(inst[1]["score"], 0.5);
  EXPECT_EQ(inst[1]["bbox_id"], "s9:e1:b1");
}

TEST(GroundingStep1Test, NothingFoundIsSuccessFailuresAreFailures) {
  FakeImages images;
  auto step = MakePhraseGroundingStep(TestConfig(&images, BoxFormat::kGemini));
  SampleJob job = Job("s9", kStep0Record);
  step->Begin(job);
  StepAction ok = step->Continue(job, {Reply("[]")});
  ASSERT_TRUE(ok.output);
  for (const auto& e : (*ok.output)["expressions"]) EXPECT_EQ(e["instances"], Json::array());

  SampleJob job2 = Job("s9", kStep0Record);
  step->Begin(job2);
  StepAction failed = step->Continue(job2, {FailedReply(ErrorKind::kTimeout, "timed out")});
  ASSERT_TRUE(failed.error);
  EXPECT_EQ(failed.error->kind, ErrorKind::kTimeout);
  EXPECT_FALSE(failed.output);
}


TEST(GroundingStep1Test, CutReplyKeepsFinishedExpressionsAndReasksTheRestInHalves) {
  FakeImages images;
  auto step = MakePhraseGroundingStep(TestConfig(&images, BoxFormat::kGemini));
  SampleJob job = Job("s9", kStep0Record);
  StepAction a = step->Begin(job);
  ASSERT_EQ(a.requests.size(), 1u);  // 3 expressions, chunks of 8
  // E0 is finished (E1 follows it); E1 may have lost boxes; E2 was never reached.
  StepAction b = step->Continue(job, {CutReply(R"([{"label": "E0", "box_2d": [0, 0, 500, 500], "score": 0.9},
    {"label": "E1", "box_2d": [0, 0, 100, 100], "score": 0.8}, {"label": "E1", "box_2d": [0, 0, 1)")});
  ASSERT_FALSE(b.output);
  ASSERT_FALSE(b.error);
  ASSERT_EQ(b.requests.size(), 2u);  // chunks of 3 / 2 = 1
  EXPECT_NE(b.requests[0].prompt.find("E1: a tree"), std::string::npos);
  EXPECT_EQ(b.requests[0].prompt.find("E0:"), std::string::npos);
  EXPECT_NE(b.requests[1].prompt.find("E2: a red car"), std::string::npos);
  EXPECT_EQ(b.requests[0].images.size(), 1u);
  StepAction c = step->Continue(job, {
      Reply(R"([{"label": "E1", "box_2d": [0, 0, 100, 100], "score": 0.8},
                {"label": "E1", "box_2d": [0, 0, 100, 200], "score": 0.7}])"),
      Reply("[]")});
  ASSERT_TRUE(c.output) << (c.error ? c.error->message : "");
  const Json& e = (*c.output)["expressions"];
  EXPECT_EQ(e[0]["instances"].size(), 1u);
  EXPECT_EQ(e[1]["instances"].size(), 2u);
  EXPECT_EQ(e[2]["instances"].size(), 0u);
  bool warned = false;
  for (const auto& w : job.warnings) warned |= w.find("after 1 of 3 expressions") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(GroundingStep1Test, ExpressionCutWhenAskedAloneFailsAsTruncated) {
  FakeImages images;
  GroundingConfig c = TestConfig(&images, BoxFormat::kGemini);
  c.expressions_per_request = 2;
  auto step = MakePhraseGroundingStep(c);
  SampleJob job = Job("s9", kStep0Record);
  ASSERT_EQ(step->Begin(job).requests.size(), 2u);
  // A cut reply with no complete element: nothing finished, both re-asked.
  StepAction b = step->Continue(job, {CutReply(R"([{"label": "E0", "box_2d": [0, 0)"),
                                      Reply(R"([{"label": "E2", "box_2d": [0, 0, 10, 10]}])")});
  ASSERT_EQ(b.requests.size(), 2u);
  StepAction d = step->Continue(job, {Reply("[]"), CutReply(R"([{"label": "E1", "box_2d": [0, 0, 9, 9]}, {)")});
  ASSERT_TRUE(d.error);
  EXPECT_FALSE(d.output);
  EXPECT_EQ(d.error->kind, ErrorKind::kTruncated);
  EXPECT_NE(d.error->message.find("E1 (\"a tree\")"), std::string::npos) << d.error->message;
}

TEST(GroundingStep1Test, NoExpressionsNeedsNoRequestAndMissingImageFails) {
  FakeImages images;
  auto step = MakePhraseGroundingStep(TestConfig(&images, BoxFormat::kGemini));
  SampleJob job = Job("s1", R"({"image_path": "g.jpg", "expressions": []})");
  StepAction a = step->Begin(job);
  EXPECT_TRUE(a.requests.empty());
  ASSERT_TRUE(a.output);
  EXPECT_EQ((*a.output)["pipeline_steps"].dump(), R"(["step1_grounding"])");
  EXPECT_TRUE(images.paths.empty());

  images.missing = true;
  SampleJob job2 = Job("s9", kStep0Record);
  StepAction b = step->Begin(job2);
  ASSERT_TRUE(b.error);
  EXPECT_EQ(b.error->kind, ErrorKind::kImage);
  EXPECT_TRUE(b.requests.empty());
  EXPECT_NE(step->ValidateInput(Json::parse(R"({"image_path": "g.jpg"})"))->find("expressions"),
            std::string::npos);
}

TEST(GroundingStep1Test, FingerprintChangesWithPromptAndFormat) {
  FakeImages images;
  auto a = MakePhraseGroundingStep(TestConfig(&images, BoxFormat::kGemini));
  auto b = MakePhraseGroundingStep(TestConfig(&images, BoxFormat::kQwen3Vl));
  GroundingConfig c = TestConfig(&images, BoxFormat::kGemini);
  c.grounding_prompt = "custom {expressions}";
  auto d = MakePhraseGroundingStep(c);
  EXPECT_NE(a->ConfigFingerprint(), b->ConfigFingerprint());
  EXPECT_NE(a->ConfigFingerprint(), d->ConfigFingerprint());
  EXPECT_NE(a->ConfigFingerprint().find(kGroundingPromptVersion), std::string::npos);
  EXPECT_EQ(a->ConfigFingerprint(), MakePhraseGroundingStep(TestConfig(&images))->ConfigFingerprint());
}

TEST(GroundingStepTest, FingerprintsCoverEveryImageOptionThatChangesTheImageSent) {
  FakeImages images;
  GroundingConfig base = TestConfig(&images, BoxFormat::kGemini);
  std::vector<GroundingConfig> changed(3, base);
  changed[0].prepare.allow_upscale = !base.prepare.allow_upscale;
  changed[1].prepare.resize = PrepareOptions::Resize::kSmartResize;  // then min_pixels counts
  changed[2] = changed[1];
  changed[2].prepare.min_pixels = base.prepare.min_pixels * 2;
  const std::string s0 = MakeExpressionExtractionStep(base)->ConfigFingerprint();
  const std::string s1 = MakePhraseGroundingStep(base)->ConfigFingerprint();
  std::vector<std::string> seen0 = {s0}, seen1 = {s1};
  for (const GroundingConfig& c : changed) {
    std::string f0 = MakeExpressionExtractionStep(c)->ConfigFingerprint();
    std::string f1 = MakePhraseGroundingStep(c)->ConfigFingerprint();
    EXPECT_EQ(std::count(seen0.begin(), seen0.end(), f0), 0) << f0;
    EXPECT_EQ(std::count(seen1.begin(), seen1.end(), f1), 0) << f1;
    seen0.push_back(f0);
    seen1.push_back(f1);
  }
}

// ---------------------------------------------------------------- spec

class NullTeacher : public Teacher {
 public:
  explicit NullTeacher(std::string model) : model_(std::move(model)) {}
  void Submit(TeacherRequest, Callback done) override {
    TeacherReply r;
    r.error = Error::Make(ErrorKind::kCancelled, "null teacher");
    done(std::move(r));
  }
  void Stop() override {}
  TeacherStats Stats() const override { return {}; }
  std::string ModelName() const override { return model_; }
  std::string Fingerprint() const override { return "null:" + model_; }
  bool SupportsSchema() const override { return false; }

 private:
  std::string model_;
};

class GroundingSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("groundcap_grounding_spec_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Spec Load(const std::vector<std::string>& overrides) {
    std::string yaml = "results_dir: " + (dir_ / "results").string() +
                       "\nautolabel_type: image_grounding\nimage_grounding:\n  data:\n"
                       "    input_jsonl: /nonexistent/in.jsonl\n";
    return Spec::FromYaml(yaml, overrides);
  }
  std::filesystem::path dir_;
};

TEST_F(GroundingSpecTest, BuildsTaoStepDirectoriesAndPicksFormatFromModel) {
  NullTeacher qwen("Qwen/Qwen2.5-VL-7B-Instruct");
  std::vector<StepPlan> plans = MakeGroundingSteps(Load({}), qwen);
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_EQ(plans[0].index, 0);
  EXPECT_EQ(plans[0].logic->Name(), "expression_extraction");
  EXPECT_EQ(plans[0].input_jsonl, "/nonexistent/in.jsonl");
  EXPECT_EQ(plans[1].index, 1);
  EXPECT_EQ(plans[1].logic->Name(), "grounding");
  EXPECT_EQ(plans[1].input_jsonl,
            (dir_ / "results/step_0_expression_extraction/annotations.jsonl").string());
  EXPECT_NE(plans[1].logic->ConfigFingerprint().find("qwen2_5_vl"), std::string::npos);
  NullTeacher other("some-model");
  auto generic = MakeGroundingSteps(Load({"image_grounding.workflow.steps=[\"0\"]"}), other);
  ASSERT_EQ(generic.size(), 1u);
  EXPECT_EQ(generic[0].logic->Name(), "expression_extraction");
  auto forced = MakeGroundingSteps(Load({"image_grounding.vlm.box_format=qwen3_vl"}), other);
  EXPECT_NE(forced[1].logic->ConfigFingerprint().find("qwen3_vl"), std::string::npos);
}

TEST_F(GroundingSpecTest, StepOneAloneNeedsStepZeroRecords) {
  NullTeacher t("gemini-2.5-flash");
  EXPECT_THROW(MakeGroundingSteps(Load({"image_grounding.workflow.steps=[\"1\"]"}), t), SetupError);
  std::ofstream(dir_ / "s0.jsonl") << "\n";
  auto plans = MakeGroundingSteps(
      Load({"image_grounding.workflow.steps=[\"1\"]",
            "image_grounding.data.step0_annotations=" + (dir_ / "s0.jsonl").string()}),
      t);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(plans[0].index, 1);
  EXPECT_EQ(plans[0].input_jsonl, (dir_ / "s0.jsonl").string());
  EXPECT_THROW(MakeGroundingSteps(Load({"image_grounding.workflow.steps=[\"2\"]"}), t), SetupError);
}

TEST_F(GroundingSpecTest, PromptFilesOverrideAndChangeTheFingerprint) {
  NullTeacher t("gemini-2.5-flash");
  std::ofstream(dir_ / "bad.txt") << "no placeholder here";
  EXPECT_THROW(MakeGroundingSteps(Load({"image_grounding.prompts.extraction_file=" +
                                        (dir_ / "bad.txt").string()}),
                                  t),
               SetupError);
  EXPECT_THROW(MakeGroundingSteps(Load({"image_grounding.prompts.grounding_file=" +
                                        (dir_ / "missing.txt").string()}),
                                  t),
               SetupError);
  std::ofstream(dir_ / "ext.txt") << "List objects.\nCaption: {caption}\n";
  auto base = MakeGroundingSteps(Load({}), t);
  auto custom = MakeGroundingSteps(
      Load({"image_grounding.prompts.extraction_file=" + (dir_ / "ext.txt").string()}), t);
  EXPECT_NE(base[0].logic->ConfigFingerprint(), custom[0].logic->ConfigFingerprint());
  EXPECT_EQ(base[1].logic->ConfigFingerprint(), custom[1].logic->ConfigFingerprint());
}

}  // namespace
}  // namespace groundcap
