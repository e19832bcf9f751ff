// The review report rendered by headless Chromium, asserted on the DOM the
// browser built (not on the HTML text): one drawn box per instance, boxes of
// EXIF-rotated images where they belong (drawn geometry mapped back through
// the thumbnail scale, and the thumbnail's pixels under them), the failed
// filter from the URL fragment, hostile captions shown as text with no
// script of theirs run. The results come from real runs of both pipelines
// on synthetic scenes and the simulated teacher on loopback. Also writes
// build/artifacts/report.png, a screenshot of the demo's report.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "image/image.h"
#include "report/browser_test_util.h"
#include "sim/sim_server.h"
#include "sim/sim_vision.h"
#include "sim/synth.h"
#include "util/error.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using testing_util::DomElement;
using testing_util::FileUrl;
using testing_util::FindElements;
using testing_util::Numbers;
using testing_util::ReadFile;
using testing_util::ReadJsonl;
using testing_util::RunChromium;
using testing_util::WriteFile;

constexpr const char* kImgAttack = "<img src=x onerror=alert(1)>";
constexpr const char* kScriptAttack = "</script><script>document.body.setAttribute('data-pwned','1')</script>";

/// A small run of each pipeline and its report, made once per test process.
struct Fixture {
  fs::path dir;
  std::vector<Json> grounding;  ///< annotations.jsonl of the grounding run
  std::vector<Json> regions;    ///< annotations.jsonl of the region-caption run
  std::map<std::string, Json> truth_by_image;
  fs::path grounding_report, region_report;
};

std::string SpecYaml(const std::string& pipeline, const fs::path& results, const fs::path& input,
                     const fs::path& root, const SimServer& server) {
  return fmt::format(
      "results_dir: \"{}\"\nautolabel_type: {}\n{}:\n  workflow:\n    max_workers: 4\n"
      "  data:\n    input_jsonl: \"{}\"\n    image_root: \"{}\"\n"
      "  vlm:\n    backend: gemini\n    gemini:\n      api_key: \"simulated\"\n      model: \"gemini-2.5-flash\"\n"
      "      base_url: \"{}\"\n",
      results.string(), pipeline, pipeline, input.string(), root.string(), server.GeminiBaseUrl());
}

const Fixture& Runs() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    // One folder per process: ctest runs these tests in parallel processes.
    fx->dir = fs::temp_directory_path() / ("groundcap_report_browser_test_" + std::to_string(::getpid()));
    fs::remove_all(fx->dir);
    static const fs::path kDir = fx->dir;
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(kDir, ec);
    });
    const fs::path data = fx->dir / "data";
    EXPECT_TRUE(WriteSynthDataset(data.string(), 10, 7).has_value());
    // Hostile text in a caption the teacher reads, and in the caption and
    // file name of a sample that fails (its image is missing).
    std::string input = ReadFile(data / "input.jsonl");
    input += Json{{"image_path", "images/000001.jpg"},
                  {"caption", std::string("we can see a red circle ") + kImgAttack + " and " + kScriptAttack}}
                 .dump() + "\n";
    input += Json{{"image_path", std::string("missing/") + kScriptAttack + ".jpg"},
                  {"caption", std::string(kImgAttack) + " " + kScriptAttack}}
                 .dump() + "\n";
    input += Json{{"image_path", "missing/nothing.jpg"}, {"caption", "a blue square"}}.dump() + "\n";
    WriteFile(data / "input.jsonl", input);

    SimServer server(MakeSimResponder(SimOptions{}));
    server.Start();
    WriteFile(fx->dir / "g.yaml", SpecYaml("image_grounding", fx->dir / "grounding", data / "input.jsonl", data, server));
    WriteFile(fx->dir / "r.yaml", SpecYaml("region_caption", fx->dir / "regions", data / "regions.jsonl", data, server));
    // The runs' logs are captured; a setup error must end the capture before
    // it is reported (an open capture breaks the next test that captures).
    auto generate = [](const fs::path& spec) {
      ::testing::internal::CaptureStderr();
      try {
        const int rc = CmdGenerate(spec.string(), {});
        ::testing::internal::GetCapturedStderr();
        return rc;
      } catch (const SetupError& e) {
        ::testing::internal::GetCapturedStderr();
        ADD_FAILURE() << spec << ": " << e.what();
        return -1;
      }
    };
    const int g = generate(fx->dir / "g.yaml");
    const int r = generate(fx->dir / "r.yaml");
    server.Stop();
    EXPECT_EQ(g, kExitSomeFailed) << "two samples have no image";
    EXPECT_EQ(r, kExitOk);
    fx->grounding = ReadJsonl(fx->dir / "grounding" / "annotations.jsonl");
    fx->regions = ReadJsonl(fx->dir / "regions" / "annotations.jsonl");
    for (Json& t : ReadJsonl(data / "truth.jsonl")) fx->truth_by_image[t["image_path"].get<std::string>()] = t;

    ReportOptions report;
    report.results = (fx->dir / "grounding").string();
    report.truth = (data / "truth.jsonl").string();
    report.out = (fx->dir / "pages" / "grounding.html").string();
    fs::create_directories(fx->dir / "pages");
    ::testing::internal::CaptureStdout();
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(CmdReport(report), kExitOk);
    report.results = (fx->dir / "regions").string();
    report.truth.clear();
    report.out = (fx->dir / "pages" / "regions.html").string();
    EXPECT_EQ(CmdReport(report), kExitOk);
    ::testing::internal::GetCapturedStderr();
    const std::string printed = ::testing::internal::GetCapturedStdout();
    EXPECT_NE(printed.find("grounding.html"), std::string::npos) << printed;
    fx->grounding_report = fx->dir / "pages" / "grounding.html";
    fx->region_report = fx->dir / "pages" / "regions.html";
    return fx;
  }();
  return *f;
}

/// The rendered DOM of `page` with `fragment`.
std::string Dom(const fs::path& page, const std::string& fragment = "") {
  return RunChromium(FileUrl(page, fragment), "--dump-dom");
}

std::string BoxKey(const Json& bbox) {
  return fmt::format("{},{},{},{}", bbox[0].dump(), bbox[1].dump(), bbox[2].dump(), bbox[3].dump());
}

class ReportBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override { GROUNDCAP_REQUIRE_CHROMIUM(); }
};

TEST_F(ReportBrowserTest, OneDrawnBoxPerInstance) {
  const Fixture& f = Runs();
  std::multiset<std::string> instances;
  int failed = 0;
  for (const Json& r : f.grounding) {
    failed += r["status"] == "failed";
    if (!r.contains("expressions")) continue;
    for (const Json& e : r["expressions"]) {
      for (const Json& inst : e["instances"]) instances.insert(BoxKey(inst["bbox"]));
    }
  }
  ASSERT_GE(instances.size(), 20u);
  ASSERT_EQ(failed, 2);
  const std::string dom = Dom(f.grounding_report, "per=100");
  ASSERT_EQ(FindElements(dom, "body")[0].attr("data-rendered"), std::to_string(f.grounding.size()))
      << "the page's script did not render every sample";
  std::multiset<std::string> drawn;
  for (const DomElement& rect : FindElements(dom, "rect")) drawn.insert(rect.attr("data-bbox"));
  EXPECT_EQ(drawn.size(), instances.size());
  EXPECT_EQ(drawn, instances);
  EXPECT_EQ(FindElements(dom, "article").size(), f.grounding.size());
}

TEST_F(ReportBrowserTest, BoxesOfRotatedImagesLandOnTheirObjects) {
  const Fixture& f = Runs();
  const std::string dom = Dom(f.grounding_report, "per=100");
  std::map<std::string, const Json*> by_id;
  for (const Json& r : f.grounding) by_id[r["sample_id"].get<std::string>()] = &r;
  const std::vector<DomElement> frames = FindElements(dom, "div");
  const std::vector<DomElement> rects = FindElements(dom, "rect");
  const std::vector<DomElement> imgs = FindElements(dom, "img");
  int rotated_boxes = 0;
  for (const DomElement& card : FindElements(dom, "article")) {
    const Json& record = *by_id.at(card.attr("data-sample"));
    if (record["status"] != "ok") continue;
    const Json& truth = f.truth_by_image.at(record["image_path"].get<std::string>());
    if (truth.value("orientation", 1) == 1) continue;
    const double W = record["image_width"].get<double>(), H = record["image_height"].get<double>();
    EXPECT_EQ(W, truth["width"].get<double>());  // upright size, not the stored grid
    auto inside = [&](const DomElement& e) { return e.begin > card.begin && e.begin < card.end; };
    auto frame = std::find_if(frames.begin(), frames.end(), [&](const DomElement& e) {
      return inside(e) && e.attrs.count("data-shown");
    });
    ASSERT_NE(frame, frames.end());
    const std::vector<double> shown = Numbers(frame->attr("data-shown"));
    const double sx = W / shown[0], sy = H / shown[1];
    EXPECT_NEAR(sx, sy, 0.01 * sx) << "the picture keeps the upright aspect ratio";
    // The thumbnail: upright, and the object's colour under each box.
    auto img = std::find_if(imgs.begin(), imgs.end(), inside);
    ASSERT_NE(img, imgs.end());
    Result<RgbImage> thumb = LoadImage((f.grounding_report.parent_path() / img->attr("src")).string());
    ASSERT_TRUE(thumb.has_value()) << img->attr("src");
    EXPECT_NEAR(static_cast<double>(thumb->width) / thumb->height, W / H, 0.02);
    for (const DomElement& rect : rects) {
      if (!inside(rect)) continue;
      const std::vector<double> bbox = Numbers(rect.attr("data-bbox"));
      const std::vector<double> drawn = Numbers(rect.attr("data-drawn"));
      ASSERT_EQ(drawn.size(), 4u);
      for (int i = 0; i < 4; ++i) {
        EXPECT_NEAR(drawn[i] * (i % 2 == 0 ? sx : sy), bbox[i], 1.0)
            << "coordinate " << i << " of " << rect.attr("data-bbox") << " in " << record["image_path"];
      }
      // The truth object this box is on, and its colour in the thumbnail.
      const Json* object = nullptr;
      for (const Json& o : truth["objects"]) {
        const Json& b = o["bbox"];
        if (std::abs(b[0].get<double>() - bbox[0]) <= 2 && std::abs(b[1].get<double>() - bbox[1]) <= 2) object = &o;
      }
      ASSERT_NE(object, nullptr) << "no object at " << rect.attr("data-bbox");
      const int cx = static_cast<int>((bbox[0] + bbox[2]) / 2 * thumb->width / W);
      const int cy = static_cast<int>((bbox[1] + bbox[3]) / 2 * thumb->height / H);
      EXPECT_EQ(ObjectPalette()[NearestPaletteColor(thumb->at(cx, cy))].name, (*object)["color"].get<std::string>())
          << "thumbnail pixel under the box centre of " << (*object)["expression"];
      ++rotated_boxes;
    }
  }
  EXPECT_GE(rotated_boxes, 3) << "the dataset must hold EXIF-rotated images with boxes";
}

TEST_F(ReportBrowserTest, FragmentFiltersFailedSamples) {
  const Fixture& f = Runs();
  std::set<std::string> failed, ok;
  for (const Json& r : f.grounding) {
    if (r["status"] == "failed") failed.insert(r["sample_id"].get<std::string>());
    if (r["status"] == "ok") ok.insert(r["sample_id"].get<std::string>());
  }
  ASSERT_EQ(failed.size(), 2u);
  std::set<std::string> shown;
  for (const DomElement& card : FindElements(Dom(f.grounding_report, "status=failed"), "article")) {
    EXPECT_EQ(card.attr("data-status"), "failed");
    shown.insert(card.attr("data-sample"));
  }
  EXPECT_EQ(shown, failed);
  shown.clear();
  for (const DomElement& card : FindElements(Dom(f.grounding_report, "status=ok&per=100"), "article")) {
    shown.insert(card.attr("data-sample"));
  }
  EXPECT_EQ(shown, ok);
}

TEST_F(ReportBrowserTest, HostileTextIsShownAsTextAndRunsNothing) {
  const Fixture& f = Runs();
  // The check can see a script that ran: the same attack in a page without
  // the report's escaping and policy sets the marker. (Not the alert(1) of
  // the img attack: a dialog would block headless Chromium until its timeout.)
  const fs::path control = f.dir / "control.html";
  WriteFile(control, std::string("<!DOCTYPE html><html><body><script>x = '") + kScriptAttack + "';</script></body></html>");
  EXPECT_NE(Dom(control).find("data-pwned=\"1\""), std::string::npos) << "the control page's injected script ran";

  const std::string dom = Dom(f.grounding_report, "per=100");
  EXPECT_EQ(dom.find("data-pwned=\""), std::string::npos) << "an injected script ran";
  EXPECT_FALSE(FindElements(dom, "body")[0].attr("data-rendered").empty()) << "the report's own script ran";
  for (const DomElement& img : FindElements(dom, "img")) EXPECT_NE(img.attr("src"), "x") << "caption parsed as HTML";
  // The failed sample shows its caption and file name literally, as text.
  const std::string caption_text = std::string("&lt;img src=x onerror=alert(1)&gt; &lt;/script&gt;&lt;script&gt;") +
                                   "document.body.setAttribute('data-pwned','1')&lt;/script&gt;";
  EXPECT_NE(dom.find("<p class=\"caption\">" + caption_text + "</p>"), std::string::npos);
  EXPECT_NE(dom.find("<span class=\"path\">missing/&lt;/script&gt;&lt;script&gt;"), std::string::npos);
  // The teacher's cleaned caption keeps the attack too, also as text.
  EXPECT_NE(dom.find("&lt;img src=x onerror=alert(1)&gt; and"), std::string::npos);
}

TEST_F(ReportBrowserTest, RegionCaptionReportDrawsEveryRegion) {
  const Fixture& f = Runs();
  std::multiset<std::string> regions;
  for (const Json& r : f.regions) {
    if (!r.contains("regions")) continue;
    for (const Json& region : r["regions"]) regions.insert(BoxKey(region["bbox"]));
  }
  ASSERT_GE(regions.size(), 20u);
  const std::string dom = Dom(f.region_report, "per=100");
  std::multiset<std::string> drawn;
  for (const DomElement& rect : FindElements(dom, "rect")) drawn.insert(rect.attr("data-bbox"));
  EXPECT_EQ(drawn, regions);
  // Each region's number is drawn on the picture and listed with its caption.
  EXPECT_NE(dom.find("<span class=\"lbl\" data-k=\"0\""), std::string::npos);
  EXPECT_NE(dom.find("<span class=\"lb\">[1]</span>"), std::string::npos);
}

/// The demo's own report, screenshot to build/artifacts/report.png (kept by
/// CI as an artifact) and build/artifacts/report_region_caption.png.
TEST(ReportScreenshotTest, DemoReportScreenshot) {
  GROUNDCAP_REQUIRE_CHROMIUM();
  const fs::path out = fs::temp_directory_path() / ("groundcap_report_demo_" + std::to_string(::getpid()));
  fs::remove_all(out);
  DemoOptions options;
  options.out = out.string();
  options.count = 16;
  options.seed = 3;
  options.noise = 0.3;  // scores and misses to look at
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int rc = CmdDemo(options);
  ::testing::internal::GetCapturedStderr();
  const std::string printed = ::testing::internal::GetCapturedStdout();
  EXPECT_TRUE(rc == kExitOk || rc == kExitSomeFailed) << rc;
  EXPECT_NE(printed.find((out / "report.html").string()), std::string::npos) << "demo prints the page's path";
  // The build directory is where the groundcap binary is.
  const fs::path artifacts = fs::path(GROUNDCAP_BINARY).parent_path() / "artifacts";
  fs::create_directories(artifacts);
  for (auto [page, png] : {std::pair{"report.html", "report.png"},
                           std::pair{"region_caption_report.html", "report_region_caption.png"}}) {
    ASSERT_TRUE(fs::exists(out / page)) << page;
    fs::remove(artifacts / png);
    RunChromium(FileUrl(out / page), "--screenshot=" + (artifacts / png).string(), 1400, 1800);
    const std::string bytes = ReadFile(artifacts / png);
    ASSERT_GT(bytes.size(), 20000u) << png;
    EXPECT_EQ(bytes.substr(1, 3), "PNG");
  }
  fs::remove_all(out);
}

}  // namespace
}  // namespace groundcap
