#include "region_caption/region_caption.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image/draw.h"
#include "image/image.h"
#include "image/proposals.h"
#include "sim/synth.h"
#include "teacher/openai_backend.h"
#include "util/rng.h"
#include "region_caption/region_caption_test_util.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;
using testing_util::RegionCaptionTest;
using testing_util::Reply;

const std::string kFixtureDir = std::string(GROUNDCAP_SHARED_DIR) + "/fixtures/dataflow_regioncap";

// ---- DataFlow parity ----

/// Runs dataflow mode over `inputs` (images under `image_root`) and checks
/// each record against `expected` (DataFlow-MM's fields for the same rows),
/// the request DataFlow would send, the marked image and the field order.
void ExpectDataflowRecords(RegionCaptionOptions options, const std::string& image_root,
                           const std::vector<json>& inputs, const std::vector<json>& expected,
                           const Teacher& teacher) {
  options.mode = RegionCaptionMode::kDataflow;
  options.image_root = image_root;
  auto step = MakeRegionCaptionLogic(options, teacher);
  ASSERT_EQ(inputs.size(), expected.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    SCOPED_TRACE("row " + std::to_string(i) + ": " + inputs[i].dump());
    ordered_json rec = ordered_json::parse(inputs[i].dump());
    ASSERT_FALSE(step->ValidateInput(rec).has_value());
    SampleJob job;
    job.sample_id = "row" + std::to_string(i);
    job.line = static_cast<int64_t>(i) + 1;
    job.record = rec;
    StepAction a = step->Begin(job);
    ASSERT_FALSE(a.error.has_value()) << a.error->message;
    ASSERT_EQ(a.requests.size(), 1u);
    const TeacherRequest& req = a.requests[0];
    EXPECT_EQ(req.prompt, expected[i]["prompt"]);
    EXPECT_EQ(req.system, "You are a helpful assistant.");
    EXPECT_EQ(req.temperature, 0.7);
    EXPECT_EQ(req.top_p, 0.9);
    EXPECT_EQ(req.max_tokens, 512);
    EXPECT_TRUE(req.response_schema.is_null());
    ASSERT_EQ(req.images.size(), 1u);

    StepAction done = step->Continue(job, {Reply("In <region1>, a table.")});
    ASSERT_TRUE(done.output.has_value());
    json out = json::parse(done.output->dump());
    for (const auto& [key, value] : expected[i].items()) {
      EXPECT_EQ(out[key], value) << key;
    }
    EXPECT_EQ(out["answer"], "In <region1>, a table.");
    const std::string marked = out["image_with_bbox"];
    // Relative to results_dir.
    EXPECT_EQ(marked, "region_caption_marks/" + job.sample_id + ".jpg");
    EXPECT_TRUE(fs::exists(fs::path(options.results_dir) / marked));
    // Field order as DataFlow writes it.
    std::vector<std::string> keys;
    for (const auto& [key, value] : done.output->items()) keys.push_back(key);
    EXPECT_EQ(keys, (std::vector<std::string>{"image", "type", "bbox", "normalized_bbox",
                                              "result_file", "image_with_bbox",
                                              "valid_bboxes_num", "prompt", "answer"}));
    EXPECT_EQ(out["result_file"], options.results_dir);
  }
}

TEST_F(RegionCaptionTest, ProposalsMatchDataflowFixture) {
  GROUNDCAP_REQUIRE_SHARED_FIXTURE(fs::path(kFixtureDir));
  auto image = LoadImage(kFixtureDir + "/20.png");
  ASSERT_TRUE(image.has_value()) << image.error().message;
  auto expected = testing_util::ReadJsonl<json>(kFixtureDir + "/expected.jsonl");
  ASSERT_EQ(expected.size(), 2u);
  json got = ProposeRegions(*image);
  EXPECT_EQ(got, expected[0]["bbox"]);
}

TEST_F(RegionCaptionTest, DataflowModeReproducesFixtureRecords) {
  GROUNDCAP_REQUIRE_SHARED_FIXTURE(fs::path(kFixtureDir));
  ExpectDataflowRecords(options_, kFixtureDir, testing_util::ReadJsonl<json>(kFixtureDir + "/input.jsonl"),
                        testing_util::ReadJsonl<json>(kFixtureDir + "/expected.jsonl"), teacher_);
}

/// Images that give the contour heuristic work: synthetic scenes (plain and
/// noisy backgrounds, shapes of every kind) and cluttered collages of
/// nested, touching and overlapping rectangles and blobs over noise.
std::vector<RgbImage> ParityImages() {
  std::vector<RgbImage> images;
  for (int i = 0; i < 6; ++i) images.push_back(MakeScene(/*seed=*/7, i).image);
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    Rng rng(seed);
    const int w = 320 + rng.Below(320), h = 240 + rng.Below(240);
    RgbImage img = RgbImage::Filled(w, h);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        uint8_t* p = img.at(x, y);
        for (int c = 0; c < 3; ++c) p[c] = static_cast<uint8_t>(60 + (x + y) * 100 / (w + h) + rng.Below(24));
      }
    }
    const int shapes = 6 + rng.Below(10);
    for (int k = 0; k < shapes; ++k) {
      const int x1 = rng.Below(w - 20), y1 = rng.Below(h - 20);
      const int x2 = std::min(w, x1 + 12 + rng.Below(w / 2)), y2 = std::min(h, y1 + 12 + rng.Below(h / 2));
      const uint8_t col[3] = {static_cast<uint8_t>(rng.Below(256)), static_cast<uint8_t>(rng.Below(256)),
                              static_cast<uint8_t>(rng.Below(256))};
      const bool ellipse = rng.Below(3) == 0, outline = rng.Below(3) == 0;
      const double cx = (x1 + x2) / 2.0, cy = (y1 + y2) / 2.0, rx = (x2 - x1) / 2.0, ry = (y2 - y1) / 2.0;
      for (int y = y1; y < y2; ++y) {
        for (int x = x1; x < x2; ++x) {
          const double dx = (x + 0.5 - cx) / rx, dy = (y + 0.5 - cy) / ry;
          const bool inside = ellipse ? dx * dx + dy * dy <= 1 : true;
          const bool edge = x < x1 + 4 || x >= x2 - 4 || y < y1 + 4 || y >= y2 - 4;
          if (inside && (!outline || edge)) std::copy(col, col + 3, img.at(x, y));
        }
      }
    }
    images.push_back(std::move(img));
  }
  return images;
}

/// Runs tests/dataflow_reference.py (Debian's python3, where python3-opencv
/// lives) on `input` with images under `image_root`, writing `out_dir`.
/// Returns "" on success, "skip: why" without OpenCV, else the failure.
std::string RunDataflowReference(const fs::path& input, const fs::path& image_root, const fs::path& out_dir) {
  const std::string python = fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const fs::path log = out_dir.string() + ".log";
  const std::string cmd = python + " " + GROUNDCAP_SOURCE_DIR + "/tests/dataflow_reference.py " + input.string() +
                          " " + image_root.string() + " " + out_dir.string() + " 2>" + log.string();
  const int rc = std::system(cmd.c_str());
  if (WIFEXITED(rc) && WEXITSTATUS(rc) == 3) return "skip: " + testing_util::ReadFile(log);
  return rc == 0 ? "" : "reference failed: " + testing_util::ReadFile(log);
}

// The reference script is itself checked against DataFlow-MM's committed
// output, where that fixture is present.
TEST_F(RegionCaptionTest, ReferenceScriptReproducesDataflowFixture) {
  GROUNDCAP_REQUIRE_SHARED_FIXTURE(fs::path(kFixtureDir));
  const std::string run = RunDataflowReference(fs::path(kFixtureDir) / "input.jsonl", kFixtureDir, dir_ / "ref");
  if (run.rfind("skip: ", 0) == 0) GTEST_SKIP() << "python3-opencv missing (scripts/setup.sh installs it): " << run;
  ASSERT_EQ(run, "");
  EXPECT_EQ(testing_util::ReadJsonl<json>(dir_ / "ref" / "expected.jsonl"),
            testing_util::ReadJsonl<json>(kFixtureDir + "/expected.jsonl"));
}

// Parity without the shared fixture: on generated images, dataflow mode
// must give what DataFlow-MM's own algorithm gives when run with OpenCV
// (tests/dataflow_reference.py): the same proposals, normalized boxes,
// counts and prompts, and marks drawn where DataFlow draws them.
TEST_F(RegionCaptionTest, DataflowModeMatchesOpenCvReferenceOnGeneratedImages) {
  const fs::path images_dir = dir_ / "images", ref_dir = dir_ / "reference";
  std::vector<RgbImage> images = ParityImages();
  std::vector<json> inputs;
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string name = "p" + std::to_string(i) + ".png";
    auto png = EncodeImage(images[i], "png");
    ASSERT_TRUE(png.has_value());
    testing_util::WriteFile(images_dir / name, *png);
    inputs.push_back({{"image", name}});  // proposals
    // Given boxes (xywh pixels, inside the image, up to max_boxes): the
    // inputs DataFlow handles correctly. Its defects (boxes off the image,
    // non-xywh input) are where groundcap differs on purpose.
    Rng rng(100 + i);
    json boxes = json::array();
    const int n = 1 + rng.Below(10);
    for (int k = 0; k < n; ++k) {
      const int x = rng.Below(images[i].width - 8), y = rng.Below(images[i].height - 8);
      boxes.push_back({x, y, 1 + rng.Below(images[i].width - x - 1), 1 + rng.Below(images[i].height - y - 1)});
    }
    inputs.push_back({{"image", name}, {"bbox", boxes}});
  }
  std::string input_text;
  for (const json& j : inputs) input_text += j.dump() + "\n";
  testing_util::WriteFile(dir_ / "input.jsonl", input_text);
  const std::string run = RunDataflowReference(dir_ / "input.jsonl", images_dir, ref_dir);
  if (run.rfind("skip: ", 0) == 0) GTEST_SKIP() << "python3-opencv missing (scripts/setup.sh installs it): " << run;
  ASSERT_EQ(run, "");
  std::vector<json> expected = testing_util::ReadJsonl<json>(ref_dir / "expected.jsonl");
  ASSERT_EQ(expected.size(), inputs.size());

  // The heuristic must have had something to find, on most images.
  int with_proposals = 0;
  for (size_t i = 0; i < expected.size(); i += 2) with_proposals += !expected[i]["bbox"].empty();
  EXPECT_GE(with_proposals, 8) << "generated images too plain to exercise the proposals";

  // Rows whose proposals find nothing are where groundcap's whole-image
  // fallback departs from DataFlow (which drops the row); compare the rest.
  std::vector<json> in_kept, want_kept;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (expected[i]["type"] == "without_bbox" && expected[i]["bbox"].empty()) continue;
    in_kept.push_back(inputs[i]);
    want_kept.push_back(expected[i]);
  }
  ExpectDataflowRecords(options_, images_dir.string(), in_kept, want_kept, teacher_);

  // Marks: the dimmed picture and the green rectangles are DataFlow's, pixel
  // for pixel, outside the label patches (whose glyphs are ours).
  for (size_t i = 0; i < inputs.size(); ++i) {
    SCOPED_TRACE("row " + std::to_string(i));
    auto want = LoadImage((ref_dir / "marks" / (std::to_string(i) + ".png")).string());
    ASSERT_TRUE(want.has_value()) << want.error().message;
    std::vector<Box> boxes;
    for (const json& b : expected[i]["bbox"]) {
      Box box;
      box.x1 = b[0].get<double>();
      box.y1 = b[1].get<double>();
      box.x2 = box.x1 + b[2].get<double>();
      box.y2 = box.y1 + b[3].get<double>();
      boxes.push_back(box);
    }
    const RgbImage& src = images[i / 2];
    RgbImage got = DrawMarks(src, boxes, MarkStyle::kDataflow);
    ASSERT_EQ(got.width, want->width);
    ASSERT_EQ(got.height, want->height);
    MarkLayout layout = LayoutMarks({src.width, src.height}, boxes, MarkStyle::kDataflow);
    int64_t compared = 0, differing = 0;
    for (int y = 0; y < got.height; ++y) {
      for (int x = 0; x < got.width; ++x) {
        bool in_label = false;
        for (const LabelRect& l : layout.labels) in_label |= x >= l.x1 - 1 && x <= l.x2 && y >= l.y1 - 1 && y <= l.y2;
        if (in_label) continue;
        ++compared;
        differing += !std::equal(got.at(x, y), got.at(x, y) + 3, want->at(x, y));
      }
    }
    EXPECT_EQ(differing, 0) << "of " << compared << " pixels";
  }
}

// ---- structured mode, driven through the StepLogic ----

TEST_F(RegionCaptionTest, BadImageAndNoBoxesAreSampleErrors) {
  options_.image_root = dir_.string();
  options_.proposals = ProposalSource::kNone;
  auto step = MakeRegionCaptionLogic(options_, teacher_);
  EXPECT_TRUE(step->ValidateInput(ordered_json::parse(R"({"image": "scene.png"})")).has_value());
  EXPECT_TRUE(step->ValidateInput(ordered_json::parse(R"({"bbox": [[1,2,3,4]]})")).has_value());
  EXPECT_TRUE(
      step->ValidateInput(ordered_json::parse(R"({"image": "a.png", "bbox": "[[1,2,3,4]]"})"))
          .has_value());
  SampleJob missing = Job(ordered_json::parse(R"({"image": "nope.png", "bbox": [[1, 2, 3, 4]]})"));
  StepAction a = step->Begin(missing);
  ASSERT_TRUE(a.error.has_value());
  EXPECT_EQ(a.error->kind, ErrorKind::kImage);

  WriteSceneImage();
  SampleJob all_bad = Job(ordered_json::parse(
      R"({"image": "scene.png", "bbox": [[500, 500, 10, 10], [1, 1, -3, 4]]})"));
  a = step->Begin(all_bad);
  ASSERT_TRUE(a.error.has_value());
  EXPECT_EQ(a.error->kind, ErrorKind::kInvalidInput);
  EXPECT_NE(a.error->message.find("#0 outside #1 empty"), std::string::npos) << a.error->message;
}

TEST_F(RegionCaptionTest, BlankImageWithoutBoxesIsCaptionedWhole) {
  // A flat image gives the contour proposals nothing to find.
  options_.image_root = dir_.string();
  RgbImage blank = RgbImage::Filled(120, 80, 200);
  auto bytes = EncodeImage(blank, "png");
  ASSERT_TRUE(bytes);
  std::ofstream((dir_ / "blank.png").string(), std::ios::binary) << *bytes;
  ASSERT_TRUE(ProposeRegions(blank).empty());

  auto step = MakeRegionCaptionLogic(options_, teacher_);
  SampleJob job = Job(ordered_json::parse(R"({"image": "blank.png"})"));
  StepAction a = step->Begin(job);
  ASSERT_FALSE(a.error.has_value()) << a.error->message;
  ASSERT_EQ(a.requests.size(), 1u);
  EXPECT_NE(a.requests[0].prompt.find("Region [1]: box 0,0,1000,1000\n"), std::string::npos)
      << a.requests[0].prompt;
  a = step->Continue(job, {Reply(R"({"regions": [{"region_id": 1, "caption": "A blank page."}]})")});
  ASSERT_TRUE(a.output.has_value());
  json out = json::parse(a.output->dump());
  EXPECT_EQ(out["box_source"], "whole_image");
  ASSERT_EQ(out["regions"].size(), 1u);
  EXPECT_EQ(out["regions"][0]["bbox"], json::parse("[0, 0, 120, 80]"));
  EXPECT_EQ(out["regions"][0]["caption"], "A blank page.");

  // Switched off, the record fails and says why.
  options_.whole_image_fallback = false;
  auto strict = MakeRegionCaptionLogic(options_, teacher_);
  SampleJob again = Job(ordered_json::parse(R"({"image": "blank.png"})"), "s2");
  a = strict->Begin(again);
  ASSERT_TRUE(a.error.has_value());
  EXPECT_EQ(a.error->kind, ErrorKind::kInvalidInput);
  EXPECT_NE(a.error->message.find("proposals found no region"), std::string::npos)
      << a.error->message;
}

TEST_F(RegionCaptionTest, OverflowAndCropsAndChaining) {
  options_.image_root = dir_.string();
  options_.max_boxes = 2;
  options_.overflow = OverflowPolicy::kLargestFirst;
  options_.crop_context = true;
  options_.image_key = "image_path";
  WriteSceneImage();
  auto step = MakeRegionCaptionLogic(options_, teacher_);
  // A grounding annotations.jsonl record: boxes are xyxy pixels.
  SampleJob job = Job(ordered_json::parse(R"({
    "image_path": "scene.png", "caption": "a red block on a wall",
    "expressions": [
      {"text": "a red block", "instances": [{"bbox": [100, 20, 150, 60], "bbox_score": 0.9}]},
      {"text": "a wall", "instances": [{"bbox": [0, 0, 200, 100]}, {"bbox": [0, 0, 10, 10]}]}
    ]})"));
  StepAction a = step->Begin(job);
  ASSERT_EQ(a.requests.size(), 1u);
  // Marked image + one crop per kept region.
  EXPECT_EQ(a.requests[0].images.size(), 3u);
  EXPECT_NE(a.requests[0].prompt.find("close-up crops"), std::string::npos);
  a = step->Continue(job, {Reply(R"({"1": "A red block.", "2": "A grey wall."})")});
  ASSERT_TRUE(a.output.has_value());
  json out = json::parse(a.output->dump());
  EXPECT_EQ(out["box_source"], "grounding");
  ASSERT_EQ(out["regions"].size(), 2u);
  EXPECT_EQ(out["regions"][0]["expression"], "a red block");
  EXPECT_EQ(out["regions"][0]["bbox"], json::parse("[100, 20, 150, 60]"));
  EXPECT_EQ(out["regions"][1]["expression"], "a wall");
  EXPECT_EQ(out["regions"][1]["caption"], "A grey wall.");
  ASSERT_EQ(out["dropped_boxes"].size(), 1u);
  EXPECT_EQ(out["dropped_boxes"][0]["index"], 2);
  EXPECT_EQ(out["dropped_boxes"][0]["box"], json::parse("[0, 0, 10, 10]"));
}

TEST_F(RegionCaptionTest, FingerprintChangesWithModeAndTeacher) {
  auto a = MakeRegionCaptionLogic(options_, teacher_);
  options_.mode = RegionCaptionMode::kDataflow;
  auto b = MakeRegionCaptionLogic(options_, teacher_);
  EXPECT_NE(a->ConfigFingerprint(), b->ConfigFingerprint());
  EXPECT_NE(a->ConfigFingerprint().find("test/test-model"), std::string::npos);
  EXPECT_EQ(a->Name(), "region_caption");
}

// ---- pure helpers ----

TEST(RegionCaptionPureTest, SingleRegionPromptReadsWell) {
  std::string p = StructuredRegionPrompt({1}, {{{0, 0, 500, 500}}}, 1, false);
  EXPECT_NE(p.find("one region"), std::string::npos);
  EXPECT_EQ(p.find("regions drawn"), std::string::npos);
  EXPECT_EQ(p.find("1 regions"), std::string::npos);
  EXPECT_NE(p.find("Region [1]: box 0,0,500,500\n"), std::string::npos);
  EXPECT_NE(p.find("\"region_id\": 1"), std::string::npos);
}

TEST(RegionCaptionPureTest, ParsesReplyShapes) {
  auto r = ParseRegionReply(R"({"regions":[{"region_id":1,"caption":"a"},{"region_id":"Region 2","description":"b"}]})",
                            {1, 2});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->captions.at(1), "a");
  EXPECT_EQ(r->captions.at(2), "b");
  r = ParseRegionReply(R"([{"id": "<region1>", "text": "x"}, {"region_id": 4, "caption": "y"}])", {1});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->captions.at(1), "x");
  EXPECT_EQ(r->extra_ids, std::vector<int>{4});
  r = ParseRegionReply(R"({"[1]": "x", "[2]": "y"})", {1, 2});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->captions.size(), 2u);
  r = ParseRegionReply(R"({"regions": {"1": "x", "Region 2": "y"}})", {1, 2});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->captions.at(2), "y");
  r = ParseRegionReply(R"({"regions":[{"region_id":1,"caption":""},{"region_id":1,"caption":"z"}]})", {1});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->captions.at(1), "z");
  EXPECT_FALSE(ParseRegionReply("no json here", {1}).has_value());
  EXPECT_FALSE(ParseRegionReply(R"({"foo": 3})", {1}).has_value());
}

TEST(RegionCaptionPureTest, HugeIdsAreNotWrappedOntoRealRegions) {
  // 4294967297 = 2^32 + 1 would become region 1 if cast to int.
  auto r = ParseRegionReply(
      R"({"regions":[{"region_id":4294967297,"caption":"wrapped"},
                     {"region_id":"Region 4294967298","caption":"wrapped too"},
                     {"region_id":1e300,"caption":"huge"},
                     {"region_id":2,"caption":"real"}]})",
      {1, 2});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->captions.count(1), 0u);
  EXPECT_EQ(r->captions.at(2), "real");
  EXPECT_TRUE(r->extra_ids.empty());
}

TEST(RegionCaptionPureTest, DetectsCaptionsOfTheMark) {
  for (const char* c : {"The green box", "A red rectangle in the middle.",
                        "<region1> is a green rectangular box highlighting a table.",
                        "The label", "the label [2]", "A bounding box around nothing",
                        "This is the marker.", "The number [3] in white."}) {
    EXPECT_TRUE(DescribesMark(c)) << c;
  }
  for (const char* c : {"A red cup on a wooden table.", "The label on the bottle reads MILK.",
                        "A cardboard box full of apples.", "A green apple.",
                        "A woman holding a red umbrella."}) {
    EXPECT_FALSE(DescribesMark(c)) << c;
  }
  // Per region: its own mark colour (1 red, 2 green, 3 blue, 6 purple) and
  // label. Each case names the region it was given for.
  struct Case {
    int region;
    std::string caption;
  };
  for (const Case& c : std::vector<Case>{
           {1, "The red box."},
           {1, "A crimson frame in the corner."},
           {6, "A purple rectangle."},
           {3, "a thin blue outline"},
           {2, "A red outline."},  // any colour: an outline is the drawing
           {2, "The green box around the area."},
           {1, "A purple square drawn around a cat."},
           {4, "The highlighted box."},
           {2, "The number 2 on a green patch."},
           {5, "label [5]"},
           {7, "A bounding box with a cat inside."},
           {20, "The " + MarkColorNames(20)[0] + " box."}}) {
    EXPECT_TRUE(DescribesMark(c.caption, c.region)) << c.region << ": " << c.caption;
  }
  for (const Case& c : std::vector<Case>{
           {1, "A red square."},  // the demo's wrongly rejected kind
           {6, "A purple square on a yellow background."},
           {2, "a green square"},
           {3, "A blue box-shaped gift."},
           {3, "A blue boxy truck."},
           {1, "A red box full of apples."},
           {1, "A green box."},  // not region 1's colour: a real green box
           {2, "A wooden frame around a painting."},
           {1, "A black frame around a photo."},
           {1, "A large red circle."},
           {6, "A small purple triangle next to a blue star."},
           {3, "The number 7 on a jersey."},  // not region 3's label
           {4, "A yellow marker pen."}}) {
    EXPECT_FALSE(DescribesMark(c.caption, c.region)) << c.region << ": " << c.caption;
  }
  EXPECT_EQ(MarkColorNames(6), (std::vector<std::string>{"purple", "violet"}));
  EXPECT_FALSE(MarkColorNames(40).empty());
}

}  // namespace
}  // namespace groundcap
