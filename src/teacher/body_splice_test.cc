// Request bodies with the base64 spliced in after dump() (JsonPostWithImages)
// are byte for byte the bodies nlohmann would have written with the images
// inside, for both backends; and Gemini's thinking control (thinkingLevel
// for 3.x, thinkingBudget for 2.5, never both) reaches the wire.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "sim/sim_server.h"
#include "spec/spec.h"
#include "teacher/gemini_backend.h"
#include "teacher/openai_backend.h"
#include "teacher/teacher_config.h"
#include "teacher/teacher_test_util.h"
#include "util/jsonl.h"

namespace groundcap {
namespace {

using testing_util::Collector;
using testing_util::Echo;

TeacherRequest TwoImages(bool shared) {
  TeacherRequest r;
  r.sample_id = "s";
  r.system = "You look at \"images\".";
  std::string a(300000, 'A'), b = "iVBORw0KGgo=";
  a[17] = '+';
  a[299998] = '/';
  r.images.push_back(shared ? ImagePart::Shared("image/jpeg", a) : ImagePart{"image/jpeg", a, nullptr});
  r.images.push_back(shared ? ImagePart::Shared("image/png", b) : ImagePart{"image/png", b, nullptr});
  // A prompt that quotes a placeholder-looking string and needs escaping.
  r.prompt = "Boxes for E0: \"gc-image-0\" \\ tab\t, ünïcode " + ImagePlaceholder(0) + " \x01";
  r.response_schema = {{"type", "object"}};
  return r;
}

TEST(BodySplice, OpenAiBodyIsTheDumpOfTheFullJson) {
  OpenAiOptions o;
  o.base_url = "http://127.0.0.1:1/v1";
  o.model = "m";
  auto backend = MakeOpenAiBackend(o);
  for (bool shared : {false, true}) {
    TeacherRequest r = TwoImages(shared);
    EXPECT_EQ(backend->Build(r).body, DumpJsonLine(BuildOpenAiBody(o, r)));
  }
}

TEST(BodySplice, GeminiBodyIsTheDumpOfTheFullJson) {
  GeminiOptions o;
  auto backend = MakeGeminiBackend(o);
  for (bool shared : {false, true}) {
    TeacherRequest r = TwoImages(shared);
    const std::string body = backend->Build(r).body;
    EXPECT_EQ(body, DumpJsonLine(BuildGeminiBody(o, r)));
    nlohmann::json j = nlohmann::json::parse(body);
    EXPECT_EQ(j["contents"][0]["parts"][0]["inlineData"]["data"], r.images[0].Base64());
  }
}

TEST(BodySplice, SharedPartsShareOneString) {
  ImagePart a = ImagePart::Shared("image/jpeg", std::string(1000, 'Q'));
  ImagePart b = a;
  EXPECT_EQ(&a.Base64(), &b.Base64());
  EXPECT_TRUE(a.base64.empty());
}

TEST(GeminiThinking, ControlFollowsTheModelGeneration) {
  EXPECT_EQ(GeminiThinkingControlFor("gemini-3.1-flash-lite"), ThinkingControl::kLevel);
  EXPECT_EQ(GeminiThinkingControlFor("models/gemini-3-pro-preview"), ThinkingControl::kLevel);
  EXPECT_EQ(GeminiThinkingControlFor("gemini-3.5-flash"), ThinkingControl::kLevel);
  EXPECT_EQ(GeminiThinkingControlFor("gemini-12.0-ultra"), ThinkingControl::kLevel);
  EXPECT_EQ(GeminiThinkingControlFor("gemini-2.5-flash"), ThinkingControl::kBudget);
  EXPECT_EQ(GeminiThinkingControlFor("gemini-2.0-flash"), ThinkingControl::kBudget);
  EXPECT_EQ(GeminiThinkingControlFor("gemma-3-27b-it"), ThinkingControl::kBudget);
  EXPECT_EQ(GeminiThinkingControlFor("gemini-flash-latest"), ThinkingControl::kBudget);
}

TEST(GeminiThinking, NeverBothFields) {
  TeacherRequest r;
  r.prompt = "p";
  GeminiOptions o;
  o.model = "gemini-3.1-flash-lite";
  EXPECT_FALSE(BuildGeminiBody(o, r)["generationConfig"].contains("thinkingConfig"));
  o.thinking_level = "low";
  o.thinking_budget = 512;  // set too: the level wins for a 3.x model
  EXPECT_EQ(BuildGeminiBody(o, r)["generationConfig"]["thinkingConfig"],
            nlohmann::json({{"thinkingLevel", "low"}}));
  EXPECT_EQ(CheckGeminiThinking(o, "x."), "");
  o.thinking_level = "";
  EXPECT_EQ(BuildGeminiBody(o, r)["generationConfig"]["thinkingConfig"],
            nlohmann::json({{"thinkingBudget", 512}}));
  o.model = "gemini-2.5-flash";
  o.thinking_budget = 0;
  EXPECT_EQ(BuildGeminiBody(o, r)["generationConfig"]["thinkingConfig"],
            nlohmann::json({{"thinkingBudget", 0}}));
  o.thinking_level = "high";
  EXPECT_NE(CheckGeminiThinking(o, "image_grounding.vlm.").find("image_grounding.vlm.gemini.thinking_budget"),
            std::string::npos);
  o.thinking_control = "level";  // the override: this model takes levels after all
  EXPECT_EQ(CheckGeminiThinking(o, "x."), "");
  EXPECT_EQ(BuildGeminiBody(o, r)["generationConfig"]["thinkingConfig"],
            nlohmann::json({{"thinkingLevel", "high"}}));
  o.model = "gemini-3.5-flash";
  o.thinking_control = "budget";
  EXPECT_EQ(BuildGeminiBody(o, r)["generationConfig"]["thinkingConfig"],
            nlohmann::json({{"thinkingBudget", 0}}));
}

Spec GroundingSpec(const std::vector<std::string>& overrides) {
  return Spec::FromYaml("autolabel_type: image_grounding\nresults_dir: /tmp/x\n"
                        "image_grounding:\n  data:\n    input_jsonl: in.jsonl\n",
                        overrides);
}

TEST(GeminiThinking, SpecLevelReachesTheWireAndAMismatchIsASetupError) {
  SimServer server(Echo);
  server.Start();
  const std::string g = "image_grounding.vlm.gemini.";
  Spec spec = GroundingSpec({g + "api_key=k", g + "base_url=" + server.GeminiBaseUrl(),
                             g + "thinking_level=minimal"});
  auto teacher = MakeTeacher(spec, kImageGrounding);
  Collector c;
  teacher->Submit(testing_util::Req(0), c.Slot(0));
  ASSERT_TRUE(c.Wait()[0].ok());
  EXPECT_EQ(server.RecentBodies().back()["generationConfig"]["thinkingConfig"],
            nlohmann::json({{"thinkingLevel", "minimal"}}));
  Spec bad = GroundingSpec({g + "api_key=k", g + "model=gemini-2.5-flash", g + "thinking_level=low"});
  EXPECT_THROW(MakeTeacher(bad, kImageGrounding), SetupError);
  EXPECT_THROW(GroundingSpec({g + "thinking_level=extreme"}), SetupError);  // not a level
}

TEST(GeminiThinking, ThoughtTokensAreCounted) {
  TeacherReply r = ParseGeminiReply(R"({"candidates": [{"content": {"parts": [{"text": "ok"}]},
      "finishReason": "STOP"}], "usageMetadata": {"promptTokenCount": 10,
      "candidatesTokenCount": 3, "thoughtsTokenCount": 250}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.usage.output_tokens, 3);
  EXPECT_EQ(r.usage.thinking_tokens, 250);
}

}  // namespace
}  // namespace groundcap
