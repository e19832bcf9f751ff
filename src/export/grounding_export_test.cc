// Golden files and structural checks of the ODVG and MDETR-COCO exports.
// Regenerate the goldens after an intended change with
//   GROUNDCAP_UPDATE_GOLDEN=1 groundcap_tests --gtest_filter='ExportGolden*'
// and read the diff.
#include "export/grounding_export.h"

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "export/export_test_util.h"
#include "export/export_writer.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using export_test::SliceCodePoints;
using nlohmann::ordered_json;
using testing_util::ReadFile;
using testing_util::ReadJsonl;
using testing_util::WriteFile;

const fs::path kData = fs::path(GROUNDCAP_SOURCE_DIR) / "tests" / "data" / "export";

class ExportGoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gc_export_golden_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Exports the fixture and compares with (or rewrites) the golden file.
  ExportCounts ExportAndCompare(ExportFormat format, const std::string& golden_name) {
    ExportRequest req;
    req.format = format;
    req.input = (kData / "results.jsonl").string();
    req.output = (dir_ / golden_name).string();
    // The fixture's images are not in the tree: paths are checked by the
    // export_formats tests; here they are written relative to kData.
    req.image_root = kData.string();
    req.check_images = false;
    ExportCounts counts = RunExport(req);
    const std::string produced = ReadFile(req.output);
    const fs::path golden = kData / golden_name;
    if (std::getenv("GROUNDCAP_UPDATE_GOLDEN")) WriteFile(golden, produced);
    EXPECT_EQ(produced, ReadFile(golden)) << "golden " << golden << " differs; see the file's header";
    return counts;
  }

  /// The kept boxes of the fixture in output order: (image_path, xyxy).
  static std::vector<std::pair<std::string, XyxyBox>> ExpectedBoxes() {
    return {{"images/street.jpg", {40, 20, 300, 470}},  {"images/street.jpg", {120, 20, 210, 80}},
            {"images/street.jpg", {310.5, 300, 420, 470}}, {"images/猫.jpg", {100, 150, 260, 300}},
            {"images/猫.jpg", {0, 200, 400, 400}},      {"images/猫.jpg", {380, 210, 420, 390}}};
  }

  fs::path dir_;
};

void ExpectFixtureCounts(const ExportCounts& c) {
  EXPECT_EQ(c.records_read, 5);
  EXPECT_EQ(c.records_written, 2);
  EXPECT_EQ(c.regions_written, 6);
  EXPECT_EQ(c.left_out_by_status, (std::map<std::string, int64_t>{{"failed", 1}, {"flagged", 1}}));
  EXPECT_EQ(c.records_without_regions, 1);  // every box rejected
  EXPECT_EQ(c.records_unusable, 0);
  EXPECT_EQ(c.instances_rejected, 2);
  EXPECT_EQ(c.instances_bad_box, 0);
  EXPECT_EQ(c.expressions_without_span, 1);
  EXPECT_EQ(c.expressions_without_boxes, 1);
}

TEST_F(ExportGoldenTest, OdvgMatchesGoldenAndIsStructurallyValid) {
  ExpectFixtureCounts(ExportAndCompare(ExportFormat::kOdvg, "expected_odvg.jsonl"));
  auto lines = ReadJsonl(dir_ / "expected_odvg.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  auto expected = ExpectedBoxes();
  size_t k = 0;
  for (const auto& line : lines) {
    ASSERT_TRUE(line["filename"].is_string());
    ASSERT_TRUE(line["height"].is_number_integer());
    ASSERT_TRUE(line["width"].is_number_integer());
    const std::string caption = line["grounding"]["caption"];
    const int64_t len = CodePointCount(caption);
    for (const auto& r : line["grounding"]["regions"]) {
      ASSERT_LT(k, expected.size());
      EXPECT_EQ(line["filename"], expected[k].first);
      XyxyBox b{r["bbox"][0].get<double>(), r["bbox"][1].get<double>(), r["bbox"][2].get<double>(),
                r["bbox"][3].get<double>()};
      EXPECT_EQ(b, expected[k].second) << "ODVG bbox is xyxy pixels";
      EXPECT_LE(b[2], line["width"].get<double>());
      EXPECT_LE(b[3], line["height"].get<double>());
      ASSERT_EQ(r["tokens_positive"].size(), 1u);
      int64_t s = r["tokens_positive"][0][0], e = r["tokens_positive"][0][1];
      EXPECT_TRUE(0 <= s && s < e && e <= len);
      EXPECT_EQ(SliceCodePoints(caption, s, e), r["phrase"].get<std::string>()) << "caption[span] is the phrase";
      ++k;
    }
  }
  EXPECT_EQ(k, expected.size());
  // The CJK caption: spans count code points (the emoji is one), not bytes.
  EXPECT_EQ(lines[1]["grounding"]["regions"][0]["tokens_positive"], ordered_json::parse("[[2, 6]]"));
}

TEST_F(ExportGoldenTest, CocoMatchesGoldenIdsAreUniqueAndXywhRoundTrips) {
  ExpectFixtureCounts(ExportAndCompare(ExportFormat::kCoco, "expected_coco.json"));
  auto doc = ordered_json::parse(ReadFile(dir_ / "expected_coco.json"));
  ASSERT_EQ(doc["images"].size(), 2u);
  ASSERT_EQ(doc["annotations"].size(), 6u);
  EXPECT_EQ(doc["categories"], ordered_json::parse(R"([{"id": 1, "name": "object"}])"));
  std::map<int64_t, ordered_json> images;
  for (const auto& im : doc["images"]) {
    EXPECT_TRUE(images.emplace(im["id"].get<int64_t>(), im).second) << "image ids unique";
    const std::string caption = im["caption"];
    EXPECT_EQ(im["tokens_negative"][0][1].get<int64_t>(), CodePointCount(caption));
    for (const auto& spans : im["tokens_positive_eval"]) {
      for (const auto& sp : spans) EXPECT_LE(sp[1].get<int64_t>(), CodePointCount(caption));
    }
  }
  auto expected = ExpectedBoxes();
  std::set<int64_t> ann_ids;
  for (size_t k = 0; k < doc["annotations"].size(); ++k) {
    const auto& a = doc["annotations"][k];
    EXPECT_TRUE(ann_ids.insert(a["id"].get<int64_t>()).second) << "annotation ids unique";
    ASSERT_TRUE(images.count(a["image_id"].get<int64_t>())) << "image_id names an image";
    const auto& im = images[a["image_id"].get<int64_t>()];
    EXPECT_EQ(im["file_name"], expected[k].first);
    XywhBox xywh{a["bbox"][0].get<double>(), a["bbox"][1].get<double>(), a["bbox"][2].get<double>(),
                 a["bbox"][3].get<double>()};
    EXPECT_EQ(XywhToXyxy(xywh), expected[k].second) << "COCO xywh converts back to the record's xyxy";
    EXPECT_DOUBLE_EQ(a["area"].get<double>(), xywh[2] * xywh[3]);
    EXPECT_EQ(a["iscrowd"], 0);
    EXPECT_EQ(a["category_id"], 1);
    int64_t s = a["tokens_positive"][0][0], e = a["tokens_positive"][0][1];
    EXPECT_LE(e, CodePointCount(im["caption"].get<std::string>()));
    EXPECT_LT(s, e);
  }
}

TEST(ExportBoxes, XyxyXywhRoundTrip) {
  for (XyxyBox b : {XyxyBox{0, 0, 1, 1}, XyxyBox{40, 20, 300, 470}, XyxyBox{310.5, 300, 420, 470.25}}) {
    XywhBox w = XyxyToXywh(b);
    EXPECT_EQ(w[0], b[0]);
    EXPECT_EQ(w[2], b[2] - b[0]);
    EXPECT_EQ(XywhToXyxy(w), b);
  }
}

TEST(ExportRecord, SpansAreCodePointsAndMustLieInsideTheCaption) {
  EXPECT_EQ(CodePointCount("🐈 一只"), 4);
  // The caption has 3 code points but 9 bytes: [0, 3] is a real span, [0, 4] is not.
  auto rec = ordered_json::parse(R"({"status":"ok","image_path":"a.jpg","image_width":10,"image_height":10,
    "cleaned_caption":"一只猫","expressions":[
      {"text":"一只猫","char_span":[0,3],"instances":[{"bbox":[0,0,5,5]}]},
      {"text":"x","char_span":[0,4],"instances":[{"bbox":[0,0,5,5]}]},
      {"text":"y","char_span":[2,2],"instances":[{"bbox":[0,0,5,5]}]},
      {"text":"z","char_span":null,"instances":[{"bbox":[0,0,5,5]}]},
      {"text":"w","instances":[{"bbox":[0,0,5,5]}]}]})");
  ExportImage image;
  ExportCounts counts;
  std::string reason;
  ASSERT_EQ(ReadGroundingRecord(rec, &image, &counts, &reason), RecordVerdict::kExport);
  ASSERT_EQ(image.expressions.size(), 1u);
  EXPECT_EQ(image.expressions[0].end, 3);
  EXPECT_EQ(counts.expressions_without_span, 4);
}

TEST(ExportRecord, InstancesRejectedOrMalformedAreLeftOutAndCounted) {
  auto rec = ordered_json::parse(R"({"status":"ok","image_path":"a.jpg","image_width":10,"image_height":10,
    "cleaned_caption":"a dog","expressions":[{"text":"a dog","char_span":[0,5],"instances":[
      {"bbox":[0,0,5,5],"verified":true},{"bbox":[1,1,6,6],"verified":false},{"bbox":[1,1,6,6]},
      {"bbox":[5,5,5,9]},{"bbox":[1,2,3]},{"bbox":"x"}]}]})");
  ExportImage image;
  ExportCounts counts;
  std::string reason;
  ASSERT_EQ(ReadGroundingRecord(rec, &image, &counts, &reason), RecordVerdict::kExport);
  EXPECT_EQ(image.box_count(), 2);
  EXPECT_EQ(counts.instances_rejected, 1);
  EXPECT_EQ(counts.instances_bad_box, 3);
}

TEST(ExportRecord, StatusOtherThanOkAndOtherPipelinesAreLeftOut) {
  ExportImage image;
  ExportCounts counts;
  std::string reason;
  EXPECT_EQ(ReadGroundingRecord(ordered_json::parse(R"({"status":"flagged"})"), &image, &counts, &reason),
            RecordVerdict::kLeftOutByStatus);
  EXPECT_EQ(ReadGroundingRecord(ordered_json::parse(R"({"image_path":"a.jpg"})"), &image, &counts, &reason),
            RecordVerdict::kLeftOutByStatus);
  EXPECT_EQ(counts.left_out_by_status, (std::map<std::string, int64_t>{{"flagged", 1}, {"missing", 1}}));
  // A region-caption record: ok, but not image grounding.
  auto region = ordered_json::parse(R"({"status":"ok","image_path":"a.jpg","regions":[{"bbox":[0,0,1,1]}]})");
  EXPECT_EQ(ReadGroundingRecord(region, &image, &counts, &reason), RecordVerdict::kUnusable);
  EXPECT_NE(reason.find("region-caption record"), std::string::npos) << reason;
  EXPECT_EQ(counts.records_unusable, 1);
  EXPECT_EQ(counts.records_wrong_pipeline, 1);
}

}  // namespace
}  // namespace groundcap
