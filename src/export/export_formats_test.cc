// Every export format on one fixed result set (tests/data/export/mixed.jsonl:
// an EXIF-rotated image, a failed sample, a missing image, a box outside its
// image, an unlocated expression, a Unicode caption with a combining accent
// and an emoji with a skin-tone modifier, region captions with a failed
// region): golden files, and structural validators written from each
// format's documentation. Regenerate the goldens after an intended change
// with GROUNDCAP_UPDATE_GOLDEN=1 groundcap_tests --gtest_filter='ExportFormats*'
// and read the diff.
#include <cstdlib>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "export/export_test_util.h"
#include "export/export_writer.h"
#include "image/image.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

using export_test::kData;
using export_test::MixedResults;
using export_test::SliceCodePoints;
using nlohmann::json;
using testing_util::ReadFile;
using testing_util::ReadJsonl;
namespace fs = std::filesystem;

class ExportFormatsTest : public MixedResults {
 protected:
  /// Exports mixed.jsonl to `format`, compares with the golden
  /// expected_mixed_<format>.<ext>, and returns the output path.
  fs::path ExportAndCompare(const std::string& format, const std::string& ext, ExportCounts* counts = nullptr) {
    ExportRequest req;
    req.format = ExportFormatFromName(format);
    req.input = results().string();
    req.output = out("export." + ext).string();
    req.image_root = data().string();
    ExportCounts c = RunExport(req);
    if (counts) *counts = c;
    Golden(req.output, "expected_mixed_" + format + "." + ext);
    return req.output;
  }

  void Golden(const fs::path& produced_path, const std::string& name) {
    // Paths under the temporary directory are written as $DIR.
    std::string produced = ReadFile(produced_path);
    const std::string dir = dir_.string();
    for (size_t p = produced.find(dir); p != std::string::npos; p = produced.find(dir, p)) {
      produced.replace(p, dir.size(), "$DIR");
    }
    const fs::path golden = kData / name;
    if (std::getenv("GROUNDCAP_UPDATE_GOLDEN")) testing_util::WriteFile(golden, produced);
    EXPECT_EQ(produced, ReadFile(golden)) << "golden " << golden;
  }
};

/// Shared: a box is 4 numbers with x2 > x1, y2 > y1, inside w x h.
void ExpectXyxyInside(const json& b, int w, int h) {
  ASSERT_TRUE(b.is_array() && b.size() == 4) << b;
  for (const auto& v : b) ASSERT_TRUE(v.is_number()) << b;
  EXPECT_GE(b[0].get<double>(), 0);
  EXPECT_GE(b[1].get<double>(), 0);
  EXPECT_GT(b[2].get<double>(), b[0].get<double>()) << "xyxy: x2 > x1 " << b;
  EXPECT_GT(b[3].get<double>(), b[1].get<double>()) << "xyxy: y2 > y1 " << b;
  EXPECT_LE(b[2].get<double>(), w);
  EXPECT_LE(b[3].get<double>(), h);
}

TEST_F(ExportFormatsTest, SkippedListNamesEveryLeftOutThingWithItsReason) {
  ExportCounts c;
  fs::path path = ExportAndCompare("odvg_detection", "jsonl", &c);
  Golden(ExportSkippedPath(path.string()), "expected_mixed_skipped.jsonl");
  std::multiset<std::string> reasons;
  for (const auto& s : ReadJsonl<json>(ExportSkippedPath(path.string()))) {
    ASSERT_TRUE(s["line"].is_number_integer() && s["reason"].is_string() && s["level"].is_string()) << s;
    reasons.insert(s["reason"].get<std::string>());
  }
  EXPECT_EQ(reasons.count("status_failed"), 1u);
  EXPECT_EQ(reasons.count("missing_image"), 1u);
  EXPECT_EQ(reasons.count("outside_image"), 1u);
  EXPECT_EQ(reasons.count("region_not_ok"), 1u);
  EXPECT_EQ(c.records_read, 6);
  EXPECT_EQ(c.records_written, 4);  // street, rotated, two region records
  EXPECT_EQ(c.left_out_by_status.at("failed"), 1);
  EXPECT_EQ(c.records_missing_image, 1);
  EXPECT_EQ(c.instances_outside_image, 1);
  EXPECT_EQ(c.regions_not_ok, 1);
}

TEST_F(ExportFormatsTest, AnImageResizedSinceLabellingIsLeftOutAndARotatedOneIsKept) {
  // Real JPEG headers now: rotated.jpg stored 1200x900 as its records say
  // (upright 900x1200, an EXIF rotation swaps the sides), street.jpg at
  // half the 640x480 its boxes were made on.
  auto jpeg = [](int w, int h) {
    Result<std::string> bytes = EncodeImage(RgbImage::Filled(w, h, 90), "jpeg", 80);
    EXPECT_TRUE(bytes.has_value());
    return bytes.value_or("");
  };
  testing_util::WriteFile(data() / "images" / "rotated.jpg", jpeg(1200, 900));
  testing_util::WriteFile(data() / "images" / "street.jpg", jpeg(320, 240));
  ExportRequest req;
  req.format = ExportFormatFromName("odvg_detection");
  req.input = results().string();
  req.output = out("export.jsonl").string();
  req.image_root = data().string();
  ExportCounts c = RunExport(req);
  EXPECT_EQ(c.records_image_size_changed, 2) << "both street.jpg records";
  EXPECT_EQ(c.records_written, 2) << "the two rotated.jpg records";
  int changed = 0;
  for (const auto& s : ReadJsonl<json>(ExportSkippedPath(req.output))) {
    if (s["reason"] != "image_size_changed") continue;
    ++changed;
    EXPECT_NE(s["detail"].get<std::string>().find("is 320x240 but the record's boxes are on a 640x480 image"),
              std::string::npos)
        << s;
  }
  EXPECT_EQ(changed, 2);
  // --no-image-check trusts the records, as documented.
  req.check_images = false;
  EXPECT_EQ(RunExport(req).records_image_size_changed, 0);
}

TEST_F(ExportFormatsTest, OdvgGroundingSpansAreCodePointsOfTheCaption) {
  ExportCounts c;
  fs::path path = ExportAndCompare("odvg", "jsonl", &c);
  EXPECT_EQ(c.records_wrong_pipeline, 2) << "region-caption records cannot be grounding data";
  for (const auto& line : ReadJsonl<json>(path)) {
    ASSERT_TRUE(line["filename"].is_string() && line["height"].is_number_integer() && line["width"].is_number_integer());
    EXPECT_FALSE(fs::path(line["filename"].get<std::string>()).is_absolute()) << "relative to --image-root";
    const std::string caption = line["grounding"]["caption"];
    for (const auto& r : line["grounding"]["regions"]) {
      ExpectXyxyInside(r["bbox"], line["width"], line["height"]);
      for (const auto& span : r["tokens_positive"]) {
        EXPECT_EQ(SliceCodePoints(caption, span[0], span[1]), r["phrase"].get<std::string>()) << caption;
      }
    }
  }
}

TEST_F(ExportFormatsTest, CocoIdsAreUniqueAndBoxesXywh) {
  fs::path path = ExportAndCompare("coco", "json");
  json doc = json::parse(ReadFile(path));
  std::set<int64_t> image_ids, ann_ids;
  std::map<int64_t, json> images;
  for (const auto& im : doc["images"]) {
    EXPECT_TRUE(image_ids.insert(im["id"].get<int64_t>()).second);
    images[im["id"]] = im;
  }
  for (const auto& a : doc["annotations"]) {
    EXPECT_TRUE(ann_ids.insert(a["id"].get<int64_t>()).second);
    const json& im = images.at(a["image_id"]);
    const json& b = a["bbox"];
    EXPECT_GT(b[2].get<double>(), 0);
    EXPECT_GT(b[3].get<double>(), 0);
    EXPECT_LE(b[0].get<double>() + b[2].get<double>(), im["width"].get<double>()) << "xywh: x + w inside";
    EXPECT_DOUBLE_EQ(a["area"].get<double>(), b[2].get<double>() * b[3].get<double>());
    const int64_t len = static_cast<int64_t>(SliceCodePoints(im["caption"], 0, 1 << 30).size());
    for (const auto& span : a["tokens_positive"]) EXPECT_LE(span[1].get<int64_t>(), len);
  }
}

TEST_F(ExportFormatsTest, OdvgDetectionLabelsIndexTheLabelMapFromZero) {
  fs::path path = ExportAndCompare("odvg_detection", "jsonl");
  Golden(ExportSidePath(path.string(), "_label_map.json"), "expected_mixed_odvg_detection_label_map.json");
  json map = json::parse(ReadFile(ExportSidePath(path.string(), "_label_map.json")));
  for (size_t i = 0; i < map.size(); ++i) ASSERT_TRUE(map.contains(std::to_string(i))) << "indices from 0: " << map;
  std::set<std::string> categories;
  for (const auto& line : ReadJsonl<json>(path)) {
    ASSERT_TRUE(line["detection"]["instances"].is_array());
    for (const auto& inst : line["detection"]["instances"]) {
      ExpectXyxyInside(inst["bbox"], line["width"], line["height"]);
      ASSERT_TRUE(inst["label"].is_number_integer());
      EXPECT_EQ(map.at(std::to_string(inst["label"].get<int>())), inst["category"]);
      categories.insert(inst["category"]);
    }
  }
  // Grounding phrases map to their noun chunk, region captions to their head noun.
  EXPECT_EQ(categories, (std::set<std::string>{"man", "dog", "sign", "bike", "leash", "sticker"}));
}

/// LLaVA / Qwen-VL / InternVL: alternating human/gpt turns, one <image> tag first.
void ExpectConversation(const json& entry) {
  ASSERT_TRUE(entry["id"].is_string() && entry["image"].is_string()) << entry;
  const json& conv = entry["conversations"];
  ASSERT_TRUE(conv.is_array() && !conv.empty() && conv.size() % 2 == 0) << entry;
  int image_tags = 0;
  for (size_t i = 0; i < conv.size(); ++i) {
    EXPECT_EQ(conv[i]["from"], i % 2 == 0 ? "human" : "gpt");
    const std::string v = conv[i]["value"];
    EXPECT_FALSE(v.empty());
    for (size_t p = v.find("<image>"); p != std::string::npos; p = v.find("<image>", p + 1)) ++image_tags;
  }
  EXPECT_EQ(image_tags, 1);
  EXPECT_EQ(conv[0]["value"].get<std::string>().rfind("<image>\n", 0), 0u);
}

TEST_F(ExportFormatsTest, LlavaAndChatJsonlAreConversations) {
  fs::path llava = ExportAndCompare("llava", "json");
  std::set<std::string> ids;
  for (const auto& e : json::parse(ReadFile(llava))) {
    ExpectConversation(e);
    EXPECT_TRUE(ids.insert(e["id"]).second) << "ids unique";
  }
  for (const char* f : {"qwen2_5_vl", "qwen3_vl", "internvl"}) {
    fs::path p = ExportAndCompare(f, "jsonl");
    for (const auto& e : ReadJsonl<json>(p)) {
      ExpectConversation(e);
      EXPECT_TRUE(e["width"].is_number_integer() && e["height"].is_number_integer());
    }
  }
}

TEST_F(ExportFormatsTest, GeminiTuningLinesAlternateUserAndModel) {
  fs::path p = ExportAndCompare("gemini", "jsonl");
  for (const auto& e : ReadJsonl<json>(p)) {
    const json& contents = e["contents"];
    ASSERT_TRUE(contents.is_array() && contents.size() % 2 == 0);
    EXPECT_EQ(contents[0]["parts"][0]["fileData"]["mimeType"], "image/jpeg");
    for (size_t i = 0; i < contents.size(); ++i) {
      EXPECT_EQ(contents[i]["role"], i % 2 == 0 ? "user" : "model");
      EXPECT_TRUE(contents[i]["parts"].back()["text"].is_string());
    }
  }
}

TEST_F(ExportFormatsTest, LabelStudioRectanglesArePercentOfTheUprightImage) {
  fs::path p = ExportAndCompare("label_studio", "json");
  Golden(ExportSidePath(p.string(), "_config.xml"), "expected_mixed_label_studio_config.xml");
  for (const auto& task : json::parse(ReadFile(p))) {
    ASSERT_TRUE(task["data"]["image"].is_string());
    const json& result = task["predictions"][0]["result"];
    std::map<std::string, int> per_id;
    for (const auto& r : result) {
      ++per_id[r["id"]];
      EXPECT_EQ(r["to_name"], "image");
      const json& v = r["value"];
      for (const char* k : {"x", "y", "width", "height"}) {
        EXPECT_GE(v[k].get<double>(), 0);
        EXPECT_LE(v[k].get<double>(), 100);
      }
      EXPECT_LE(v["x"].get<double>() + v["width"].get<double>(), 100 + 1e-9);
      EXPECT_LE(v["y"].get<double>() + v["height"].get<double>(), 100 + 1e-9);
      EXPECT_EQ(r["original_width"], task["data"]["width"]);
      if (r["type"] == "rectanglelabels") {
        EXPECT_EQ(v["rectanglelabels"].size(), 1u);
      } else {
        EXPECT_EQ(r["type"], "textarea");
        EXPECT_EQ(v["text"].size(), 1u);
      }
    }
    for (const auto& [id, n] : per_id) EXPECT_EQ(n, 2) << "a rectangle and its text share id " << id;
  }
}

TEST_F(ExportFormatsTest, DenseCaptionsAreVisualGenomeRegions) {
  ExportCounts c;
  fs::path p = ExportAndCompare("vg_regions", "json", &c);
  EXPECT_EQ(c.records_wrong_pipeline, 3) << "grounding records are not region captions";
  std::set<int64_t> region_ids;
  for (const auto& entry : json::parse(ReadFile(p))) {
    for (const auto& r : entry["regions"]) {
      EXPECT_TRUE(region_ids.insert(r["region_id"].get<int64_t>()).second);
      EXPECT_EQ(r["image_id"], entry["id"]);
      EXPECT_GT(r["width"].get<double>(), 0);
      EXPECT_LE(r["x"].get<double>() + r["width"].get<double>(), entry["width"].get<double>());
      EXPECT_LE(r["y"].get<double>() + r["height"].get<double>(), entry["height"].get<double>());
      EXPECT_FALSE(r["phrase"].get<std::string>().empty());
    }
  }
  EXPECT_EQ(region_ids.size(), 3u) << "the failed region is left out";
}

TEST_F(ExportFormatsTest, FiltersLeaveOutAndCount) {
  ExportRequest req;
  req.format = ExportFormat::kOdvgDetection;
  req.input = results().string();
  req.output = out("f.jsonl").string();
  req.image_root = data().string();
  req.filters.min_score = 0.5;  // the bike (0.3)
  req.filters.min_box_size = 40;  // the sticker (30x15)
  req.filters.drop_unlocated = true;  // the leash
  ExportCounts c = RunExport(req);
  EXPECT_EQ(c.instances_below_min_score, 1);
  EXPECT_EQ(c.instances_below_min_size, 1);
  EXPECT_EQ(c.expressions_without_span, 1);
  req.filters = ExportFilters{};
  req.filters.verified_only = true;  // no record of the set was verified
  c = RunExport(req);
  EXPECT_EQ(c.records_written, 0);
  EXPECT_GT(c.instances_not_verified, 0);
  // Absolute paths without --image-root; an image outside --image-root is left out.
  req.filters = ExportFilters{};
  req.image_root.clear();
  req.data_root = data().string();
  c = RunExport(req);
  for (const auto& line : ReadJsonl<json>(req.output)) {
    EXPECT_TRUE(fs::path(line["filename"].get<std::string>()).is_absolute());
    EXPECT_TRUE(fs::exists(line["filename"].get<std::string>()));
  }
  req.image_root = (data() / "elsewhere").string();
  c = RunExport(req);
  EXPECT_EQ(c.records_written, 0);
  EXPECT_EQ(c.records_outside_image_root, 4);
}

}  // namespace
}  // namespace groundcap

namespace groundcap {
namespace {

TEST(ExportHeadNoun, CutsAtTheFirstClauseAndTakesTheLastWord) {
  EXPECT_EQ(HeadNoun("A man in a red hat holding a dog."), "man");
  EXPECT_EQ(HeadNoun("a small brown dog"), "dog");
  EXPECT_EQ(HeadNoun("A wooden caf\u00e9 sign with white letters."), "sign");
  EXPECT_EQ(HeadNoun("A tiny sticker 👋🏽 on the pole."), "sticker") << "emoji are not words";
  EXPECT_EQ(HeadNoun("\"The Eiffel Tower\", at night"), "tower");
  EXPECT_EQ(HeadNoun(""), "object");
  EXPECT_EQ(HeadNoun("with"), "with") << "a lone cut word is still the phrase";
}

}  // namespace
}  // namespace groundcap
