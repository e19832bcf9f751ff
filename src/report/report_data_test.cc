// Record -> page object conversion (golden file), the stream counters, and
// the escaping that keeps untrusted text inside the page's data block.
//
// Regenerate the golden file (then review it by hand):
//   GROUNDCAP_UPDATE_GOLDEN=1 groundcap_tests --gtest_filter='ReportData*Golden*'
#include "report/report_data.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report/report_page.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using testing_util::ReadFile;
using testing_util::ReadJsonl;
using testing_util::WriteFile;

const fs::path kData = fs::path(GROUNDCAP_SOURCE_DIR) / "tests" / "data";

TEST(ReportDataTest, GoldenSamplesFromGroundingAndRegionRecords) {
  // Grounding records (ok, with warnings, failed, no expression) and region
  // caption records (structured with a failed region, dataflow).
  std::vector<Json> records = ReadJsonl(kData / "grounding" / "expected_step1.jsonl");
  for (Json& r : ReadJsonl(kData / "report" / "region_records.jsonl")) records.push_back(std::move(r));
  std::string got;
  int64_t index = 0;
  for (const Json& record : records) {
    SampleContext context;
    context.index = index;
    context.line = index + 1;
    context.thumb_url = "report_thumbs/t" + std::to_string(index) + ".jpg";
    if (record.contains("answer")) context.width = 1000, context.height = 500;  // dataflow: probed size
    if (index == 0) context.eval = SampleEval{2, 1, 0.625};
    ++index;
    std::optional<ReportKind> kind = DetectReportKind(record);
    ASSERT_TRUE(kind.has_value()) << record.dump();
    got += ScriptSafeJson(SampleJson(record, *kind, context)) + "\n";
  }
  const fs::path golden = kData / "report" / "expected_samples.jsonl";
  if (std::getenv("GROUNDCAP_UPDATE_GOLDEN") != nullptr) WriteFile(golden, got);
  EXPECT_EQ(got, ReadFile(golden));
}

TEST(ReportDataTest, DetectsThePipelineFromTheFields) {
  EXPECT_EQ(DetectReportKind(Json::parse(R"({"cleaned_caption": "x", "expressions": []})")), ReportKind::kGrounding);
  EXPECT_EQ(DetectReportKind(Json::parse(R"({"image_path": "a.jpg", "caption": "x", "status": "failed"})")),
            ReportKind::kGrounding);
  EXPECT_EQ(DetectReportKind(Json::parse(R"({"image": "a.jpg", "regions": []})")), ReportKind::kRegionCaption);
  EXPECT_EQ(DetectReportKind(Json::parse(R"({"image": "a.jpg", "answer": "t", "bbox": []})")),
            ReportKind::kRegionCaption);
  // Chained region captioning keeps the grounding fields it read.
  EXPECT_EQ(DetectReportKind(Json::parse(R"({"expressions": [], "cleaned_caption": "x", "regions": []})")),
            ReportKind::kRegionCaption);
  EXPECT_EQ(DetectReportKind(Json::parse(R"({"image": "a.jpg", "status": "failed"})")), std::nullopt);
}

TEST(ReportDataTest, SpansAndBoxes) {
  Json record = Json::parse(R"({"cleaned_caption": "A dog.", "status": "ok", "image_width": 10, "image_height": 8,
    "expressions": [
      {"text": "a dog", "char_span": [0, 5], "instances": [{"bbox": [1, 2, 3, 4], "score": 0.87654},
                                                            {"bbox": [1, 2, 3], "score": 1}]},
      {"text": "a cat", "char_span": null, "span_found": false, "instances": []},
      {"text": "a cow", "char_span": [0, 2], "instances": [{"bbox": [0, 0, 5, 5], "score": 0.5,
                                                            "verified": false, "verify_score": 0.125}]}]})");
  Json s = SampleJson(record, ReportKind::kGrounding, {});
  ASSERT_EQ(s["it"].size(), 3u);
  EXPECT_EQ(s["it"][0]["sp"], Json::parse("[0, 5]"));
  EXPECT_EQ(s["it"][0]["b"], Json::parse("[[1, 2, 3, 4, 0.877]]")) << "a box of 3 numbers is left out";
  EXPECT_EQ(s["it"][1]["nf"], 1);
  EXPECT_FALSE(s["it"][1].contains("sp"));
  EXPECT_EQ(s["it"][2]["b"], Json::parse("[[0, 0, 5, 5, 0.5, 0, 0.125]]"));
  EXPECT_EQ(s["w"], 10);
  EXPECT_EQ(s["h"], 8);

  ReportStats stats;
  stats.Add(s);
  Json j = stats.ToJson();
  EXPECT_EQ(j["samples"], 1);
  EXPECT_EQ(j["items"], 3);
  EXPECT_EQ(j["boxes"], 2);
  EXPECT_EQ(j["items_without_box"], 1);
  EXPECT_EQ(j["spans_not_located"], 1);
  EXPECT_EQ(j["boxes_per_item"], Json::parse("[1, 2, 0, 0, 0, 0]"));
  EXPECT_EQ(j["scores"], Json::parse("[0, 0, 0, 0, 0, 1, 0, 0, 1, 0]"));
}

TEST(ReportDataTest, StatsCountStatusesKindsAndFlags) {
  ReportStats stats;
  stats.Add(Json::parse(R"({"st": "failed", "ek": "parse", "it": []})"));
  stats.Add(Json::parse(R"({"st": "failed", "ek": "parse", "it": [{"t": "x", "b": []}]})"));
  stats.Add(Json::parse(R"({"st": "flagged", "fl": [["tiny_box", 0, "", 0]], "wa": ["w"],
                            "it": [{"t": "x", "b": [[0, 0, 1, 1, 1.0]]}]})"));
  Json j = stats.ToJson();
  EXPECT_EQ(j["samples"], 3);
  EXPECT_EQ(j["by_status"], Json::parse(R"({"failed": 2, "flagged": 1})"));
  EXPECT_EQ(j["failed_by_kind"], Json::parse(R"({"parse": 2})"));
  EXPECT_EQ(j["flags"], Json::parse(R"({"tiny_box": 1})"));
  EXPECT_EQ(j["with_warnings"], 1);
  EXPECT_EQ(j["items_without_box"], 0) << "a failed sample's expressions are not 'without box'";
  EXPECT_EQ(j["scores"][9], 1) << "a score of 1.0 is in the last bin";
}

TEST(ReportDataTest, ScriptSafeJsonNeverEndsTheScriptAndRoundTrips) {
  const std::string hostile =
      "</script><script>document.body.setAttribute('data-pwned','1')</script> <!-- <img src=x onerror=alert(1)> "
      "& \xE2\x80\xA8 \xE2\x80\xA9 </SCRIPT > \xFF";
  Json j = {{"cap", hostile}, {"ok", "plain"}};
  std::string text = ScriptSafeJson(j);
  for (const char* bad : {"<", ">", "&", "\xE2\x80\xA8", "\xE2\x80\xA9"}) {
    EXPECT_EQ(text.find(bad), std::string::npos) << bad << " in " << text;
  }
  EXPECT_NE(text.find("\\u003c/script\\u003e"), std::string::npos) << text;
  Json back = Json::parse(text);
  std::string expected = hostile;
  expected.replace(expected.size() - 1, 1, "\xEF\xBF\xBD");  // invalid UTF-8 -> U+FFFD
  EXPECT_EQ(back["cap"].get<std::string>(), expected);
}

TEST(ReportDataTest, PathToUrlEncodesEverythingButSafeCharacters) {
  EXPECT_EQ(PathToUrl("images/a-b_c.~1.jpg"), "images/a-b_c.~1.jpg");
  EXPECT_EQ(PathToUrl("my pics/#1?x=%.jpg"), "my%20pics/%231%3Fx%3D%25.jpg");
  EXPECT_EQ(PathToUrl("caf\xC3\xA9\".jpg"), "caf%C3%A9%22.jpg");
}

TEST(ReportPageTest, PolicyPinsTheScriptAndStyleAndForbidsTheRest) {
  const std::string csp = ReportContentSecurityPolicy();
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(csp.find("script-src '" + CspHashSource(ReportScript()) + "'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos);
  EXPECT_EQ(csp.find("http"), std::string::npos) << "no remote source is allowed";
  // Known answer: SHA-256 of "abc".
  EXPECT_EQ(CspHashSource("abc"), "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  // The page's inline script is exactly the hashed text.
  const std::string tail = PageTail();
  EXPECT_NE(tail.find("<script>" + std::string(ReportScript()) + "</script>"), std::string::npos);
  EXPECT_EQ(std::string(ReportScript()).find("</script"), std::string::npos);
  EXPECT_EQ(std::string(ReportScript()).find("innerHTML"), std::string::npos) << "untrusted text goes through textContent";
}

}  // namespace
}  // namespace groundcap
