#include "teacher/retry.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

namespace groundcap {
namespace {

TEST(RetryClassify, OpenAiRateLimitWithRetryAfterHeader) {
  Error e = ClassifyHttpError(
      429,
      R"({"error":{"message":"Rate limit reached for requests. Please try again in 1.2s.","type":"requests","param":null,"code":"rate_limit_exceeded"}})",
      3);
  EXPECT_EQ(e.kind, ErrorKind::kRateLimited);
  EXPECT_DOUBLE_EQ(e.retry_after_s, 3);
  EXPECT_TRUE(e.retryable());
  EXPECT_NE(e.message.find("Rate limit reached"), std::string::npos);
}

TEST(RetryClassify, OpenAiRateLimitHintInMessageWhenNoHeader) {
  Error e = ClassifyHttpError(
      429, R"({"error":{"message":"Please try again in 1.2s.","type":"requests","code":"rate_limit_exceeded"}})", -1);
  EXPECT_EQ(e.kind, ErrorKind::kRateLimited);
  EXPECT_DOUBLE_EQ(e.retry_after_s, 1.2);
}

TEST(RetryClassify, OpenAiInsufficientQuotaStopsTheRun) {
  Error e = ClassifyHttpError(
      429, R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}})", 5);
  EXPECT_EQ(e.kind, ErrorKind::kQuotaExhausted);
  EXPECT_FALSE(e.retryable());
  EXPECT_TRUE(e.fatal_for_run());
}

constexpr const char* kGeminiPerMinute = R"({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED",
  "message": "You exceeded your current quota. Please retry in 38.962214405s.",
  "details": [
    {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
      {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
       "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "quotaValue": "10"}]},
    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "26s"}]}})";

TEST(RetryClassify, GeminiPerMinuteUsesRetryInfo) {
  Error e = ClassifyHttpError(429, kGeminiPerMinute, -1);
  EXPECT_EQ(e.kind, ErrorKind::kRateLimited);
  EXPECT_DOUBLE_EQ(e.retry_after_s, 26);
  ErrorBodyInfo info = ParseErrorBody(kGeminiPerMinute);
  EXPECT_EQ(info.status, "RESOURCE_EXHAUSTED");
  EXPECT_EQ(info.quota_ids, "GenerateRequestsPerMinutePerProjectPerModel-FreeTier");
}

TEST(RetryClassify, GeminiDailyAndLimitZeroAreQuotaExhausted) {
  std::string daily = kGeminiPerMinute;
  daily.replace(daily.find("PerMinute"), 9, "PerDay");
  EXPECT_EQ(ClassifyHttpError(429, daily, -1).kind, ErrorKind::kQuotaExhausted);
  Error zero = ClassifyHttpError(
      429, R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"Quota exceeded for metric: x, limit: 0, model: gemini-2.5-pro"}})", -1);
  EXPECT_EQ(zero.kind, ErrorKind::kQuotaExhausted);
  EXPECT_NE(zero.message.find("resume"), std::string::npos);
}

TEST(RetryClassify, GeminiErrorWrappedInArray) {
  std::string wrapped = std::string("[") + kGeminiPerMinute + "]";
  EXPECT_DOUBLE_EQ(ClassifyHttpError(429, wrapped, -1).retry_after_s, 26);
}

TEST(RetryClassify, GeminiInvalidKeyIsAuthEvenWith400) {
  Error e = ClassifyHttpError(
      400, R"({"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}})", -1);
  EXPECT_EQ(e.kind, ErrorKind::kAuth);
  EXPECT_TRUE(e.fatal_for_run());
}

TEST(RetryClassify, AuthStatuses) {
  EXPECT_EQ(ClassifyHttpError(401, R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}})", -1).kind, ErrorKind::kAuth);
  EXPECT_EQ(ClassifyHttpError(403, R"({"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}})", -1).kind, ErrorKind::kAuth);
}

TEST(RetryClassify, VllmOldAndNewShapes) {
  Error old_shape = ClassifyHttpError(
      400, R"({"object":"error","message":"The model `foo` does not exist.","type":"NotFoundError","param":null,"code":404})", -1);
  EXPECT_EQ(old_shape.kind, ErrorKind::kBadRequest);
  EXPECT_NE(old_shape.message.find("does not exist"), std::string::npos);
  Error ctx = ClassifyHttpError(
      400, R"({"error":{"message":"This model's maximum context length is 32768 tokens. However, you requested 40000 tokens.","type":"BadRequestError","param":null,"code":400}})", -1);
  EXPECT_EQ(ctx.kind, ErrorKind::kContextLength);
  EXPECT_FALSE(ctx.retryable());
}

TEST(RetryClassify, LlamaCppOllamaAndServerErrors) {
  Error loading = ClassifyHttpError(503, R"({"error":{"code":503,"message":"Loading model","type":"unavailable_error"}})", -1);
  EXPECT_EQ(loading.kind, ErrorKind::kHttp);
  EXPECT_TRUE(loading.retryable());
  EXPECT_NE(loading.message.find("Loading model"), std::string::npos);
  Error ollama = ClassifyHttpError(404, R"({"error":"model 'llava' not found"})", -1);
  EXPECT_EQ(ollama.kind, ErrorKind::kBadRequest);
  EXPECT_NE(ollama.message.find("not found"), std::string::npos);
  Error html = ClassifyHttpError(502, "<html>Bad Gateway</html>", -1);
  EXPECT_TRUE(html.retryable());
  EXPECT_EQ(ClassifyHttpError(408, "", -1).kind, ErrorKind::kTimeout);
  EXPECT_FALSE(ClassifyHttpError(404, "", -1).retryable());
  EXPECT_FALSE(ClassifyHttpError(400, "{}", -1).retryable());
}

TEST(RetryClassify, ErrorInsideA200Body) {
  nlohmann::json body = nlohmann::json::parse(R"({"error":{"message":"quota","code":"insufficient_quota"}})");
  EXPECT_EQ(ClassifyErrorInBody(body).kind, ErrorKind::kQuotaExhausted);
}

TEST(RetryClassify, CurlErrors) {
  EXPECT_EQ(ClassifyCurlError(CURLE_OPERATION_TIMEDOUT, "").kind, ErrorKind::kTimeout);
  EXPECT_EQ(ClassifyCurlError(CURLE_RECV_ERROR, "reset").kind, ErrorKind::kTransport);
  EXPECT_EQ(ClassifyCurlError(CURLE_COULDNT_CONNECT, "").kind, ErrorKind::kConnect);
  EXPECT_EQ(ClassifyCurlError(CURLE_COULDNT_RESOLVE_HOST, "").kind, ErrorKind::kConnect);
  EXPECT_TRUE(ClassifyCurlError(CURLE_COULDNT_CONNECT, "").retryable());
  // Nothing of the request was sent: the server was never reached.
  EXPECT_EQ(ClassifyCurlError(CURLE_OPERATION_TIMEDOUT, "", false).kind, ErrorKind::kConnect);
  EXPECT_EQ(ClassifyCurlError(CURLE_SSL_CONNECT_ERROR, "", false).kind, ErrorKind::kConnect);
  EXPECT_EQ(ClassifyCurlError(CURLE_RECV_ERROR, "reset", true).kind, ErrorKind::kTransport);
  EXPECT_EQ(ClassifyCurlError(CURLE_URL_MALFORMAT, "", false).kind, ErrorKind::kBadRequest);
  EXPECT_TRUE(ClassifyCurlError(CURLE_PARTIAL_FILE, "").retryable());
  EXPECT_FALSE(ClassifyCurlError(CURLE_URL_MALFORMAT, "").retryable());
}

TEST(RetryParse, RetryAfterSecondsAndDate) {
  EXPECT_DOUBLE_EQ(*ParseRetryAfter("12", 0), 12);
  EXPECT_DOUBLE_EQ(*ParseRetryAfter(" 1.5 ", 0), 1.5);
  // Wed, 21 Oct 2015 07:28:00 GMT = 1445412480
  EXPECT_DOUBLE_EQ(*ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), 10);
  EXPECT_DOUBLE_EQ(*ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
  EXPECT_FALSE(ParseRetryAfter("soon", 0));
  EXPECT_FALSE(ParseRetryAfter("", 0));
}

TEST(RetryParse, Durations) {
  EXPECT_DOUBLE_EQ(*ParseDuration("26s"), 26);
  EXPECT_NEAR(*ParseDuration("57.238747106s"), 57.238747106, 1e-9);
  EXPECT_DOUBLE_EQ(*ParseDuration("6m0s"), 360);
  EXPECT_DOUBLE_EQ(*ParseDuration("250ms"), 0.25);
  EXPECT_FALSE(ParseDuration("26"));
  EXPECT_FALSE(ParseDuration("abc"));
  EXPECT_DOUBLE_EQ(*ParseRetryHintInMessage("... Please retry in 38.5s."), 38.5);
  EXPECT_DOUBLE_EQ(*ParseRetryHintInMessage("Please try again in 6m0s."), 360);
  EXPECT_FALSE(ParseRetryHintInMessage("no hint here"));
}

TEST(RetryBackoff, ExponentialJitteredCappedAndHonoursServer) {
  RetryPolicy p;
  p.initial_backoff_s = 1;
  p.max_backoff_s = 10;
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 1, 0.0), 0.5);
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 1, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 3, 0.0), 2.0);   // base 4
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 10, 1.0), 10.0);  // capped
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 1, 0.0, 7.0), 7.0);
  EXPECT_DOUBLE_EQ(BackoffDelay(p, 1, 0.0, 500.0), 10.0);  // server delay capped too
}

TEST(RetryBackoff, ShouldRetryOnlyRetryableAndBounded) {
  RetryPolicy p;
  p.max_attempts = 3;
  Error rl = Error::Make(ErrorKind::kRateLimited, "x");
  EXPECT_TRUE(ShouldRetry(p, rl, 1));
  EXPECT_TRUE(ShouldRetry(p, rl, 2));
  EXPECT_FALSE(ShouldRetry(p, rl, 3));
  EXPECT_FALSE(ShouldRetry(p, Error::Make(ErrorKind::kBadRequest, "x"), 1));
  EXPECT_FALSE(ShouldRetry(p, Error::Make(ErrorKind::kAuth, "x"), 1));
  EXPECT_FALSE(ShouldRetry(p, Error::Make(ErrorKind::kContextLength, "x"), 1));
}

TEST(RateLimitHeadersTest, ReadsOpenAiStyleBudgetsAndPausesOnlyWhenOneIsUsedUp) {
  RateLimitHeaders h;
  h.Read("HTTP/1.1 200 OK\r\n");
  h.Read("X-RateLimit-Remaining-Requests: 0\r\n");
  h.Read("x-ratelimit-reset-requests:  1m30.5s \r\n");
  h.Read("x-ratelimit-remaining-tokens: 1200\r\n");
  h.Read("x-ratelimit-reset-tokens: 20ms\r\n");
  h.Read("x-ratelimit-limit-requests: 500\r\n");
  h.Read("retry-after: 7\r\n");
  EXPECT_EQ(h.remaining_requests, 0);
  EXPECT_DOUBLE_EQ(h.reset_requests_s, 90.5);
  EXPECT_EQ(h.remaining_tokens, 1200);
  EXPECT_DOUBLE_EQ(h.reset_tokens_s, 0.02);
  EXPECT_DOUBLE_EQ(h.PauseSeconds(), 90.5);

  RateLimitHeaders tokens;
  tokens.Read("x-ratelimit-remaining-tokens: 0");
  tokens.Read("x-ratelimit-reset-tokens: 12");  // plain seconds
  tokens.Read("x-ratelimit-remaining-requests: 3");
  tokens.Read("x-ratelimit-reset-requests: 1s");
  EXPECT_DOUBLE_EQ(tokens.PauseSeconds(), 12);

  // Tokens left, but fewer than the next request needs: that waits too.
  RateLimitHeaders low;
  low.Read("x-ratelimit-remaining-tokens: 800");
  low.Read("x-ratelimit-reset-tokens: 4s");
  EXPECT_EQ(low.PauseSeconds(), 0);
  EXPECT_EQ(low.PauseSeconds(800), 0);
  EXPECT_DOUBLE_EQ(low.PauseSeconds(801), 4);

  RateLimitHeaders odd;
  odd.Read("x-ratelimit-remaining-requests: 0");
  odd.Read("x-ratelimit-reset-requests: 1767225600");  // an epoch time, not a delay
  EXPECT_EQ(odd.PauseSeconds(), 0);
  odd.Read("x-ratelimit-reset-requests: soon");
  EXPECT_EQ(odd.PauseSeconds(), 0);
  EXPECT_EQ(RateLimitHeaders{}.PauseSeconds(), 0);
}

}  // namespace
}  // namespace groundcap
