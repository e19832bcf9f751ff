// Tests of box formats, mapping, hygiene and smart_resize, plus the golden
// replies in tests/data/replies/ (one .txt reply + one .json expectation).
#include "boxes/box_format.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace groundcap {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += "  " + x + "\n";
  return s;
}

TEST(BoxFormatGolden, EveryReplyMatchesItsExpectation) {
  fs::path dir = fs::path(GROUNDCAP_SOURCE_DIR) / "tests/data/replies";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  int cases = 0;
  std::set<std::string> formats_seen;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    fs::path reply_path = entry.path();
    reply_path.replace_extension(".txt");
    const std::string name = entry.path().stem().string();
    SCOPED_TRACE(name);
    ASSERT_TRUE(fs::exists(reply_path)) << "missing reply for " << name;
    nlohmann::json exp = nlohmann::json::parse(ReadAll(entry.path()));
    ParseBoxesOptions o;
    std::string fmt = exp.at("format");
    if (fmt == "auto") {
      o.format = AutoBoxFormat(exp.at("model").get<std::string>());
    } else {
      auto f = BoxFormatFromName(fmt);
      ASSERT_TRUE(f.has_value()) << fmt;
      o.format = *f;
    }
    formats_seen.insert(BoxFormatName(o.format));
    o.image = Size{exp["image"][0], exp["image"][1]};
    if (exp.contains("input")) o.input = Size{exp["input"][0], exp["input"][1]};
    if (exp.contains("min_size")) o.hygiene.min_size = exp["min_size"];
    if (exp.contains("dedupe_iou")) o.hygiene.dedupe_iou = exp["dedupe_iou"];
    if (exp.contains("range_tolerance")) o.hygiene.range_tolerance = exp["range_tolerance"];
    auto got = ParseBoxes(ReadAll(reply_path), o);
    ++cases;
    if (exp.contains("error")) {
      ASSERT_FALSE(got.has_value()) << "expected an error";
      EXPECT_EQ(ErrorKindName(got.error().kind), exp["error"].get<std::string>()) << got.error().message;
      continue;
    }
    ASSERT_TRUE(got.has_value()) << got.error().message;
    const auto& boxes = exp.at("boxes");
    ASSERT_EQ(got->boxes.size(), boxes.size()) << Joined(got->diagnostics);
    for (size_t i = 0; i < boxes.size(); ++i) {
      const Box& b = got->boxes[i];
      const auto& e = boxes[i];
      double want[4] = {e["bbox"][0], e["bbox"][1], e["bbox"][2], e["bbox"][3]};
      double have[4] = {b.x1, b.y1, b.x2, b.y2};
      for (int k = 0; k < 4; ++k) EXPECT_NEAR(have[k], want[k], 0.01) << "box " << i << " coord " << k;
      EXPECT_EQ(b.label, e["label"].is_null() ? "" : e["label"].get<std::string>()) << "box " << i;
      if (e["score"].is_null()) {
        EXPECT_FALSE(b.score.has_value()) << "box " << i;
      } else {
        ASSERT_TRUE(b.score.has_value()) << "box " << i;
        EXPECT_DOUBLE_EQ(*b.score, e["score"].get<double>());
      }
    }
    for (const auto& want : exp.value("diagnostics_contain", nlohmann::json::array())) {
      bool found = false;
      for (const auto& d : got->diagnostics) found = found || d.find(want.get<std::string>()) != std::string::npos;
      EXPECT_TRUE(found) << "no diagnostic containing '" << want.get<std::string>() << "' in\n"
                         << Joined(got->diagnostics);
    }
  }
  EXPECT_GE(cases, 30);
  // Every named format has at least one golden reply.
  for (const auto& n : BoxFormatNames()) EXPECT_TRUE(formats_seen.count(n)) << "no golden reply for " << n;
}

TEST(BoxFormatNames, RoundTripAndReject) {
  for (const auto& n : BoxFormatNames()) {
    auto f = BoxFormatFromName(n);
    ASSERT_TRUE(f.has_value()) << n;
    EXPECT_EQ(BoxFormatName(*f), n);
  }
  EXPECT_EQ(BoxFormatNames().size(), 13u);
  EXPECT_FALSE(BoxFormatFromName("auto").has_value());
  EXPECT_FALSE(BoxFormatFromName("yolo").has_value());
  EXPECT_EQ(*BoxFormatFromName("Gemini"), BoxFormat::kGemini);
}

TEST(BoxFormatAuto, PicksFamilyFromModelName) {
  struct Case {
    const char* model;
    BoxFormat want;
  } cases[] = {
      {"gemini-2.5-flash", BoxFormat::kGemini},
      {"models/gemini-3-pro-preview", BoxFormat::kGemini},
      {"Qwen/Qwen2.5-VL-7B-Instruct", BoxFormat::kQwen25Vl},
      {"qwen2.5vl:7b", BoxFormat::kQwen25Vl},
      {"Qwen/Qwen3-VL-235B-A22B-Instruct", BoxFormat::kQwen3Vl},
      {"Qwen/Qwen2-VL-7B-Instruct", BoxFormat::kQwen2Vl},
      {"OpenGVLab/InternVL3-8B", BoxFormat::kInternVl},
      {"zai-org/GLM-4.5V", BoxFormat::kGlm4v},
      {"THUDM/GLM-4.1V-9B-Thinking", BoxFormat::kGlm4v},
      {"deepseek-ai/deepseek-vl2-small", BoxFormat::kDeepseekVl2},
      {"microsoft/Florence-2-large", BoxFormat::kFlorence2},
      {"google/paligemma2-3b-mix-448", BoxFormat::kPaliGemma},
      {"vikhyatk/moondream2", BoxFormat::kMoondream},
      {"gpt-4.1", BoxFormat::kXyxyNorm1000},
      {"glm-4-plus", BoxFormat::kXyxyNorm1000},
  };
  for (const auto& c : cases) {
    std::string why;
    EXPECT_EQ(AutoBoxFormat(c.model, &why), c.want) << c.model << ": " << why;
    EXPECT_NE(why.find(c.model), std::string::npos) << why;
  }
}

TEST(BoxFormatMap, EachFamilyConvention) {
  const Size img{2000, 1000};
  const double raw[4] = {100, 200, 300, 400};
  auto check = [&](BoxFormat f, Size input, double x1, double y1, double x2, double y2) {
    Box b = MapQuad(raw, f, img, input);
    EXPECT_NEAR(b.x1, x1, 1e-9) << BoxFormatName(f);
    EXPECT_NEAR(b.y1, y1, 1e-9) << BoxFormatName(f);
    EXPECT_NEAR(b.x2, x2, 1e-9) << BoxFormatName(f);
    EXPECT_NEAR(b.y2, y2, 1e-9) << BoxFormatName(f);
  };
  check(BoxFormat::kGemini, {}, 400, 100, 800, 300);  // y-x order
  for (BoxFormat f : {BoxFormat::kQwen2Vl, BoxFormat::kQwen3Vl, BoxFormat::kInternVl, BoxFormat::kGlm4v,
                      BoxFormat::kXyxyNorm1000}) {
    check(f, {}, 200, 200, 600, 400);
  }
  check(BoxFormat::kQwen25Vl, {1000, 500}, 200, 400, 600, 800);
  check(BoxFormat::kXyxyPixels, {}, 100, 200, 300, 400);
  check(BoxFormat::kDeepseekVl2, {}, 100 * 2000 / 999.0, 200 * 1000 / 999.0, 300 * 2000 / 999.0, 400 * 1000 / 999.0);
  check(BoxFormat::kFlorence2, {}, 201, 200.5, 601, 400.5);
  check(BoxFormat::kPaliGemma, {}, 200 * 2000 / 1024.0, 100 * 1000 / 1024.0, 400 * 2000 / 1024.0,
        300 * 1000 / 1024.0);
  const double unit[4] = {0.1, 0.2, 0.3, 0.4};
  Box m = MapQuad(unit, BoxFormat::kMoondream, img, {});
  EXPECT_NEAR(m.x1, 200, 1e-9);
  EXPECT_NEAR(m.y2, 400, 1e-9);
  EXPECT_TRUE(UsesInputPixels(BoxFormat::kQwen25Vl));
  EXPECT_TRUE(UsesInputPixels(BoxFormat::kXyxyPixels));
  EXPECT_FALSE(UsesInputPixels(BoxFormat::kQwen3Vl));
}

TEST(BoxFormatSmartResize, MatchesTheReferenceRule) {
  const int64_t kDefMin = 4 * 28 * 28, kDefMax = 16384LL * 28 * 28, k1280 = 1280 * 28 * 28;
  struct Case {
    Size in;
    int64_t min_px, max_px;
    Size want;
  } cases[] = {
      {{1920, 1080}, kDefMin, kDefMax, {1932, 1092}},
      {{1920, 1080}, kDefMin, k1280, {1316, 728}},
      {{1920, 1080}, 512 * 28 * 28, 2048 * 28 * 28, {1680, 924}},
      {{640, 480}, kDefMin, kDefMax, {644, 476}},
      {{4032, 3024}, kDefMin, kDefMax, {4032, 3024}},
      {{4032, 3024}, kDefMin, k1280, {1148, 840}},
      {{40, 30}, kDefMin, kDefMax, {84, 56}},
      // 70/28 = 2.5 rounds to 2 (Python's half-to-even), not 3.
      {{98, 70}, kDefMin, kDefMax, {112, 56}},
  };
  for (const auto& c : cases) {
    Size got = SmartResize(c.in, 28, c.min_px, c.max_px);
    EXPECT_EQ(got, c.want) << c.in.width << "x" << c.in.height << " -> " << got.width << "x" << got.height;
  }
  // The result is a fixed point: resizing the resized image changes nothing.
  Size once = SmartResize({1920, 1080}, 28, kDefMin, k1280);
  EXPECT_EQ(SmartResize(once, 28, kDefMin, k1280), once);
  EXPECT_EQ(SmartResize({0, 10}), (Size{0, 0}));
}

TEST(BoxFormatHygiene, SwapClampDropDedupeAreRecorded) {
  std::vector<Box> boxes(4);
  boxes[0] = Box{50, 60, 10, 20, "swap", std::nullopt};
  boxes[1] = Box{-5, -5, 30, 120, "clamp", std::nullopt};
  boxes[2] = Box{10, 10, 10.4, 40, "thin", std::nullopt};
  boxes[3] = Box{10, 20, 50, 60, "swap", 0.8};  // duplicate of boxes[0] after swap
  std::vector<std::string> diag;
  ApplyHygiene(boxes, Size{100, 100}, BoxHygiene{}, &diag);
  ASSERT_EQ(boxes.size(), 2u);
  EXPECT_EQ(boxes[0].x1, 10);
  EXPECT_EQ(boxes[0].y2, 60);
  EXPECT_EQ(boxes[0].score, 0.8);  // the duplicate's score is kept
  EXPECT_EQ(boxes[1].x1, 0);
  EXPECT_EQ(boxes[1].y2, 100);
  ASSERT_EQ(diag.size(), 4u) << Joined(diag);
  EXPECT_NE(diag[0].find("swapped"), std::string::npos);
  EXPECT_NE(diag[1].find("clamped"), std::string::npos);
  EXPECT_NE(diag[2].find("min size"), std::string::npos);
  EXPECT_NE(diag[3].find("duplicate"), std::string::npos);
}

TEST(BoxFormatHygiene, DedupeOnlyWithinALabel) {
  std::vector<Box> boxes = {Box{0, 0, 10, 10, "a", std::nullopt}, Box{0, 0, 10, 11, "b", std::nullopt},
                            Box{0, 0, 10, 11, "a", std::nullopt}};
  std::vector<Box> copy = boxes;
  ApplyHygiene(copy, Size{100, 100}, BoxHygiene{1.0, 0}, nullptr);
  EXPECT_EQ(copy.size(), 3u);  // dedupe off
  ApplyHygiene(boxes, Size{100, 100}, BoxHygiene{1.0, 0.8}, nullptr);
  ASSERT_EQ(boxes.size(), 2u);
  EXPECT_EQ(boxes[1].label, "b");
}

TEST(BoxFormatParse, Qwen25RoundTripThroughSmartResize) {
  // The pipeline sends an image already at its smart_resize size, so the
  // server keeps it and replies in those pixels; mapping back is exact.
  Size original{1920, 1080};
  Size sent = SmartResize(original, 28, 4 * 28 * 28, 1280 * 28 * 28);
  ParseBoxesOptions o;
  o.format = BoxFormat::kQwen25Vl;
  o.image = original;
  o.input = sent;
  std::string reply = "[{\"bbox_2d\": [0, 0, " + std::to_string(sent.width) + ", " + std::to_string(sent.height) +
                      "], \"label\": \"E0\"}]";
  auto got = ParseBoxes(reply, o);
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->boxes.size(), 1u);
  EXPECT_DOUBLE_EQ(got->boxes[0].x2, 1920);
  EXPECT_DOUBLE_EQ(got->boxes[0].y2, 1080);
}

TEST(BoxFormatParse, MissingInputSizeIsReported) {
  ParseBoxesOptions o;
  o.format = BoxFormat::kQwen25Vl;
  o.image = Size{100, 100};
  auto got = ParseBoxes("[{\"bbox_2d\": [10, 10, 20, 20]}]", o);
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->boxes.size(), 1u);
  EXPECT_NE(got->diagnostics[0].find("input size not given"), std::string::npos);
}

TEST(BoxFormatParse, RangeToleranceClampsWithinAndDropsBeyondOnEverySide) {
  // gemini: 0-1000 per axis, y first. Tolerance 0.5 allows [-500, 1500].
  ParseBoxesOptions o;
  o.format = BoxFormat::kGemini;
  o.image = Size{200, 100};
  auto parse = [&](const std::string& quad) {
    auto got = ParseBoxes("[{\"box_2d\": " + quad + ", \"label\": \"a\"}]", o);
    EXPECT_TRUE(got.has_value());
    return got ? *got : ParsedBoxes{};
  };
  for (const char* inside : {"[0, -500, 500, 500]", "[0, 0, 1500, 500]", "[-500, 0, 500, 500]",
                             "[0, 0, 500, 1500]"}) {
    SCOPED_TRACE(inside);
    ParsedBoxes got = parse(inside);
    ASSERT_EQ(got.boxes.size(), 1u) << Joined(got.diagnostics);
    const Box& b = got.boxes[0];
    EXPECT_TRUE(b.x1 >= 0 && b.y1 >= 0 && b.x2 <= 200 && b.y2 <= 100);
    ASSERT_EQ(got.diagnostics.size(), 1u) << Joined(got.diagnostics);
    EXPECT_NE(got.diagnostics[0].find("raw box 0 ('a') " + std::string(inside)), std::string::npos)
        << got.diagnostics[0];
    EXPECT_NE(got.diagnostics[0].find("by 50% of it"), std::string::npos) << got.diagnostics[0];
  }
  for (const char* beyond : {"[0, -501, 500, 500]", "[0, 0, 1501, 500]", "[-501, 0, 500, 500]",
                             "[0, 0, 500, 1501]"}) {
    SCOPED_TRACE(beyond);
    ParsedBoxes got = parse(beyond);
    EXPECT_TRUE(got.boxes.empty());
    ASSERT_EQ(got.diagnostics.size(), 1u) << Joined(got.diagnostics);
    EXPECT_NE(got.diagnostics[0].find("far outside"), std::string::npos);
  }
  // Configurable: 0 drops any out-of-range value, 2 keeps three ranges' worth.
  o.hygiene.range_tolerance = 0;
  EXPECT_TRUE(parse("[0, 0, 1001, 500]").boxes.empty());
  EXPECT_EQ(parse("[0, 0, 1000, 500]").boxes.size(), 1u);
  o.hygiene.range_tolerance = 2;
  EXPECT_EQ(parse("[0, 0, 2900, 500]").boxes.size(), 1u);
  // A box that is entirely off the canvas clamps to a line: min_size drops it.
  ParsedBoxes off = parse("[1100, 0, 1400, 500]");
  EXPECT_TRUE(off.boxes.empty());
  EXPECT_NE(Joined(off.diagnostics).find("min size"), std::string::npos) << Joined(off.diagnostics);
}

TEST(BoxFormatParse, BadImageSizeIsAnError) {
  ParseBoxesOptions o;
  o.image = Size{0, 10};
  auto got = ParseBoxes("[]", o);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().kind, ErrorKind::kInvalidInput);
}

TEST(BoxFormatParse, PipelinePromptShapeCarriesLabelsForEveryKey) {
  ParseBoxesOptions o;
  o.image = Size{1000, 1000};
  o.format = BoxFormat::kXyxyNorm1000;
  auto got = ParseBoxes(
      R"([{"label": "E0", "bbox": [0, 0, 100, 100], "score": 0.9}, {"label": "E3", "bbox": [100, 100, 300, 300], "score": "0.4"}])",
      o);
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->boxes.size(), 2u);
  EXPECT_EQ(got->boxes[0].label, "E0");
  EXPECT_EQ(got->boxes[1].label, "E3");
  EXPECT_EQ(got->boxes[1].score, 0.4);
}

TEST(BoxFormatCli, ParseReplyPrintsPixelsAndDiagnostics) {
  fs::path dir = fs::temp_directory_path() / ("gc_boxes_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path reply = dir / "reply.txt";
  std::ofstream(reply) << "```json\n[{\"box_2d\": [100, 200, 400, 600], \"label\": \"E0\"}]\n```";
  std::string cmd = std::string(GROUNDCAP_BINARY) + " parse-reply --format auto --model gemini-2.5-flash " +
                    "--image-size 1000x500 " + reply.string() + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  fs::remove_all(dir);
  ASSERT_EQ(rc, 0) << out;
  auto j = nlohmann::json::parse(out);
  ASSERT_EQ(j["boxes"].size(), 1u) << out;
  EXPECT_EQ(j["boxes"][0]["bbox"], nlohmann::json({200.0, 50.0, 600.0, 200.0}));
  EXPECT_EQ(j["boxes"][0]["label"], "E0");
  EXPECT_TRUE(j["boxes"][0]["score"].is_null());
  EXPECT_EQ(j["format"], "gemini");
  EXPECT_NE(j["diagnostics"][0].get<std::string>().find("auto format: gemini"), std::string::npos);
}

}  // namespace
}  // namespace groundcap
