// End-to-end runs of the region-caption pipeline: a spec YAML in a temp dir,
// a SimServer with a scripted Responder on loopback, CmdGenerate in-process,
// and the records read back from results_dir.
//
// - structured mode: per-region parsing into the output record, re-asking
//   only the missing region, a failed sample recorded and retried by
//   workflow.retry_failed without redoing successes, resume sending nothing;
// - dataflow mode on the shared DataFlow-MM fixture: records field for field
//   and DataFlow's sampling on the wire;
// - chaining: image grounding's golden annotations.jsonl as input.
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "image/image.h"
#include "region_caption/region_boxes.h"
#include "sim/sim_server.h"
#include "util/error.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const fs::path kFixtureDir = fs::path(GROUNDCAP_SHARED_DIR) / "fixtures/dataflow_regioncap";

using testing_util::ReadFile;
using testing_util::ReadJsonl;
using testing_util::WriteFile;

/// An upright w x h image with a diagonal gradient, stored with EXIF
/// `orientation` (jpeg only; 6: the stored pixels are rotated).
void WriteImage(const fs::path& path, int w, int h, const std::string& format = "png",
                int orientation = 1) {
  RgbImage img;
  img.width = w;
  img.height = h;
  img.pixels.assign(static_cast<size_t>(w) * h * 3, 90);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) img.at(x, y)[1] = static_cast<uint8_t>((x * 5 + y * 3) % 256);
  }
  Result<std::string> bytes = EncodeImage(img, format, 90, orientation);
  ASSERT_TRUE(bytes) << bytes.error().message;
  WriteFile(path, *bytes);
}

/// "x1,y1,x2,y2" on the 0-1000 grid, as the prompt names a region.
std::string GridKey(const Box& box, Size image) {
  std::array<int, 4> g = ToGrid1000(box, image);
  return std::to_string(g[0]) + "," + std::to_string(g[1]) + "," + std::to_string(g[2]) + "," +
         std::to_string(g[3]);
}

/// The scripted structured-mode teacher: answers every `Region [n]: box K`
/// line with captions[K], leaves out each key of `omit_once` the first time
/// it is asked, and answers prose to any request naming a key of `broken`
/// while `broken_on`.
class StructuredTeacher {
 public:
  std::map<std::string, std::string> captions;
  std::set<std::string> omit_once;
  std::set<std::string> broken;
  bool broken_on = false;

  SimReply operator()(const SimRequest& req) {
    std::lock_guard<std::mutex> lock(mu_);
    prompts_.push_back(req.prompt);
    static const std::regex kLine(R"(^Region \[(\d+)\]: box (\d+,\d+,\d+,\d+)$)");
    Json regions = Json::array();
    std::istringstream lines(req.prompt);
    std::string line;
    SimReply r;
    while (std::getline(lines, line)) {
      std::smatch m;
      if (!std::regex_match(line, m, kLine)) continue;
      const std::string key = m[2].str();
      if (broken_on && broken.count(key)) {
        r.text = "Sorry, I cannot help with that.";
        return r;
      }
      if (omit_once.count(key) && !omitted_.count(key)) {
        omitted_.insert(key);
        continue;
      }
      auto it = captions.find(key);
      regions.push_back({{"region_id", std::stoi(m[1].str())},
                         {"caption", it == captions.end() ? "A grey shape at " + key : it->second}});
    }
    r.text = Json{{"regions", regions}}.dump();
    return r;
  }

  std::vector<std::string> Prompts() {
    std::lock_guard<std::mutex> lock(mu_);
    return prompts_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> prompts_;
  std::set<std::string> omitted_;
};

class RegionCaptionE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("groundcap_regioncap_e2e_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    results_ = dir_ / "results";
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  /// A region_caption spec against `server` (OpenAI-compatible API) with
  /// `extra` YAML lines appended under region_caption:.
  std::string WriteSpec(const SimServer& server, const std::string& input,
                        const std::string& image_root, const std::string& extra) {
    std::string yaml = "results_dir: " + results_.string() +
                       "\nautolabel_type: region_caption\nregion_caption:\n  data:\n"
                       "    input_jsonl: " + input + "\n    image_root: " + image_root +
                       "\n  workflow:\n    max_workers: 2\n  vlm:\n    backend: openai\n"
                       "    openai:\n      base_url: " + server.OpenAiBaseUrl() +
                       "\n      model_name: test-vlm\n      api_key: sk-test\n"
                       "      temperature: 0.1\n    retry:\n      max_attempts: 1\n" +
                       extra;
    fs::path p = dir_ / "spec.yaml";
    WriteFile(p, yaml);
    return p.string();
  }

  int Run(const std::string& spec, const std::vector<std::string>& overrides = {}) {
    ::testing::internal::CaptureStderr();
    int rc = CmdGenerate(spec, overrides);
    log_ += ::testing::internal::GetCapturedStderr();
    return rc;
  }

  std::vector<Json> Output() { return ReadJsonl(results_ / "annotations.jsonl"); }

  /// The marked image is named relative to results_dir and exists there.
  void ExpectMarkedImage(const Json& rec, const std::string& key) {
    ASSERT_TRUE(rec.contains(key)) << rec.dump();
    const std::string marked = rec[key];
    EXPECT_TRUE(fs::path(marked).is_relative()) << marked;
    EXPECT_EQ(marked, "region_caption_marks/" + rec["sample_id"].get<std::string>() + ".jpg");
    EXPECT_TRUE(fs::is_regular_file(results_ / marked)) << marked;
  }

  fs::path dir_;
  fs::path results_;
  std::string log_;
};

TEST_F(RegionCaptionE2eTest, StructuredReasksMissingRegionRecordsFailureRetriesAndResumes) {
  WriteImage(dir_ / "images/scene.png", 200, 100);
  WriteImage(dir_ / "images/other.png", 120, 80);
  WriteFile(dir_ / "input.jsonl",
            R"({"image": "scene.png", "bbox": [[10, 10, 40, 30], [100, 20, 50, 60], [150, 60, 40, 30], [1, 2]]})"
            "\n"
            R"({"image": "other.png", "bbox": [[20, 20, 40, 30]]})"
            "\n");
  const Size scene{200, 100};
  const std::string k1 = GridKey({10, 10, 50, 40}, scene);
  const std::string k2 = GridKey({100, 20, 150, 80}, scene);
  const std::string k3 = GridKey({150, 60, 190, 90}, scene);
  const std::string k_other = GridKey({20, 20, 60, 50}, {120, 80});
  StructuredTeacher teacher;
  // "A red square." under region 1's red mark is an object, not the mark.
  teacher.captions = {{k1, "A red square."}, {k2, "A blue box-shaped gift."},
                      {k3, "A yellow star."}, {k_other, "A green circle."}};
  teacher.omit_once = {k3};
  teacher.broken = {k_other};
  teacher.broken_on = true;
  SimServer server([&teacher](const SimRequest& r) { return teacher(r); });
  server.Start();
  const std::string spec = WriteSpec(server, (dir_ / "input.jsonl").string(),
                                     (dir_ / "images").string(), "  max_reasks: 1\n");

  // Run 1: scene needs one re-ask (region 3); other fails twice (prose).
  EXPECT_EQ(Run(spec), kExitSomeFailed) << log_;
  EXPECT_EQ(server.requests(), 4);
  std::vector<std::string> scene_prompts;
  for (const std::string& p : teacher.Prompts()) {
    if (p.find(k3) != std::string::npos) scene_prompts.push_back(p);
  }
  ASSERT_EQ(scene_prompts.size(), 2u);
  for (const std::string& key : {k1, k2, k3}) {
    EXPECT_NE(scene_prompts[0].find("box " + key + "\n"), std::string::npos) << key;
  }
  // The re-ask names region [3] only.
  EXPECT_NE(scene_prompts[1].find("Region [3]: box " + k3 + "\n"), std::string::npos);
  EXPECT_EQ(scene_prompts[1].find("Region [1]"), std::string::npos) << scene_prompts[1];
  EXPECT_EQ(scene_prompts[1].find("Region [2]"), std::string::npos) << scene_prompts[1];

  std::vector<Json> out = Output();
  ASSERT_EQ(out.size(), 2u);
  const Json scene_rec = out[0];
  EXPECT_EQ(scene_rec["status"], "ok");
  EXPECT_EQ(scene_rec["image"], "scene.png");
  EXPECT_EQ(scene_rec["box_source"], "input");
  ASSERT_EQ(scene_rec["regions"].size(), 3u);
  const char* want_caption[] = {"A red square.", "A blue box-shaped gift.", "A yellow star."};
  const char* want_bbox[] = {"[10,10,50,40]", "[100,20,150,80]", "[150,60,190,90]"};
  const int want_attempts[] = {1, 1, 2};
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const Json& r = scene_rec["regions"][i];
    EXPECT_EQ(r["region_id"], i + 1);
    EXPECT_EQ(r["caption"], want_caption[i]);
    EXPECT_EQ(r["status"], "ok");
    EXPECT_EQ(r["bbox"].dump(), want_bbox[i]);
    EXPECT_EQ(r["attempts"], want_attempts[i]);
    EXPECT_EQ(r["input_index"], i);
  }
  EXPECT_EQ(scene_rec["answers"].size(), 2u);
  ASSERT_EQ(scene_rec["invalid_boxes"].size(), 1u);
  EXPECT_EQ(scene_rec["invalid_boxes"][0]["reason"], "wrong_arity");
  ExpectMarkedImage(scene_rec, "marked_image");

  EXPECT_EQ(out[1]["status"], "failed");
  EXPECT_EQ(out[1]["image"], "other.png");
  EXPECT_EQ(out[1]["error"]["kind"], "parse");
  EXPECT_NE(out[1]["error"]["message"].get<std::string>().find("[1] unparseable"),
            std::string::npos)
      << out[1].dump();

  // Run 2: retry_failed redoes only the failed sample, in one request.
  teacher.broken_on = false;
  EXPECT_EQ(Run(spec, {"region_caption.workflow.retry_failed=true"}), kExitOk) << log_;
  EXPECT_EQ(server.requests(), 5);
  out = Output();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dump(), scene_rec.dump()) << "a success must not be redone";
  EXPECT_EQ(out[1]["status"], "ok");
  EXPECT_FALSE(out[1].contains("error"));
  EXPECT_EQ(out[1]["regions"][0]["caption"], "A green circle.");
  EXPECT_EQ(out[1]["regions"][0]["bbox"].dump(), "[20,20,60,50]");
  ExpectMarkedImage(out[1], "marked_image");

  // Run 3: resume; nothing to do, nothing sent, same output.
  const std::string before = ReadFile(results_ / "annotations.jsonl");
  EXPECT_EQ(Run(spec), kExitOk) << log_;
  EXPECT_EQ(server.requests(), 5);
  EXPECT_EQ(ReadFile(results_ / "annotations.jsonl"), before);
}

TEST_F(RegionCaptionE2eTest, DataflowModeReproducesFixtureWithDataflowSampling) {
  GROUNDCAP_REQUIRE_SHARED_FIXTURE(kFixtureDir);
  std::mutex mu;
  std::vector<SimRequest> seen;
  SimServer server([&](const SimRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(r);
    SimReply reply;
    reply.text = "<region1>: a table.";
    return reply;
  });
  server.Start();
  const std::string spec = WriteSpec(server, (kFixtureDir / "input.jsonl").string(),
                                     kFixtureDir.string(), "  mode: dataflow\n");
  ASSERT_EQ(Run(spec), kExitOk) << log_;

  std::vector<Json> expected = ReadJsonl(kFixtureDir / "expected.jsonl");
  std::vector<Json> out = Output();
  ASSERT_EQ(expected.size(), 2u);
  ASSERT_EQ(out.size(), expected.size());
  for (size_t i = 0; i < out.size(); ++i) {
    SCOPED_TRACE(i);
    for (const char* key :
         {"image", "type", "bbox", "normalized_bbox", "valid_bboxes_num", "prompt"}) {
      ASSERT_TRUE(expected[i].contains(key)) << key;
      EXPECT_EQ(out[i][key].dump(), expected[i][key].dump()) << key;
    }
    EXPECT_EQ(out[i]["answer"], "<region1>: a table.");
    EXPECT_EQ(out[i]["status"], "ok");
    ExpectMarkedImage(out[i], "image_with_bbox");
  }

  // DataFlow's sampling and system prompt on the wire, whatever the spec's
  // own vlm.openai settings (temperature 0.1, no top_p, max_tokens 4096).
  ASSERT_EQ(seen.size(), 2u);
  std::set<std::string> prompts;
  for (const SimRequest& r : seen) {
    EXPECT_EQ(r.body["temperature"].get<double>(), 0.7) << r.body.dump();
    ASSERT_TRUE(r.body.contains("top_p"));
    EXPECT_EQ(r.body["top_p"].get<double>(), 0.9);
    EXPECT_EQ(r.body["max_tokens"].get<int>(), 512);
    EXPECT_EQ(r.system, "You are a helpful assistant.");
    EXPECT_TRUE(r.schema.is_null());
    EXPECT_EQ(r.images.size(), 1u);
    prompts.insert(r.prompt);
  }
  EXPECT_EQ(prompts, (std::set<std::string>{expected[0]["prompt"], expected[1]["prompt"]}));
}

TEST_F(RegionCaptionE2eTest, ChainsFromGroundingAnnotations) {
  // Image grounding's golden output (grounding_e2e_test.cc) as input, with
  // the images it was made from: a.jpg 644x476, sub/b.jpg upright 196x280
  // stored rotated with EXIF orientation 6.
  WriteImage(dir_ / "images/a.jpg", 644, 476, "jpeg");
  WriteImage(dir_ / "images/sub/b.jpg", 196, 280, "jpeg", 6);
  const fs::path golden =
      fs::path(GROUNDCAP_SOURCE_DIR) / "tests/data/grounding/expected_step1.jsonl";
  StructuredTeacher teacher;
  const std::string tree = GridKey({49, 70, 147, 280}, {196, 280});
  teacher.captions = {{tree, "A tall green tree."}};
  SimServer server([&teacher](const SimRequest& r) { return teacher(r); });
  server.Start();
  const std::string spec =
      WriteSpec(server, golden.string(), (dir_ / "images").string(),
                "  data:\n    image_key: image_path\n  proposals: none\n");
  // The failed grounding record stays failed, the flagged one (no
  // expressions from a caption naming a wall) stays flagged: no request.
  EXPECT_EQ(Run(spec), kExitSomeFailed) << log_;
  EXPECT_EQ(server.requests(), 3);

  std::vector<Json> out = Output();
  ASSERT_EQ(out.size(), 5u);
  const Json& boxes = out[0];
  EXPECT_EQ(boxes["status"], "ok") << boxes.dump();
  EXPECT_EQ(boxes["box_source"], "grounding");
  // Input fields pass through: the grounding record's own fields survive.
  EXPECT_TRUE(boxes.contains("cleaned_caption")) << boxes.dump();
  EXPECT_TRUE(boxes.contains("expressions")) << boxes.dump();
  ASSERT_EQ(boxes["regions"].size(), 2u);
  EXPECT_EQ(boxes["regions"][0]["expression"], "a red box");
  EXPECT_EQ(boxes["regions"][0]["bbox"].dump(), "[161,119,322,238]");
  EXPECT_EQ(boxes["regions"][1]["expression"], "A Blue Box");
  EXPECT_EQ(boxes["regions"][1]["bbox"].dump(), "[322,238,644,476]");
  ExpectMarkedImage(boxes, "marked_image");

  const Json& tree_rec = out[1];
  EXPECT_EQ(tree_rec["status"], "ok") << tree_rec.dump();
  EXPECT_EQ(tree_rec["width"], 196);
  EXPECT_EQ(tree_rec["height"], 280);
  ASSERT_EQ(tree_rec["regions"].size(), 1u);
  EXPECT_EQ(tree_rec["regions"][0]["caption"], "A tall green tree.");
  EXPECT_EQ(tree_rec["regions"][0]["expression"], "a tall tree");

  EXPECT_EQ(out[2]["status"], "failed");
  EXPECT_EQ(out[2]["error"]["kind"], "image") << "upstream failure passed through";
  EXPECT_EQ(out[3]["status"], "ok");
  EXPECT_EQ(out[3]["regions"][0]["expression"], "a green circle");
  EXPECT_EQ(out[4]["status"], "flagged") << out[4].dump();
  EXPECT_EQ(out[4]["flags"][0]["flag"], "no_expressions");
  EXPECT_FALSE(out[4].contains("regions"));
}

}  // namespace
}  // namespace groundcap
