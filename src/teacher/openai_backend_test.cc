#include "teacher/openai_backend.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "teacher/retry.h"

namespace groundcap {
namespace {

TeacherRequest SampleRequest() {
  TeacherRequest r;
  r.sample_id = "s1";
  r.system = "You are precise.";
  r.images = {{"image/png", "iVBORw0KGgo="}, {"image/jpeg", "/9j/4AAQ"}};
  r.prompt = "Locate: the red mug";
  r.response_schema = {{"type", "object"}};
  return r;
}

TEST(OpenAiBackend, ExactRequestBody) {
  OpenAiOptions o;
  o.model = "Qwen/Qwen2.5-VL-7B-Instruct";
  o.temperature = 0.2;
  o.top_p = 0.9;
  o.max_tokens = 512;
  o.seed = 7;
  o.extra_body = {{"skip_special_tokens", false}, {"chat_template_kwargs", {{"enable_thinking", false}}}};
  nlohmann::json expected = nlohmann::json::parse(R"({
    "model": "Qwen/Qwen2.5-VL-7B-Instruct",
    "messages": [
      {"role": "system", "content": "You are precise."},
      {"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
        {"type": "text", "text": "Locate: the red mug"}]}],
    "temperature": 0.2, "top_p": 0.9, "max_tokens": 512, "seed": 7,
    "response_format": {"type": "json_schema", "json_schema": {"name": "reply", "strict": true, "schema": {"type": "object"}}},
    "skip_special_tokens": false,
    "chat_template_kwargs": {"enable_thinking": false}})");
  EXPECT_EQ(BuildOpenAiBody(o, SampleRequest()), expected);
}

TEST(OpenAiBackend, OptionalFieldsOmittedAndOverrides) {
  OpenAiOptions o;
  o.model = "m";
  o.structured_output = false;
  TeacherRequest r = SampleRequest();
  r.system.clear();
  r.temperature = 0.0;
  r.max_tokens = 99;
  nlohmann::json b = BuildOpenAiBody(o, r);
  EXPECT_FALSE(b.contains("response_format"));
  EXPECT_FALSE(b.contains("top_p"));
  EXPECT_FALSE(b.contains("seed"));
  EXPECT_EQ(b["messages"].size(), 1u);
  EXPECT_EQ(b["temperature"], 0.0);
  EXPECT_EQ(b["max_tokens"], 99);
  EXPECT_FALSE(b.contains("logprobs"));
  r.top_logprobs = 5;
  b = BuildOpenAiBody(o, r);
  EXPECT_EQ(b["logprobs"], true);
  EXPECT_EQ(b["top_logprobs"], 5);
}

TEST(OpenAiBackend, ReadsTokenLogprobs) {
  TeacherReply r = ParseOpenAiReply(R"({"choices": [{"message": {"content": "{\"a\":\"yes\"}"},
    "finish_reason": "stop", "logprobs": {"content": [
      {"token": "{\"a\":\"", "logprob": 0.0, "top_logprobs": []},
      {"token": "yes", "logprob": -0.1, "top_logprobs": [{"token": "yes", "logprob": -0.1}, {"token": "no", "logprob": -2.4}]},
      {"token": 7, "logprob": -1}]}}]})");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.logprobs.size(), 2u);  // the malformed third token is skipped
  EXPECT_EQ(r.logprobs[1].token, "yes");
  EXPECT_DOUBLE_EQ(r.logprobs[1].logprob, -0.1);
  ASSERT_EQ(r.logprobs[1].top.size(), 2u);
  EXPECT_EQ(r.logprobs[1].top[1].first, "no");
  EXPECT_TRUE(ParseOpenAiReply(R"({"choices": [{"message": {"content": "x"}}]})").logprobs.empty());
}

TEST(OpenAiBackend, HeadersCarryKeyOnlyAsBearer) {
  OpenAiOptions o;
  o.base_url = "http://h:8000/v1/";
  o.api_key = "sk-abc";
  o.model = "m";
  HttpPost post = MakeOpenAiBackend(o)->Build(SampleRequest());
  EXPECT_EQ(post.url, "http://h:8000/v1/chat/completions");
  EXPECT_NE(std::find(post.headers.begin(), post.headers.end(), "Authorization: Bearer sk-abc"), post.headers.end());
  EXPECT_NE(std::find(post.headers.begin(), post.headers.end(), "Content-Type: application/json"), post.headers.end());
  EXPECT_NE(std::find(post.headers.begin(), post.headers.end(), "Expect:"), post.headers.end());
  EXPECT_EQ(post.body.find("sk-abc"), std::string::npos);
  EXPECT_EQ(MakeOpenAiBackend(o)->Fingerprint().find("sk-abc"), std::string::npos);
  o.api_key.clear();
  HttpPost anon = MakeOpenAiBackend(o)->Build(SampleRequest());
  for (const std::string& h : anon.headers) EXPECT_EQ(h.find("Authorization"), std::string::npos);
}

TEST(OpenAiBackend, BuildReplacesInvalidUtf8InsteadOfThrowing) {
  OpenAiOptions o;
  o.base_url = "http://h/v1";
  o.model = "m";
  TeacherRequest r = SampleRequest();
  r.prompt = "caf\xc3";  // cut in the middle of a UTF-8 sequence
  HttpPost post;
  ASSERT_NO_THROW(post = MakeOpenAiBackend(o)->Build(r));
  EXPECT_NE(post.body.find("caf\xef\xbf\xbd"), std::string::npos);  // U+FFFD
  EXPECT_FALSE(nlohmann::json::parse(post.body, nullptr, false).is_discarded());
}

TEST(OpenAiBackend, ParsesContentUsageAndThinkBlocks) {
  TeacherReply r = ParseOpenAiReply(R"({"choices":[{"index":0,"message":{"role":"assistant",
    "content":"<think>look left</think>\n[{\"bbox_2d\":[1,2,3,4]}]"},"finish_reason":"stop"}],
    "usage":{"prompt_tokens":100,"completion_tokens":20,"completion_tokens_details":{"reasoning_tokens":5}}})");
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.text, R"([{"bbox_2d":[1,2,3,4]}])");
  EXPECT_EQ(r.thinking, "look left");
  EXPECT_EQ(r.finish, FinishReason::kStop);
  EXPECT_EQ(r.usage.input_tokens, 100);
  EXPECT_EQ(r.usage.output_tokens, 15);  // completion_tokens counts the reasoning too
  EXPECT_EQ(r.usage.thinking_tokens, 5);
}

TEST(OpenAiBackend, UnopenedThinkAndReasoningContent) {
  TeacherReply a = ParseOpenAiReply(R"({"choices":[{"message":{"content":"hmm...</think>answer"},"finish_reason":"stop"}]})");
  EXPECT_EQ(a.text, "answer");
  EXPECT_EQ(a.thinking, "hmm...");
  TeacherReply b = ParseOpenAiReply(R"({"choices":[{"message":{"content":"ok","reasoning_content":"why"},"finish_reason":"length"}]})");
  EXPECT_EQ(b.text, "ok");
  EXPECT_EQ(b.thinking, "why");
  EXPECT_EQ(b.finish, FinishReason::kLength);
  EXPECT_TRUE(b.ok());  // partial text with finish length is still a reply
}

TEST(OpenAiBackend, UnusableReplies) {
  EXPECT_EQ(ParseOpenAiReply(R"({"choices":[{"message":{"content":""},"finish_reason":"stop"}]})").error->kind,
            ErrorKind::kEmptyReply);
  EXPECT_EQ(ParseOpenAiReply(R"({"choices":[{"message":{"content":null},"finish_reason":"length"}]})").error->kind,
            ErrorKind::kTruncated);
  EXPECT_EQ(ParseOpenAiReply(R"({"choices":[{"message":{"content":"<think>long"},"finish_reason":"length"}]})").error->kind,
            ErrorKind::kTruncated);
  EXPECT_EQ(ParseOpenAiReply(R"({"choices":[{"message":{"content":null,"refusal":"I can't"},"finish_reason":"stop"}]})").error->kind,
            ErrorKind::kBlocked);
  EXPECT_EQ(ParseOpenAiReply(R"({"choices":[{"message":{"content":""},"finish_reason":"content_filter"}]})").error->kind,
            ErrorKind::kBlocked);
  EXPECT_EQ(ParseOpenAiReply(R"({"choices":[]})").error->kind, ErrorKind::kEmptyReply);
  EXPECT_EQ(ParseOpenAiReply("<html>").error->kind, ErrorKind::kTransport);
  EXPECT_EQ(ParseOpenAiReply(R"({"choices":[{"message":{"content":"x"}})").error->kind, ErrorKind::kTransport);
  EXPECT_EQ(ParseOpenAiReply(R"({"error":{"message":"m","code":"insufficient_quota"}})").error->kind,
            ErrorKind::kQuotaExhausted);
}

TEST(OpenAiBackend, DeeplyNestedBodyIsMalformedNotACrash) {
  TeacherReply r = ParseOpenAiReply("{\"error\": " + std::string(200000, '[') + std::string(200000, ']') + "}");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->message, "malformed response body (nested deeper than 64 levels)");
  EXPECT_EQ(ParseErrorBody(std::string(200000, '{')).message, "");
}

TEST(OpenAiBackend, ContentAsPartsArray) {
  TeacherReply r = ParseOpenAiReply(R"({"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},"finish_reason":"stop"}]})");
  EXPECT_EQ(r.text, "ab");
}

TEST(OpenAiBackendTest, StrictSchemaViolationsNamesEachProblem) {
  nlohmann::json good = {{"type", "object"},
                         {"additionalProperties", false},
                         {"required", {"a"}},
                         {"properties", {{"a", {{"type", "array"}, {"items", {{"type", "string"}}}}}}}};
  EXPECT_TRUE(StrictSchemaViolations(good).empty());
  nlohmann::json bad = good;
  bad["properties"]["b"] = {{"type", "object"}, {"properties", nlohmann::json::object()}};
  EXPECT_EQ(StrictSchemaViolations(bad),
            (std::vector<std::string>{"$.b: additionalProperties must be false",
                                      "$: every property must be required"}));
}

}  // namespace
}  // namespace groundcap
