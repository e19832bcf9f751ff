// Preflight against the simulated teacher on loopback: model listings of
// both APIs, unknown models with close names first, rejected keys (never
// printed), unreachable URLs, and servers without a listing.
#include "teacher/preflight.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "sim/sim_server.h"
#include "teacher/teacher_test_util.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

using testing_util::DeadPort;

using testing_util::Echo;

constexpr const char* kKey = "sk-PREFLIGHT-5e1f";

FaultConfig Serving(std::vector<std::string> models) {
  FaultConfig f;
  f.models = std::move(models);
  return f;
}

PreflightTarget OpenAi(const SimServer& s, const std::string& model, const std::string& key = kKey) {
  PreflightTarget t;
  t.backend = "openai";
  t.base_url = s.OpenAiBaseUrl();
  t.model = model;
  t.api_key = key;
  t.where = "image_grounding.vlm.openai";
  return t;
}

PreflightTarget Gemini(const SimServer& s, const std::string& model, const std::string& key = kKey) {
  PreflightTarget t = OpenAi(s, model, key);
  t.backend = "gemini";
  t.base_url = s.GeminiBaseUrl();
  t.where = "image_grounding.vlm.gemini";
  return t;
}

TEST(Preflight, ClosestNamesComeFirst) {
  EXPECT_EQ(ClosestNames("qwen2.5-vl-7b", {"llava-1.6", "Qwen2.5-VL-72B", "qwen2.5-vl-7b-awq", "qwen2.5-vl-7b-awq"}),
            // Case-insensitive edit distance: 1, 4, then far; duplicates once.
            (std::vector<std::string>{"Qwen2.5-VL-72B", "qwen2.5-vl-7b-awq", "llava-1.6"}));
}

TEST(Preflight, OpenAiKnownUnknownModel) {
  SimServer s(Echo, Serving({"llava-1.6", "Qwen/Qwen2.5-VL-72B-Instruct", "Qwen/Qwen2.5-VL-7B-Instruct"}));
  s.Start();
  PreflightOutcome ok = PreflightEndpoint(OpenAi(s, "Qwen/Qwen2.5-VL-7B-Instruct"));
  EXPECT_TRUE(ok.ok()) << ok.error;
  EXPECT_TRUE(ok.warning.empty());

  PreflightOutcome bad = PreflightEndpoint(OpenAi(s, "Qwen/Qwen2.5-VL-7B"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error.find("does not serve model \"Qwen/Qwen2.5-VL-7B\""), std::string::npos) << bad.error;
  EXPECT_NE(bad.error.find("image_grounding.vlm.openai.model_name"), std::string::npos) << bad.error;
  EXPECT_NE(bad.error.find("it serves: Qwen/Qwen2.5-VL-7B-Instruct, Qwen/Qwen2.5-VL-72B-Instruct, llava-1.6"),
            std::string::npos) << bad.error;
  EXPECT_EQ(s.requests(), 0);  // nothing paid was sent
  EXPECT_EQ(s.listings(), 2);
}

TEST(Preflight, GeminiKnownUnknownModel) {
  SimServer s(Echo, Serving({"gemini-3.5-flash", "gemini-3.1-flash-lite", "gemini-2.5-pro"}));
  s.Start();
  EXPECT_TRUE(PreflightEndpoint(Gemini(s, "gemini-3.1-flash-lite")).ok());
  EXPECT_TRUE(PreflightEndpoint(Gemini(s, "models/gemini-3.5-flash")).ok());
  PreflightOutcome bad = PreflightEndpoint(Gemini(s, "gemini-3.1-flash-lite-preview"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error.find("no model \"gemini-3.1-flash-lite-preview\""), std::string::npos) << bad.error;
  ASSERT_FALSE(bad.available.empty());
  EXPECT_EQ(bad.available[0], "gemini-3.1-flash-lite");
  EXPECT_NE(bad.error.find("available: gemini-3.1-flash-lite, "), std::string::npos) << bad.error;
}

TEST(Preflight, WrongKeyIsNamedButNotPrinted) {
  for (const char* backend : {"openai", "gemini"}) {
    SCOPED_TRACE(backend);
    FaultConfig f = Serving({"m"});
    f.require_api_key = "the-right-key";
    SimServer s(Echo, f);
    s.Start();
    PreflightTarget t = std::string(backend) == "openai" ? OpenAi(s, "m") : Gemini(s, "m");
    PreflightOutcome out = PreflightEndpoint(t);
    ASSERT_FALSE(out.ok());
    EXPECT_NE(out.error.find("rejected the API key"), std::string::npos) << out.error;
    EXPECT_NE(out.error.find(t.where + ".api_key"), std::string::npos) << out.error;
    EXPECT_EQ(out.error.find(kKey), std::string::npos);
    EXPECT_EQ(out.error.find("the-right-key"), std::string::npos);
    t.api_key = "the-right-key";
    EXPECT_TRUE(PreflightEndpoint(t).ok());
  }
}

TEST(Preflight, UnreachableUrlIsAnError) {
  PreflightTarget t;
  t.backend = "openai";
  t.base_url = "http://127.0.0.1:" + std::to_string(DeadPort()) + "/v1";
  t.model = "m";
  t.api_key = kKey;
  t.where = "image_grounding.vlm.openai";
  PreflightOutcome out = PreflightEndpoint(t);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error.find("cannot reach the teacher at " + t.base_url + "/models"), std::string::npos)
      << out.error;
  t.backend = "gemini";
  t.base_url = t.base_url.substr(0, t.base_url.size() - 3);
  EXPECT_NE(PreflightEndpoint(t).error.find("cannot reach"), std::string::npos);
}

TEST(Preflight, ServerWithoutListingIsAWarning) {
  FaultConfig f;
  f.listing = false;
  SimServer s(Echo, f);
  s.Start();
  for (const PreflightTarget& t : {OpenAi(s, "m"), Gemini(s, "gemini-3.5-flash")}) {
    PreflightOutcome out = PreflightEndpoint(t);
    EXPECT_TRUE(out.ok()) << out.error;
    EXPECT_NE(out.warning.find("not checked"), std::string::npos) << out.warning;
  }
  // A sim that serves any model: Gemini describes every name, the OpenAI
  // listing is absent.
  SimServer any(Echo);
  any.Start();
  EXPECT_TRUE(PreflightEndpoint(Gemini(any, "whatever")).warning.empty());
  EXPECT_FALSE(PreflightEndpoint(OpenAi(any, "whatever")).warning.empty());
}

}  // namespace
}  // namespace groundcap
