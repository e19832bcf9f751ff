#include "teacher/gemini_backend.h"

#include <gtest/gtest.h>

namespace groundcap {
namespace {

TEST(GeminiBackend, ExactRequestBody) {
  GeminiOptions o;
  o.temperature = 0.5;
  o.max_output_tokens = 1024;
  o.thinking_budget = 0;
  TeacherRequest r;
  r.system = "Return boxes.";
  r.images = {{"image/jpeg", "/9j/4AAQ"}};
  r.prompt = "Detect: mug";
  r.response_schema = nlohmann::json::parse(R"({"type":"array","items":{"type":"object",
     "properties":{"box_2d":{"type":"array","items":{"type":"integer"}},"label":{"type":["string","null"]}},
     "required":["box_2d"],"additionalProperties":false}})");
  nlohmann::json expected = nlohmann::json::parse(R"({
    "contents": [{"role": "user", "parts": [
      {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
      {"text": "Detect: mug"}]}],
    "systemInstruction": {"parts": [{"text": "Return boxes."}]},
    "generationConfig": {
      "temperature": 0.5, "maxOutputTokens": 1024,
      "responseMimeType": "application/json",
      "responseSchema": {"type": "ARRAY", "items": {"type": "OBJECT",
        "properties": {"box_2d": {"type": "ARRAY", "items": {"type": "INTEGER"}},
                       "label": {"type": "STRING", "nullable": true}},
        "required": ["box_2d"]}},
      "mediaResolution": "MEDIA_RESOLUTION_HIGH",
      "thinkingConfig": {"thinkingBudget": 0}}})");
  EXPECT_EQ(BuildGeminiBody(o, r), expected);
}

TEST(GeminiBackend, OptionalConfigOmitted) {
  GeminiOptions o;
  o.media_resolution.clear();
  o.structured_output = false;
  TeacherRequest r;
  r.prompt = "p";
  r.response_schema = {{"type", "object"}};
  nlohmann::json b = BuildGeminiBody(o, r);
  const nlohmann::json& c = b["generationConfig"];
  EXPECT_FALSE(c.contains("mediaResolution"));
  EXPECT_FALSE(c.contains("thinkingConfig"));  // -1 = model default
  EXPECT_FALSE(c.contains("responseSchema"));
  EXPECT_FALSE(b.contains("systemInstruction"));
  EXPECT_FALSE(c.contains("responseLogprobs"));
  r.top_logprobs = 5;
  const nlohmann::json with = BuildGeminiBody(o, r)["generationConfig"];
  EXPECT_EQ(with["responseLogprobs"], true);
  EXPECT_EQ(with["logprobs"], 5);
}

TEST(GeminiBackend, ReadsTokenLogprobs) {
  TeacherReply r = ParseGeminiReply(R"({"candidates": [{"content": {"parts": [{"text": "yes"}]},
    "finishReason": "STOP", "logprobsResult": {
      "topCandidates": [{"candidates": [{"token": "yes", "logProbability": -0.2}, {"token": "no", "logProbability": -1.8}]}],
      "chosenCandidates": [{"token": "yes", "logProbability": -0.2}, {"token": 3}]}}]})");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.logprobs.size(), 1u);  // the malformed second token is skipped
  EXPECT_EQ(r.logprobs[0].token, "yes");
  EXPECT_DOUBLE_EQ(r.logprobs[0].logprob, -0.2);
  ASSERT_EQ(r.logprobs[0].top.size(), 2u);
  EXPECT_EQ(r.logprobs[0].top[1].first, "no");
  EXPECT_DOUBLE_EQ(r.logprobs[0].top[1].second, -1.8);
}

TEST(GeminiBackend, UrlAndKeyOnlyInHeader) {
  GeminiOptions o;
  o.base_url = "http://127.0.0.1:9/";
  o.api_key = "AIza-secret";
  o.model = "gemini-2.5-flash";
  HttpPost post = MakeGeminiBackend(o)->Build(TeacherRequest{});
  EXPECT_EQ(post.url, "http://127.0.0.1:9/v1beta/models/gemini-2.5-flash:generateContent");
  EXPECT_NE(std::find(post.headers.begin(), post.headers.end(), "x-goog-api-key: AIza-secret"), post.headers.end());
  EXPECT_EQ(post.body.find("AIza-secret"), std::string::npos);
  EXPECT_EQ(MakeGeminiBackend(o)->Fingerprint().find("AIza-secret"), std::string::npos);
}

TEST(GeminiBackend, BuildReplacesInvalidUtf8InsteadOfThrowing) {
  TeacherRequest r;
  r.system = "\xff";
  r.prompt = "caf\xc3";  // cut in the middle of a UTF-8 sequence
  HttpPost post;
  ASSERT_NO_THROW(post = MakeGeminiBackend(GeminiOptions{})->Build(r));
  EXPECT_NE(post.body.find("caf\xef\xbf\xbd"), std::string::npos);  // U+FFFD
  EXPECT_FALSE(nlohmann::json::parse(post.body, nullptr, false).is_discarded());
}

TEST(GeminiBackend, ThoughtPartsSeparated) {
  TeacherReply r = ParseGeminiReply(R"({"candidates":[{"content":{"role":"model","parts":[
      {"text":"thinking about mugs","thought":true},{"text":"[{\"box_2d\":[1,2,3,4]"},{"text":"}]"}]},
      "finishReason":"STOP"}],
    "usageMetadata":{"promptTokenCount":300,"candidatesTokenCount":12,"thoughtsTokenCount":40}})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.text, R"([{"box_2d":[1,2,3,4]}])");
  EXPECT_EQ(r.thinking, "thinking about mugs");
  EXPECT_EQ(r.finish, FinishReason::kStop);
  EXPECT_EQ(r.finish_raw, "STOP");
  EXPECT_EQ(r.usage.input_tokens, 300);
  EXPECT_EQ(r.usage.output_tokens, 12);
  EXPECT_EQ(r.usage.thinking_tokens, 40);
}

TEST(GeminiBackend, MaxTokensSpentThinkingIsTruncatedWithAdvice) {
  TeacherReply r = ParseGeminiReply(R"({"candidates":[{"content":{"role":"model"},"finishReason":"MAX_TOKENS"}],
      "usageMetadata":{"promptTokenCount":300,"thoughtsTokenCount":8190}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, ErrorKind::kTruncated);
  EXPECT_NE(r.error->message.find("thinking_budget"), std::string::npos);
}

TEST(GeminiBackend, BlockedAndEmpty) {
  EXPECT_EQ(ParseGeminiReply(R"({"promptFeedback":{"blockReason":"SAFETY"}})").error->kind, ErrorKind::kBlocked);
  EXPECT_EQ(ParseGeminiReply(R"({"candidates":[{"finishReason":"SAFETY"}]})").error->kind, ErrorKind::kBlocked);
  EXPECT_EQ(ParseGeminiReply(R"({"candidates":[{"content":{"parts":[]},"finishReason":"STOP"}]})").error->kind,
            ErrorKind::kEmptyReply);
  EXPECT_EQ(ParseGeminiReply(R"({"candidates":[)").error->kind, ErrorKind::kTransport);
  EXPECT_EQ(GeminiFinish("RECITATION"), FinishReason::kSafety);
  EXPECT_EQ(GeminiFinish("MALFORMED_FUNCTION_CALL"), FinishReason::kOther);
}

TEST(GeminiBackend, SchemaConversionDropsUnsupportedKeywords) {
  nlohmann::json s = ToGeminiSchema(nlohmann::json::parse(
      R"({"$schema":"x","type":"object","properties":{"a":{"type":"number","minimum":0,"pattern":"x"}},"additionalProperties":false})"));
  EXPECT_EQ(s, nlohmann::json::parse(R"({"type":"OBJECT","properties":{"a":{"type":"NUMBER","minimum":0}}})"));
}

}  // namespace
}  // namespace groundcap
