#include "region_caption/region_boxes.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "util/test_util.h"

namespace groundcap {
namespace {

using nlohmann::json;

constexpr Size kImage{200, 100};

void ExpectBox(const Box& b, double x1, double y1, double x2, double y2) {
  EXPECT_DOUBLE_EQ(b.x1, x1);
  EXPECT_DOUBLE_EQ(b.y1, y1);
  EXPECT_DOUBLE_EQ(b.x2, x2);
  EXPECT_DOUBLE_EQ(b.y2, y2);
}

TEST(RegionBoxesTest, NamesRoundTrip) {
  for (const char* n : {"xywh", "xyxy", "cxcywh"}) {
    auto f = RegionBoxFormatFromName(n);
    ASSERT_TRUE(f.has_value()) << n;
    EXPECT_STREQ(RegionBoxFormatName(*f), n);
  }
  for (const char* n : {"pixels", "norm1", "norm1000"}) {
    auto u = RegionBoxUnitsFromName(n);
    ASSERT_TRUE(u.has_value()) << n;
    EXPECT_STREQ(RegionBoxUnitsName(*u), n);
  }
  EXPECT_TRUE(OverflowPolicyFromName("largest_first").has_value());
  auto bad = RegionBoxFormatFromName("xyhw");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("xywh, xyxy, cxcywh"), std::string::npos);
}

TEST(RegionBoxesTest, EveryFormatAndUnitGivesTheSamePixels) {
  // The box x 20..60, y 10..50 on a 200x100 image, written every way.
  struct Case {
    const char* format;
    const char* units;
    json box;
  } cases[] = {
      {"xywh", "pixels", {20, 10, 40, 40}},
      {"xyxy", "pixels", {20, 10, 60, 50}},
      {"cxcywh", "pixels", {40, 30, 40, 40}},
      {"xywh", "norm1", {0.1, 0.1, 0.2, 0.4}},
      {"xyxy", "norm1", {0.1, 0.1, 0.3, 0.5}},
      {"cxcywh", "norm1", {0.2, 0.3, 0.2, 0.4}},
      {"xywh", "norm1000", {100, 100, 200, 400}},
      {"xyxy", "norm1000", {100, 100, 300, 500}},
      {"cxcywh", "norm1000", {200, 300, 200, 400}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.format) + "/" + c.units);
    auto v = ValidateBoxes(json::array({c.box}), *RegionBoxFormatFromName(c.format),
                           *RegionBoxUnitsFromName(c.units), kImage);
    ASSERT_TRUE(v.has_value());
    ASSERT_EQ(v->boxes.size(), 1u);
    EXPECT_TRUE(v->rejected.empty());
    const Box& b = v->boxes[0].box;
    EXPECT_NEAR(b.x1, 20, 1e-9);
    EXPECT_NEAR(b.y1, 10, 1e-9);
    EXPECT_NEAR(b.x2, 60, 1e-9);
    EXPECT_NEAR(b.y2, 50, 1e-9);
    EXPECT_FALSE(v->boxes[0].clamped);
    EXPECT_EQ(v->boxes[0].raw, c.box);
  }
}

TEST(RegionBoxesTest, EveryInvalidBoxIsReportedWithItsReason) {
  json boxes = json::parse(R"([
    [10, 10, 20, 20],
    [1, 2, 3],
    [1, 2, 3, 4, 5],
    5,
    ["10", 10, 20, 20],
    [10, null, 20, 20],
    [10, 10, 0, 20],
    [10, 10, 20, -5],
    [500, 500, 20, 20],
    [-50, -50, 10, 10],
    [190, 90, 30, 30]
  ])");
  // NaN cannot be written in JSON; nlohmann keeps it as a number.
  boxes.push_back(json::array({std::numeric_limits<double>::quiet_NaN(), 1.0, 2.0, 3.0}));
  boxes.push_back(json::array({1.0, std::numeric_limits<double>::infinity(), 2.0, 3.0}));
  auto v = ValidateBoxes(boxes, RegionBoxFormat::kXywh, RegionBoxUnits::kPixels, kImage);
  ASSERT_TRUE(v.has_value());
  ASSERT_EQ(v->boxes.size(), 2u);
  EXPECT_EQ(v->boxes[0].input_index, 0);
  ExpectBox(v->boxes[0].box, 10, 10, 30, 30);
  EXPECT_FALSE(v->boxes[0].clamped);
  // Partly outside: clamped, kept, flagged.
  EXPECT_EQ(v->boxes[1].input_index, 10);
  ExpectBox(v->boxes[1].box, 190, 90, 200, 100);
  EXPECT_TRUE(v->boxes[1].clamped);

  std::vector<std::pair<int, std::string>> got;
  for (const RejectedBox& r : v->rejected) got.emplace_back(r.input_index, r.reason);
  std::vector<std::pair<int, std::string>> want = {
      {1, "wrong_arity"}, {2, "wrong_arity"}, {3, "wrong_arity"}, {4, "non_numeric"},
      {5, "non_numeric"}, {6, "empty"},       {7, "empty"},       {8, "outside"},
      {9, "outside"},     {11, "not_finite"}, {12, "not_finite"},
  };
  EXPECT_EQ(got, want);
  json j = v->rejected[0].ToJson();
  EXPECT_EQ(j["index"], 1);
  EXPECT_EQ(j["reason"], "wrong_arity");
  EXPECT_EQ(j["box"], json::parse("[1,2,3]"));
}

TEST(RegionBoxesTest, ReversedXyxyIsEmptyAndNonListIsAnError) {
  auto v = ValidateBoxes(json::parse("[[60, 50, 20, 10]]"), RegionBoxFormat::kXyxy,
                         RegionBoxUnits::kPixels, kImage);
  ASSERT_TRUE(v.has_value());
  ASSERT_EQ(v->rejected.size(), 1u);
  EXPECT_EQ(v->rejected[0].reason, "empty");
  auto bad = ValidateBoxes(json("[[1,2,3,4]]"), RegionBoxFormat::kXyxy, RegionBoxUnits::kPixels,
                           kImage);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidInput);
}

std::vector<RegionBox> MakeBoxes(const std::vector<double>& widths) {
  std::vector<RegionBox> out;
  for (size_t i = 0; i < widths.size(); ++i) {
    RegionBox r;
    r.input_index = static_cast<int>(i);
    r.box = Box{0, 0, widths[i], 10};
    out.push_back(r);
  }
  return out;
}

std::vector<int> Indices(const std::vector<RegionBox>& boxes) {
  std::vector<int> out;
  for (const RegionBox& b : boxes) out.push_back(b.input_index);
  return out;
}

TEST(RegionBoxesTest, OverflowPolicies) {
  std::vector<RegionBox> dropped;
  auto kept = ApplyMaxBoxes(MakeBoxes({5, 50, 10, 40, 40}), 3, OverflowPolicy::kInputOrder,
                            &dropped);
  EXPECT_EQ(Indices(kept), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(Indices(dropped), (std::vector<int>{3, 4}));

  dropped.clear();
  kept = ApplyMaxBoxes(MakeBoxes({5, 50, 10, 40, 40}), 3, OverflowPolicy::kLargestFirst, &dropped);
  // Largest three are 1, 3, 4 (tie between 3 and 4 both kept), in input order.
  EXPECT_EQ(Indices(kept), (std::vector<int>{1, 3, 4}));
  EXPECT_EQ(Indices(dropped), (std::vector<int>{0, 2}));

  dropped.clear();
  kept = ApplyMaxBoxes(MakeBoxes({5, 50, 40, 40}), 2, OverflowPolicy::kLargestFirst, &dropped);
  EXPECT_EQ(Indices(kept), (std::vector<int>{1, 2}));  // tie broken by input order
  EXPECT_EQ(Indices(dropped), (std::vector<int>{0, 3}));

  dropped.clear();
  kept = ApplyMaxBoxes(MakeBoxes({5, 50}), 10, OverflowPolicy::kInputOrder, &dropped);
  EXPECT_EQ(kept.size(), 2u);
  EXPECT_TRUE(dropped.empty());
}

TEST(RegionBoxesTest, Round3MatchesPython) {
  EXPECT_EQ(Round3(0.0005), 0.001);
  EXPECT_EQ(Round3(0.1275), 0.128);
  EXPECT_EQ(Round3(0.3285), 0.329);
  EXPECT_EQ(Round3(599.0 / 832), 0.72);
  EXPECT_EQ(Round3(2.675), 2.675);
  EXPECT_FALSE(std::signbit(Round3(-0.0001)));
}

TEST(RegionBoxesTest, DataflowPromptIsExact) {
  EXPECT_EQ(DataflowPrompt(1),
            "Describe the content of each marked region in the image. There are 1 regions: "
            "<region1> to <region1>.");
  EXPECT_EQ(DataflowPrompt(6),
            "Describe the content of each marked region in the image. There are 6 regions: "
            "<region1> to <region6>.");
}

// Parity of the pure part against DataFlow-MM's committed output: the boxes
// of expected.jsonl, read as xywh pixels on the 1536x832 demo image, give
// exactly its normalized_bbox, valid_bboxes_num and prompt.
TEST(RegionBoxesTest, DataflowNormalisationMatchesFixture) {
  const std::filesystem::path fixture =
      std::filesystem::path(GROUNDCAP_SHARED_DIR) / "fixtures/dataflow_regioncap/expected.jsonl";
  GROUNDCAP_REQUIRE_SHARED_FIXTURE(fixture);
  std::ifstream in(fixture);
  ASSERT_TRUE(in.good());
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json want = json::parse(line);
    auto v = ValidateBoxes(want["bbox"], RegionBoxFormat::kXywh, RegionBoxUnits::kPixels,
                           Size{1536, 832});
    ASSERT_TRUE(v.has_value());
    EXPECT_TRUE(v->rejected.empty());
    std::vector<Box> boxes;
    for (const RegionBox& r : v->boxes) boxes.push_back(r.box);
    json norm = DataflowNormalize(boxes, Size{1536, 832}, 10);
    EXPECT_EQ(norm, want["normalized_bbox"]);
    EXPECT_EQ(norm.dump(), want["normalized_bbox"].dump());
    EXPECT_EQ(static_cast<int>(boxes.size()), want["valid_bboxes_num"].get<int>());
    EXPECT_EQ(DataflowPrompt(static_cast<int>(boxes.size())), want["prompt"]);
    ++rows;
  }
  EXPECT_EQ(rows, 2);
}

TEST(RegionBoxesTest, GroundingRecordBoxesKeepExpressionText) {
  json rec = json::parse(R"({
    "image_path": "a.jpg",
    "expressions": [
      {"text": "a red cup", "instances": [{"bbox": [1, 2, 30, 40], "bbox_score": 0.9},
                                          {"bbox": [50, 2, 80, 40]}]},
      {"text": "the table", "instances": []},
      {"text": "a dog", "instances": [{"bbox_score": 0.5}]}
    ]})");
  auto g = BoxesFromGroundingRecord(rec);
  ASSERT_TRUE(g.has_value());
  ASSERT_EQ(g->boxes.size(), 3u);
  EXPECT_EQ(g->texts, (std::vector<std::string>{"a red cup", "a red cup", "a dog"}));
  auto v = ValidateBoxes(g->boxes, RegionBoxFormat::kXyxy, RegionBoxUnits::kPixels, kImage);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->boxes.size(), 2u);
  ASSERT_EQ(v->rejected.size(), 1u);
  EXPECT_EQ(v->rejected[0].reason, "wrong_arity");
  EXPECT_FALSE(BoxesFromGroundingRecord(json::parse(R"({"image": "x"})")).has_value());
}

TEST(RegionBoxesTest, Grid1000) {
  auto g = ToGrid1000(Box{20, 10, 60, 50}, kImage);
  EXPECT_EQ(g, (std::array<int, 4>{100, 100, 300, 500}));
  auto full = ToGrid1000(Box{0, 0, 200, 100}, kImage);
  EXPECT_EQ(full, (std::array<int, 4>{0, 0, 1000, 1000}));
}

}  // namespace
}  // namespace groundcap
