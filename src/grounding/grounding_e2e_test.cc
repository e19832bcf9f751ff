// End-to-end runs of the image-grounding pipeline: a spec YAML in a temp
// dir, a SimServer with a scripted Responder on loopback, CmdGenerate
// in-process, and the exact output compared with the golden file
// tests/data/grounding/expected_step1.jsonl. Every backend / box-format case
// must produce the same records: the images are fixed points of Qwen2.5-VL's
// smart_resize and the boxes lie on a quarter grid, so every convention maps
// back without rounding.
//
// Regenerate the golden file (then review it by hand):
//   GROUNDCAP_UPDATE_GOLDEN=1 groundcap_tests --gtest_filter='GroundingE2e*Gemini*'
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "grounding/spans.h"
#include "image/image.h"
#include "sim/sim_server.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr const char* kSecret = "sk-GROUNDING-TEST-7f3a9c";

struct Truth {
  Size image;  ///< upright size of the image the object is in
  double box[4];
  double score;
  bool label_by_text = false;
};

/// Objects by expression text (lower case).
const std::map<std::string, Truth>& Objects() {
  static const std::map<std::string, Truth> m = {
      {"a red box", {{644, 476}, {161, 119, 322, 238}, 0.91}},
      {"a blue box", {{644, 476}, {322, 238, 644, 476}, 0.8}},
      {"a green circle", {{644, 476}, {0, 0, 161, 119}, 1.5}},
      {"a tall tree", {{196, 280}, {49, 70, 147, 280}, 0.7, true}},
  };
  return m;
}

using testing_util::ReadFile;
using testing_util::ReadJsonl;
using testing_util::WriteFile;

struct Case {
  std::string name;
  std::string backend;     ///< "openai" | "gemini"
  std::string model;
  std::string box_format;  ///< spec value
  std::string reply_format;  ///< what the scripted teacher answers in
  int chunk;
};
/// Names the case in ctest's listing instead of dumping its bytes.
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

/// The scripted teacher.
class ScriptedTeacher {
 public:
  explicit ScriptedTeacher(std::string format) : format_(std::move(format)) {}
  std::atomic<bool> flaky_ok{false};
  std::atomic<int> extraction_with_schema{0};

  SimReply operator()(const SimRequest& req) {
    size_t cap = req.prompt.rfind("\nCaption: ");
    if (cap != std::string::npos) {
      if (!req.schema.is_null()) ++extraction_with_schema;
      size_t end = req.prompt.find('\n', cap + 1);
      return Extraction(req.prompt.substr(cap + 10, end - cap - 10));
    }
    return Grounding(req);
  }

 private:
  SimReply Extraction(const std::string& caption) {
    SimReply r;
    if (caption.find("red box") != std::string::npos) {
      // Fenced, trailing comma, a capitalised copy of a phrase.
      r.text = "```json\n{\"cleaned_caption\": \"A red box and a blue box.\", \"expressions\": ["
               "{\"text\": \"a red box\", \"noun_chunk\": \"box\"}, "
               "{\"text\": \"A Blue Box\", \"noun_chunk\": \"box\"},]}\n```";
    } else if (caption.find("tall tree") != std::string::npos) {
      r.text = R"({"cleaned_caption": "A tall tree.", "expressions": [{"text": "a tall tree", "noun_chunk": "tree"}]})";
    } else if (caption.find("green circle") != std::string::npos) {
      r.text = flaky_ok ? R"({"cleaned_caption": "A green circle.", "expressions": [{"text": "a green circle", "noun_chunk": "circle"}]})"
                        : "Sorry, I cannot describe this image.";
    } else {
      r.text = R"({"cleaned_caption": "An empty wall.", "expressions": []})";
    }
    return r;
  }

  SimReply Grounding(const SimRequest& req) {
    Size sent;
    if (!req.images.empty()) {
      Result<RgbImage> img = DecodeImage(req.images[0]);
      if (img) sent = {img->width, img->height};
    }
    static const std::regex kLine(R"(^E(\d+): (.*)$)");
    Json list = Json::array();
    std::istringstream lines(req.prompt);
    std::string line;
    while (std::getline(lines, line)) {
      std::smatch m;
      if (!std::regex_match(line, m, kLine)) continue;
      auto it = Objects().find(NormalizeText(m[2].str()));
      if (it == Objects().end()) continue;
      const Truth& t = it->second;
      Json d;
      d["label"] = t.label_by_text ? m[2].str() : "E" + m[1].str();
      auto n = [](double v, int size) { return static_cast<int>(std::lround(v / size * 1000)); };
      const double* b = t.box;
      if (format_ == "gemini") {
        d["box_2d"] = {n(b[1], t.image.height), n(b[0], t.image.width), n(b[3], t.image.height),
                       n(b[2], t.image.width)};
      } else if (format_ == "qwen2_5_vl") {
        auto px = [](double v, int from, int to) { return static_cast<int>(std::lround(v * to / from)); };
        d["bbox_2d"] = {px(b[0], t.image.width, sent.width), px(b[1], t.image.height, sent.height),
                        px(b[2], t.image.width, sent.width), px(b[3], t.image.height, sent.height)};
      } else {
        d["bbox_2d"] = {n(b[0], t.image.width), n(b[1], t.image.height), n(b[2], t.image.width),
                        n(b[3], t.image.height)};
      }
      d["score"] = t.score;
      list.push_back(d);
      if (t.label_by_text) {  // an answer for something never asked: dropped
        list.push_back({{"label", "sky"}, {format_ == "gemini" ? "box_2d" : "bbox_2d", {0, 0, 10, 10}},
                        {"score", 0.5}});
      }
    }
    SimReply r;
    r.text = list.dump();
    return r;
  }

  std::string format_;
};

class GroundingE2eTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("groundcap_grounding_e2e_" + GetParam().name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "images");
    MakeImage(dir_ / "images/a.jpg", 644, 476, 1);
    MakeImage(dir_ / "images/sub/b.jpg", 196, 280, 6);  // stored rotated, EXIF 6
    WriteFile(dir_ / "input.jsonl",
              R"({"image_path": "a.jpg", "caption": "we can see a red box and a blue box", "image_id": "a"})" "\n"
              R"({"image_path": "sub/b.jpg", "caption": "there is a tall tree\nin this image", "width": 280, "height": 196})" "\n"
              R"({"image_path": "missing.jpg", "caption": "a cat"})" "\n"
              R"({"image_path": "a.jpg", "caption": "a green circle"})" "\n"
              R"({"image_path": "a.jpg"})" "\n"
              R"({"image_path": "a.jpg", "caption": "an empty wall", "extra": {"k": [1, 2]}})" "\n");
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  static void MakeImage(const fs::path& path, int w, int h, int orientation) {
    RgbImage img;
    img.width = w;
    img.height = h;
    img.pixels.assign(static_cast<size_t>(w) * h * 3, 0);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) img.at(x, y)[0] = static_cast<uint8_t>((x * 7 + y * 3) % 256);
    }
    Result<std::string> bytes = EncodeImage(img, "jpeg", 90, orientation);
    ASSERT_TRUE(bytes) << bytes.error().message;
    WriteFile(path, *bytes);
  }

  std::string WriteSpec(const SimServer& server) {
    const Case& c = GetParam();
    std::string vlm;
    if (c.backend == "gemini") {
      vlm = "    backend: gemini\n    gemini:\n      base_url: " + server.GeminiBaseUrl() +
            "\n      model: " + c.model + "\n      api_key: " + kSecret + "\n";
    } else {
      vlm = "    backend: openai\n    openai:\n      base_url: " + server.OpenAiBaseUrl() +
            "\n      model_name: " + c.model + "\n      api_key: " + kSecret + "\n";
    }
    std::string yaml = "results_dir: " + (dir_ / "results").string() +
                       "\nautolabel_type: image_grounding\nimage_grounding:\n  data:\n    input_jsonl: " +
                       (dir_ / "input.jsonl").string() + "\n    image_root: " +
                       (dir_ / "images").string() + "\n  workflow:\n    max_workers: 3\n  vlm:\n" +
                       vlm + "    box_format: " + c.box_format +
                       "\n  grounding:\n    expressions_per_request: " + std::to_string(c.chunk) + "\n";
    fs::path p = dir_ / "spec.yaml";
    WriteFile(p, yaml);
    return p.string();
  }

  /// Runs generate, capturing stderr (checked for the secret).
  int Run(const std::string& spec, const std::vector<std::string>& overrides) {
    ::testing::internal::CaptureStderr();
    int rc = CmdGenerate(spec, overrides);
    stderr_ += ::testing::internal::GetCapturedStderr();
    return rc;
  }

  fs::path dir_;
  std::string stderr_;
};

TEST_P(GroundingE2eTest, ExactRecordsFailuresRetryFailedAndResume) {
  ScriptedTeacher teacher(GetParam().reply_format);
  SimServer server([&teacher](const SimRequest& r) { return teacher(r); });
  server.Start();
  std::string spec = WriteSpec(server);
  const fs::path results = dir_ / "results";

  // Run 1: the flaky sample's extraction reply is not JSON.
  EXPECT_EQ(Run(spec, {}), kExitSomeFailed);
  std::vector<Json> step0 = ReadJsonl(results / "step_0_expression_extraction/annotations.jsonl");
  ASSERT_EQ(step0.size(), 5u);  // the line without caption is rejected
  EXPECT_EQ(step0[2]["status"], "failed");
  EXPECT_EQ(step0[2]["error"]["kind"], "image");
  EXPECT_EQ(step0[3]["status"], "failed");
  EXPECT_EQ(step0[3]["error"]["kind"], "parse");
  EXPECT_FALSE(step0[3].contains("expressions")) << "a failure must not look like 'no expressions'";
  std::vector<Json> step1 = ReadJsonl(results / "step_1_grounding/annotations.jsonl");
  ASSERT_EQ(step1.size(), 5u);
  EXPECT_EQ(step1[3]["status"], "failed");
  EXPECT_EQ(step1[0]["status"], "ok");
  EXPECT_NE(ReadFile(results / "rejects.jsonl").find("caption"), std::string::npos);
  const int64_t first = server.requests();
  EXPECT_EQ(teacher.extraction_with_schema, 4) << "structured output is on by default";
  // Extraction: a, b, flaky, wall (the missing image sends nothing);
  // grounding: a (2 expressions), b.
  const int chunks_a = GetParam().chunk >= 2 ? 1 : 2;
  EXPECT_EQ(first, 4 + chunks_a + 1);

  // Run 2: retry_failed redoes only the failed samples.
  teacher.flaky_ok = true;
  EXPECT_EQ(Run(spec, {"image_grounding.workflow.retry_failed=true"}), kExitSomeFailed);
  EXPECT_EQ(server.requests() - first, 2);  // flaky: extraction + grounding

  const fs::path golden = fs::path(GROUNDCAP_SOURCE_DIR) / "tests/data/grounding/expected_step1.jsonl";
  std::string produced = ReadFile(results / "step_1_grounding/annotations.jsonl");
  EXPECT_EQ(ReadFile(results / "annotations.jsonl"), produced);
  // The missing image's error names its absolute path: make it portable.
  for (size_t pos; (pos = produced.find(dir_.string())) != std::string::npos;) {
    produced.replace(pos, dir_.string().size(), "<tmp>");
  }
  if (std::getenv("GROUNDCAP_UPDATE_GOLDEN")) WriteFile(golden, produced);
  EXPECT_EQ(produced, ReadFile(golden));

  // Run 3: nothing left to do, nothing sent, same output.
  const int64_t second = server.requests();
  const std::string before = ReadFile(results / "step_1_grounding/annotations.jsonl");
  EXPECT_EQ(Run(spec, {}), kExitSomeFailed);
  EXPECT_EQ(server.requests(), second);
  EXPECT_EQ(ReadFile(results / "step_1_grounding/annotations.jsonl"), before);

  // Steps ["1"] alone re-reads step-0 output and, unchanged, resumes.
  EXPECT_EQ(Run(spec, {"image_grounding.workflow.steps=[\"1\"]"}), kExitSomeFailed);
  EXPECT_EQ(server.requests(), second);

  // The API key never reaches disk or the log.
  EXPECT_EQ(stderr_.find(kSecret), std::string::npos);
  for (const auto& entry : fs::recursive_directory_iterator(results)) {
    if (!entry.is_regular_file()) continue;
    EXPECT_EQ(ReadFile(entry.path()).find(kSecret), std::string::npos) << entry.path();
  }
}

/// How CutGrounding cuts grounding replies at the token limit.
enum class Cut { kNone, kAfterFirstObject, kInsideFirstObject };

/// A teacher whose grounding replies hit the token limit: after the first
/// object when more than one expression was asked, or inside the first object.
SimReply CutGrounding(ScriptedTeacher& teacher, const SimRequest& req, Cut cut) {
  SimReply r = teacher(req);
  if (cut == Cut::kNone || req.prompt.find("\nCaption: ") != std::string::npos) return r;
  static const std::regex kAsked(R"(\nE\d+: )");
  const auto asked = std::distance(
      std::sregex_iterator(req.prompt.begin(), req.prompt.end(), kAsked), std::sregex_iterator());
  const bool one_per_reply = cut == Cut::kAfterFirstObject;
  Json list = Json::parse(r.text);
  if (list.empty() || (one_per_reply && asked < 2)) return r;
  const std::string first = list[0].dump();
  r.text = one_per_reply ? "[" + first + ", " + list[1].dump().substr(0, 12) : "[" + first.substr(0, 12);
  r.finish = "length";
  return r;
}

TEST_P(GroundingE2eTest, RepliesCutAtTheTokenLimitAreReaskedOrFailNeverOk) {
  ScriptedTeacher teacher(GetParam().reply_format);
  teacher.flaky_ok = true;
  std::atomic<Cut> cut{Cut::kAfterFirstObject};
  SimServer server([&](const SimRequest& r) { return CutGrounding(teacher, r, cut.load()); });
  server.Start();
  std::string spec = WriteSpec(server);
  const fs::path results = dir_ / "results";
  const fs::path golden = fs::path(GROUNDCAP_SOURCE_DIR) / "tests/data/grounding/expected_step1.jsonl";
  std::vector<Json> expected;
  for (const Json& j : ReadJsonl(golden)) expected.push_back(j);

  // One object per reply: the cut replies' unfinished expressions are asked
  // again alone, and every box of the uncut run is there.
  const auto expect_golden_boxes = [&] {
    std::vector<Json> step1 = ReadJsonl(results / "step_1_grounding/annotations.jsonl");
    ASSERT_EQ(step1.size(), expected.size());
    for (size_t i = 0; i < step1.size(); ++i) {
      EXPECT_EQ(step1[i]["status"], expected[i]["status"]) << i;
      if (step1[i]["status"] != "ok") continue;
      ASSERT_EQ(step1[i]["expressions"].size(), expected[i]["expressions"].size()) << i;
      for (size_t k = 0; k < step1[i]["expressions"].size(); ++k) {
        EXPECT_EQ(step1[i]["expressions"][k]["instances"],
                  expected[i]["expressions"][k]["instances"]) << i << " E" << k;
      }
    }
  };
  EXPECT_EQ(Run(spec, {}), kExitSomeFailed);  // the missing image
  expect_golden_boxes();
  const bool chunked = GetParam().chunk >= 2;
  EXPECT_EQ(ReadJsonl(results / "step_1_grounding/annotations.jsonl")[0]["warnings"].dump().find(
                "cut at the token limit") != std::string::npos,
            chunked);

  // Every reply cut inside its first object: no sample with an expression
  // is ok; they fail as truncated, and a retry with an uncut teacher redoes them.
  cut = Cut::kInsideFirstObject;
  EXPECT_EQ(Run(spec, {"image_grounding.workflow.force_reprocess=true"}), kExitSomeFailed);
  int truncated = 0;
  for (const Json& r : ReadJsonl(results / "step_1_grounding/annotations.jsonl")) {
    const bool grounded_something = r.contains("expressions") && !r["expressions"].empty();
    if (grounded_something) {
      EXPECT_EQ(r["status"], "failed") << r.dump();
      truncated += r["error"]["kind"] == "truncated";
    }
  }
  EXPECT_EQ(truncated, 3);  // red/blue box, tall tree, green circle
  cut = Cut::kNone;
  EXPECT_EQ(Run(spec, {"image_grounding.workflow.retry_failed=true"}), kExitSomeFailed);
  expect_golden_boxes();
}

TEST_P(GroundingE2eTest, KeyEchoedByTheServerNeverReachesDiskOrLog) {
  ScriptedTeacher teacher(GetParam().reply_format);
  // A gateway that quotes the request's key in its error text, for every
  // grounding request (first a retryable 503, then a 400).
  std::atomic<int> calls{0};
  SimServer server([&](const SimRequest& req) {
    if (req.prompt.find("\nCaption: ") != std::string::npos) return teacher(req);
    SimReply r;
    r.status = calls++ % 2 == 0 ? 503 : 400;
    r.raw_body = "{\"error\": {\"message\": \"upstream refused key " + req.api_key +
                 " (Bearer " + req.api_key + ")\"}}";
    return r;
  });
  server.Start();
  std::string spec = WriteSpec(server);
  const fs::path results = dir_ / "results";
  EXPECT_EQ(Run(spec, {"image_grounding.vlm.retry.initial_backoff_s=0.01"}), kExitSomeFailed);
  ASSERT_GT(calls.load(), 0);
  std::vector<Json> step1 = ReadJsonl(results / "step_1_grounding/annotations.jsonl");
  ASSERT_FALSE(step1.empty());
  EXPECT_EQ(step1[0]["status"], "failed");
  EXPECT_NE(step1[0]["error"]["message"].get<std::string>().find("refused key <redacted>"),
            std::string::npos) << step1[0].dump();
  EXPECT_EQ(stderr_.find(kSecret), std::string::npos) << stderr_;
  for (const auto& entry : fs::recursive_directory_iterator(results)) {
    if (!entry.is_regular_file()) continue;
    EXPECT_EQ(ReadFile(entry.path()).find(kSecret), std::string::npos) << entry.path();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Formats, GroundingE2eTest,
    ::testing::Values(Case{"GeminiBackendGemini", "gemini", "gemini-2.5-flash", "auto", "gemini", 8},
                      Case{"OpenAiQwen25", "openai", "Qwen/Qwen2.5-VL-7B-Instruct", "auto", "qwen2_5_vl", 8},
                      Case{"OpenAiQwen3Chunked", "openai", "Qwen/Qwen3-VL-8B-Instruct", "auto", "qwen3_vl", 1},
                      Case{"OpenAiGeminiFormat", "openai", "my-served-model", "gemini", "gemini", 8}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

/// The golden file has the seed document's schema, field by field.
TEST(GroundingGoldenTest, SchemaMatchesSeed) {
  std::ifstream in(fs::path(GROUNDCAP_SOURCE_DIR) / "tests/data/grounding/expected_step1.jsonl");
  ASSERT_TRUE(in) << "golden file missing";
  std::string line;
  int ok = 0;
  while (std::getline(in, line)) {
    Json r = Json::parse(line);
    ASSERT_TRUE(r.contains("image_path") && r["image_path"].is_string());
    ASSERT_TRUE(r.contains("caption") && r["caption"].is_string());
    if (r["status"] != "ok") continue;
    ++ok;
    EXPECT_TRUE(r["image_id"].is_string());
    EXPECT_TRUE(r["cleaned_caption"].is_string());
    EXPECT_EQ(r["source"], "image_grounding");
    EXPECT_EQ(r["pipeline_steps"].dump(), R"(["step0_expression_extraction","step1_grounding"])");
    const std::string caption = r["cleaned_caption"];
    for (const auto& e : r["expressions"]) {
      EXPECT_TRUE(e["text"].is_string());
      EXPECT_TRUE(e["expression_id"].is_string());
      EXPECT_TRUE(e["noun_chunk"].is_string());
      ASSERT_TRUE(e["char_span"].is_array() && e["char_span"].size() == 2u);
      EXPECT_EQ(NormalizeText(SliceCodePoints(caption, e["char_span"][0], e["char_span"][1])),
                NormalizeText(e["text"].get<std::string>()));
      for (const auto& inst : e["instances"]) {
        ASSERT_TRUE(inst["bbox"].is_array() && inst["bbox"].size() == 4u);
        for (const auto& v : inst["bbox"]) EXPECT_TRUE(v.is_number_integer());
        EXPECT_GE(inst["score"].get<double>(), 0.0);
        EXPECT_LE(inst["score"].get<double>(), 1.0);
        EXPECT_EQ(inst["bbox_score"], inst["score"]);
        EXPECT_TRUE(inst["bbox_id"].is_string());
      }
    }
  }
  EXPECT_GE(ok, 3);
}

}  // namespace
}  // namespace groundcap
