// MakeTeacher from a spec: missing keys, defaults and extra_body reaching
// the wire of the loopback SimServer, keys read from the environment.
#include "teacher/teacher_config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/sim_server.h"
#include "spec/spec.h"
#include "teacher/teacher_test_util.h"

namespace groundcap {
namespace {

using testing_util::Collector;
using testing_util::Echo;
using testing_util::Req;

Spec GroundingSpec(const std::vector<std::string>& overrides) {
  return Spec::FromYaml("autolabel_type: image_grounding\nresults_dir: /tmp/x\n"
                        "image_grounding:\n  data:\n    input_jsonl: in.jsonl\n",
                        overrides);
}

TEST(TeacherConfig, MissingGeminiKeyIsASetupError) {
  unsetenv("GOOGLE_API_KEY");
  unsetenv("GEMINI_API_KEY");
  Spec spec = GroundingSpec({});
  try {
    MakeTeacher(spec, kImageGrounding);
    FAIL() << "expected SetupError";
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("GOOGLE_API_KEY"), std::string::npos);
  }
}

// Regression (issue 14.8): file:// and ftp:// teacher URLs were attempted,
// one failed record per sample; they are now setup errors naming the key.
TEST(TeacherConfig, TeacherUrlMustBeHttpWithAHost) {
  const std::string openai = "image_grounding.vlm.openai.";
  for (const char* bad : {"file:///etc/passwd", "ftp://host/v1", "localhost:8000/v1", "http://", "https:///v1"}) {
    SCOPED_TRACE(bad);
    Spec spec = GroundingSpec({"image_grounding.vlm.backend=openai", openai + "model_name=m",
                               openai + "base_url=" + std::string(bad)});
    try {
      MakeTeacher(spec, kImageGrounding);
      ADD_FAILURE() << "expected SetupError";
    } catch (const SetupError& e) {
      EXPECT_EQ(std::string(e.what()), openai + "base_url must be an http:// or https:// URL with a host, got \"" +
                                           bad + "\"");
    }
  }
  Spec gemini = GroundingSpec({"image_grounding.vlm.gemini.api_key=k", "image_grounding.vlm.gemini.base_url=file:///x"});
  EXPECT_THROW(MakeTeacher(gemini, kImageGrounding), SetupError);
  Spec good = GroundingSpec({"image_grounding.vlm.backend=openai", openai + "model_name=m",
                             openai + "base_url=https://api.example.test/v1"});
  EXPECT_NE(MakeTeacher(good, kImageGrounding), nullptr);
}

TEST(TeacherConfig, GeminiSpecDefaultsReachTheWire) {
  SimServer server(Echo);
  server.Start();
  Spec spec = GroundingSpec({"image_grounding.vlm.gemini.api_key=spec-key",
                             "image_grounding.vlm.gemini.base_url=" + server.GeminiBaseUrl()});
  std::unique_ptr<Teacher> teacher = MakeTeacher(spec, kImageGrounding);
  EXPECT_EQ(teacher->ModelName(), "gemini-3.1-flash-lite");
  EXPECT_EQ(teacher->Fingerprint().find("spec-key"), std::string::npos);
  Collector c;
  teacher->Submit(Req(0), c.Slot(0));
  ASSERT_TRUE(c.Wait()[0].ok());
  const nlohmann::json config = server.RecentBodies().back()["generationConfig"];
  EXPECT_EQ(config["mediaResolution"], "MEDIA_RESOLUTION_HIGH");
  EXPECT_EQ(config["maxOutputTokens"], 8192);
  EXPECT_DOUBLE_EQ(config["temperature"].get<double>(), 0.3);
  EXPECT_FALSE(config.contains("thinkingConfig"));
}

TEST(TeacherConfig, KeyFromEnvironmentLosesTrailingNewline) {
  FaultConfig f;
  f.require_api_key = "sk-env";
  SimServer server(Echo, f);
  server.Start();
  setenv("OPENAI_API_KEY", "sk-env\n", 1);  // as read from a key file
  Spec spec = GroundingSpec({"image_grounding.vlm.backend=openai",
                             "image_grounding.vlm.openai.base_url=" + server.OpenAiBaseUrl(),
                             "image_grounding.vlm.openai.model_name=qwen"});
  std::unique_ptr<Teacher> teacher = MakeTeacher(spec, kImageGrounding);
  unsetenv("OPENAI_API_KEY");
  Collector c;
  teacher->Submit(Req(0), c.Slot(0));
  TeacherReply reply = c.Wait()[0];
  EXPECT_TRUE(reply.ok()) << reply.error->message;
}

TEST(TeacherConfig, OpenAiSpecWithExtraBody) {
  SimServer server(Echo);
  server.Start();
  Spec spec = GroundingSpec({"image_grounding.vlm.backend=openai",
                             "image_grounding.vlm.openai.base_url=" + server.OpenAiBaseUrl(),
                             "image_grounding.vlm.openai.model_name=qwen",
                             "image_grounding.vlm.openai.seed=5",
                             "image_grounding.vlm.openai.extra_body={skip_special_tokens: false}"});
  std::unique_ptr<Teacher> teacher = MakeTeacher(spec, kImageGrounding);
  Collector c;
  teacher->Submit(Req(0), c.Slot(0));
  ASSERT_TRUE(c.Wait()[0].ok());
  const nlohmann::json body = server.RecentBodies().back();
  EXPECT_EQ(body["model"], "qwen");
  EXPECT_EQ(body["seed"], 5);
  EXPECT_EQ(body["skip_special_tokens"], false);
  EXPECT_DOUBLE_EQ(body["temperature"].get<double>(), 0.7);
  EXPECT_FALSE(body.contains("top_p"));
}

}  // namespace
}  // namespace groundcap
