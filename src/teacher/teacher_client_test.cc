// The teacher client against the loopback SimServer: wire format of both
// backends, error shapes end to end, fault injection, quota, secrets.
#include "teacher/teacher_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "sim/sim_server.h"
#include "teacher/gemini_backend.h"
#include "teacher/openai_backend.h"
#include "teacher/teacher_test_util.h"
#include "util/log.h"

namespace groundcap {
namespace {

using testing_util::Collector;
using testing_util::Echo;
using testing_util::Req;

TeacherClientOptions FastOptions(int in_flight = 8) {
  TeacherClientOptions o;
  o.max_in_flight = in_flight;
  o.timeout_s = 10;
  o.retry.max_attempts = 8;
  o.retry.initial_backoff_s = 0.005;
  o.retry.max_backoff_s = 0.05;
  o.jitter_seed = 42;
  return o;
}

std::unique_ptr<Teacher> OpenAiTeacher(const SimServer& s, TeacherClientOptions o = FastOptions(),
                                       std::string key = "") {
  OpenAiOptions oo;
  oo.base_url = s.OpenAiBaseUrl();
  oo.model = "qwen-vl";
  oo.api_key = std::move(key);
  return MakeTeacherClient(MakeOpenAiBackend(oo), o);
}

std::unique_ptr<Teacher> GeminiTeacher(const SimServer& s, TeacherClientOptions o = FastOptions(),
                                       std::string key = "k") {
  GeminiOptions g;
  g.base_url = s.GeminiBaseUrl();
  g.model = "gemini-2.5-flash";
  g.api_key = std::move(key);
  g.thinking_budget = 0;
  return MakeTeacherClient(MakeGeminiBackend(g), o);
}

TEST(TeacherClientWire, OpenAiRequestReachesServerIntact) {
  std::mutex mu;
  SimRequest seen;
  SimServer server([&](const SimRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    seen = r;
    SimReply reply;
    reply.text = "[1,2,3,4]";
    reply.thinking = "hmm";
    return reply;
  });
  server.Start();
  auto teacher = OpenAiTeacher(server, FastOptions(), "sk-wire");
  TeacherRequest r = Req(1);
  r.system = "sys";
  r.images = {{"image/png", "aGVsbG8="}, {"image/jpeg", "d29ybGQ="}};  // "hello", "world"
  r.response_schema = {{"type", "array"}};
  Collector c;
  teacher->Submit(r, c.Slot(0));
  TeacherReply reply = c.Wait()[0];
  ASSERT_TRUE(reply.ok()) << reply.error->message;
  EXPECT_EQ(reply.text, "[1,2,3,4]");
  EXPECT_EQ(reply.thinking, "hmm");
  EXPECT_EQ(reply.finish, FinishReason::kStop);
  EXPECT_EQ(reply.attempts, 1);
  EXPECT_GT(reply.usage.input_tokens, 0);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.api, "openai");
  EXPECT_EQ(seen.model, "qwen-vl");
  EXPECT_EQ(seen.system, "sys");
  EXPECT_EQ(seen.prompt, "p1");
  EXPECT_EQ(seen.images, (std::vector<std::string>{"hello", "world"}));
  EXPECT_EQ(seen.schema, (nlohmann::json{{"type", "array"}}));
  EXPECT_EQ(seen.api_key, "sk-wire");
  OpenAiOptions oo;
  oo.model = "qwen-vl";
  EXPECT_EQ(server.RecentBodies().back(), BuildOpenAiBody(oo, r));
}

TEST(TeacherClientWire, GeminiRequestReachesServerIntact) {
  std::mutex mu;
  SimRequest seen;
  SimServer server([&](const SimRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    seen = r;
    SimReply reply;
    reply.text = "ok";
    reply.thinking = "thought";
    return reply;
  });
  server.Start();
  auto teacher = GeminiTeacher(server, FastOptions(), "AIza-wire");
  TeacherRequest r = Req(2);
  r.images = {{"image/jpeg", "aGVsbG8="}};
  r.response_schema = {{"type", "object"}};
  Collector c;
  teacher->Submit(r, c.Slot(0));
  TeacherReply reply = c.Wait()[0];
  ASSERT_TRUE(reply.ok()) << reply.error->message;
  EXPECT_EQ(reply.text, "ok");
  EXPECT_EQ(reply.thinking, "thought");
  EXPECT_GT(reply.usage.thinking_tokens, 0);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen.api, "gemini");
  EXPECT_EQ(seen.model, "gemini-2.5-flash");
  EXPECT_EQ(seen.images, std::vector<std::string>{"hello"});
  EXPECT_EQ(seen.schema, (nlohmann::json{{"type", "OBJECT"}}));
  EXPECT_EQ(seen.api_key, "AIza-wire");
  EXPECT_EQ(seen.target, "/v1beta/models/gemini-2.5-flash:generateContent");
  const nlohmann::json config = server.RecentBodies().back()["generationConfig"];
  EXPECT_EQ(config["mediaResolution"], "MEDIA_RESOLUTION_HIGH");
  EXPECT_EQ(config["thinkingConfig"]["thinkingBudget"], 0);
  EXPECT_EQ(config["responseMimeType"], "application/json");
}

/// Scripted error bodies, answered once each; the client must classify them.
struct ErrorCase {
  int status;
  const char* body;
  ErrorKind kind;
  const char* text;  ///< part of the server message that must reach the error
};

TEST(TeacherClientWire, UsedUpRateLimitBudgetHoldsTheNextRequest) {
  // The first reply says no requests are left for 400 ms: the client must
  // not send the second one before then (it would only earn a 429).
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  SimServer server([&](const SimRequest&) {
    std::lock_guard<std::mutex> lock(mu);
    arrivals.push_back(std::chrono::steady_clock::now());
    SimReply reply;
    reply.text = "ok";
    if (arrivals.size() == 1) {
      reply.headers = {{"x-ratelimit-remaining-requests", "0"},
                       {"x-ratelimit-reset-requests", "400ms"},
                       {"x-ratelimit-remaining-tokens", "90000"},
                       {"x-ratelimit-reset-tokens", "6m0s"}};
    }
    return reply;
  });
  server.Start();
  auto teacher = OpenAiTeacher(server, FastOptions(), "sk-x");
  Collector first;
  teacher->Submit(Req(1), first.Slot(0));
  ASSERT_TRUE(first.Wait()[0].ok());
  Collector second;
  teacher->Submit(Req(2), second.Slot(0));
  TeacherReply r = second.Wait()[0];
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.attempts, 1);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(arrivals.size(), 2u);
  EXPECT_GE(arrivals[1] - arrivals[0], std::chrono::milliseconds(400));
  EXPECT_EQ(server.requests(), 2);
}

TEST(TeacherClientWire, ErrorShapesEndToEnd) {
  const ErrorCase cases[] = {
      {400, R"({"object":"error","message":"bad image","type":"BadRequestError","param":null,"code":400})", ErrorKind::kBadRequest, "bad image"},
      {400, R"({"error":{"message":"maximum context length is 4096 tokens","type":"BadRequestError","code":400}})", ErrorKind::kContextLength, "maximum context"},
      {401, R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}})", ErrorKind::kAuth, "Incorrect API key"},
      {404, R"({"error":{"code":404,"message":"models/x is not found","status":"NOT_FOUND"}})", ErrorKind::kBadRequest, "not found"},
      {429, R"({"error":{"message":"quota","type":"insufficient_quota","code":"insufficient_quota"}})", ErrorKind::kQuotaExhausted, "quota"},
  };
  for (const ErrorCase& ec : cases) {
    SimServer server([&](const SimRequest&) {
      SimReply r;
      r.status = ec.status;
      r.raw_body = ec.body;
      return r;
    });
    server.Start();
    auto teacher = OpenAiTeacher(server);
    Collector c;
    teacher->Submit(Req(0), c.Slot(0));
    TeacherReply reply = c.Wait()[0];
    ASSERT_FALSE(reply.ok()) << ec.body;
    EXPECT_EQ(reply.error->kind, ec.kind) << ec.body;
    EXPECT_EQ(reply.error->http_status, ec.status);
    EXPECT_NE(reply.error->message.find(ec.text), std::string::npos) << reply.error->message;
    EXPECT_EQ(reply.attempts, 1) << "never retried: " << ec.body;
    EXPECT_EQ(server.requests(), 1);
  }
}

// Regression (issue 14.5): a gateway that echoes the request's key in its
// error text got the key into records, the journal and logs. The client now
// scrubs every error message, on both backends, before it is delivered or
// logged (the retried 503 is logged at debug level on the way).
TEST(TeacherClientWire, ErrorTextEchoingTheKeyIsScrubbed) {
  struct Case {
    const char* api;
    const char* key;
  };
  for (const Case& k : {Case{"openai", "sk-ECHOED-4d1f"}, Case{"gemini", "AIza-ECHOED-77"}}) {
    SCOPED_TRACE(k.api);
    std::atomic<int> calls{0};
    SimServer server([&](const SimRequest& req) {
      SimReply r;
      r.status = calls++ == 0 ? 503 : 400;
      r.raw_body = "{\"error\":{\"message\":\"gateway: upstream refused key " + req.api_key +
                   " (Authorization: Bearer " + req.api_key + ", url ?key=" + req.api_key + ")\"}}";
      return r;
    });
    server.Start();
    const LogLevel level = GetLogLevel();
    SetLogLevel(LogLevel::kDebug);
    ::testing::internal::CaptureStderr();
    auto teacher = std::string(k.api) == "openai" ? OpenAiTeacher(server, FastOptions(), k.key)
                                                  : GeminiTeacher(server, FastOptions(), k.key);
    Collector c;
    teacher->Submit(Req(0), c.Slot(0));
    TeacherReply reply = c.Wait()[0];
    teacher->Stop();
    const std::string logs = ::testing::internal::GetCapturedStderr();
    SetLogLevel(level);
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(calls.load(), 2);
    EXPECT_EQ(reply.error->message.find(k.key), std::string::npos) << reply.error->message;
    EXPECT_NE(reply.error->message.find("upstream refused key <redacted>"), std::string::npos)
        << reply.error->message;
    EXPECT_EQ(logs.find(k.key), std::string::npos) << logs;
    EXPECT_NE(logs.find("<redacted>"), std::string::npos) << "the retry was not logged: " << logs;
  }
}

TEST(TeacherClientWire, ServerErrorsAreRetriedThenReported) {
  SimServer server([](const SimRequest&) {
    SimReply r;
    r.status = 503;
    r.raw_body = R"({"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}})";
    return r;
  });
  server.Start();
  TeacherClientOptions o = FastOptions();
  o.retry.max_attempts = 3;
  auto teacher = GeminiTeacher(server, o);
  Collector c;
  teacher->Submit(Req(0), c.Slot(0));
  TeacherReply reply = c.Wait()[0];
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error->kind, ErrorKind::kHttp);
  EXPECT_EQ(reply.error->http_status, 503);
  EXPECT_EQ(reply.attempts, 3);
  EXPECT_EQ(reply.error->attempts, 3);
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(teacher->Stats().retries, 2);
}

TEST(TeacherClientWire, LengthFaultKeepsPartialReply) {
  FaultConfig f = FaultConfig::Parse("rate=1,kinds=length");
  SimServer server(Echo, f);
  server.Start();
  auto teacher = GeminiTeacher(server);
  Collector c;
  TeacherRequest r = Req(0);
  r.prompt = "a-long-enough-prompt";
  teacher->Submit(r, c.Slot(0));
  TeacherReply reply = c.Wait()[0];
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply.finish, FinishReason::kLength);
  EXPECT_EQ(reply.finish_raw, "MAX_TOKENS");
  EXPECT_EQ(reply.text, std::string("echo:a-long-enough-prompt").substr(0, 12));
}

TEST(TeacherClientWire, LengthFaultCutsAtACharacterBoundary) {
  SimServer server(Echo, FaultConfig::Parse("rate=1,kinds=length"));
  server.Start();
  auto teacher = OpenAiTeacher(server);
  Collector c;
  TeacherRequest r = Req(0);
  r.prompt = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";  // "echo:" + 4 two-byte characters
  teacher->Submit(r, c.Slot(0));
  TeacherReply reply = c.Wait()[0];
  ASSERT_TRUE(reply.ok()) << reply.error->message;
  EXPECT_EQ(reply.finish, FinishReason::kLength);
  EXPECT_EQ(reply.text, "echo:");  // half of 13 bytes is inside the first character
}

TEST(SimServerRequests, ImagePartWithoutUrlIsAnEmptyImage) {
  std::mutex mu;
  std::vector<size_t> image_sizes;
  SimServer server([&](const SimRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    for (const std::string& image : r.images) image_sizes.push_back(image.size());
    return Echo(r);
  });
  server.Start();
  OpenAiOptions oo;
  oo.base_url = server.OpenAiBaseUrl();
  oo.model = "m";
  oo.extra_body = nlohmann::json::parse(
      R"({"messages": [{"role": "user", "content": [{"type": "image_url"}, {"type": "text", "text": "hi"}]}]})");
  auto teacher = MakeTeacherClient(MakeOpenAiBackend(oo), FastOptions());
  Collector c;
  teacher->Submit(Req(0), c.Slot(0));
  TeacherReply reply = c.Wait()[0];
  ASSERT_TRUE(reply.ok()) << reply.error->message;
  EXPECT_EQ(reply.text, "echo:hi");
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(image_sizes, std::vector<size_t>{0});
}

/// A few hundred requests with 20% injected faults of every recoverable
/// kind: all succeed, each with its own answer, and the retries add up.
void RunFaultInjection(bool gemini) {
  FaultConfig f = FaultConfig::Parse(
      "rate=0.2,kinds=429|429gemini|500|503|drop|slow|truncate|nonjson|empty,"
      "retry_after_s=0.01,slow_ms=20,latency_ms=1,seed=7");
  SimServer server(Echo, f, 32);
  server.Start();
  TeacherClientOptions o = FastOptions(16);
  auto teacher = gemini ? GeminiTeacher(server, o) : OpenAiTeacher(server, o);
  constexpr int kN = 300;
  Collector c;
  for (int i = 0; i < kN; ++i) teacher->Submit(Req(i), c.Slot(i));
  std::vector<TeacherReply> replies = c.Wait();
  int64_t extra_attempts = 0;
  for (int i = 0; i < kN; ++i) {
    ASSERT_TRUE(replies[i].ok()) << i << ": " << replies[i].error->message;
    EXPECT_EQ(replies[i].text, "echo:p" + std::to_string(i));
    extra_attempts += replies[i].attempts - 1;
  }
  TeacherStats s = teacher->Stats();
  EXPECT_EQ(s.succeeded, kN);
  EXPECT_EQ(s.failed, 0);
  EXPECT_GT(s.retries, kN / 10);  // ~20% faulted
  EXPECT_EQ(s.retries, extra_attempts);
  EXPECT_EQ(s.requests, kN + s.retries);
  EXPECT_EQ(s.requests, server.requests());
  EXPECT_GT(s.rate_limited, 0);
  EXPECT_EQ(s.in_flight, 0);
}

TEST(TeacherClientFaults, OpenAiTwentyPercentFaultsAllRecovered) { RunFaultInjection(false); }
TEST(TeacherClientFaults, GeminiTwentyPercentFaultsAllRecovered) { RunFaultInjection(true); }

void RunQuota(bool gemini) {
  constexpr int kQuota = 20;
  constexpr int kInFlight = 4;
  SimServer server(Echo, FaultConfig::Parse("quota_after=20,latency_ms=2"));
  server.Start();
  auto teacher = gemini ? GeminiTeacher(server, FastOptions(kInFlight))
                        : OpenAiTeacher(server, FastOptions(kInFlight));
  constexpr int kN = 100;
  Collector c;
  for (int i = 0; i < kN; ++i) teacher->Submit(Req(i), c.Slot(i));
  std::vector<TeacherReply> replies = c.Wait();
  int ok = 0;
  int quota = 0;
  for (const TeacherReply& r : replies) {
    if (r.ok()) {
      ++ok;
      continue;
    }
    EXPECT_EQ(r.error->kind, ErrorKind::kQuotaExhausted) << r.error->message;
    EXPECT_TRUE(r.error->fatal_for_run());
    EXPECT_NE(r.error->message.find("resume"), std::string::npos) << r.error->message;
    ++quota;
  }
  EXPECT_EQ(ok, kQuota);
  EXPECT_EQ(quota, kN - kQuota);
  // Prompt stop: after the first quota answer only what was already on the
  // wire reaches the server; nothing is retried.
  EXPECT_LE(server.requests(), kQuota + kInFlight);
  EXPECT_EQ(teacher->Stats().retries, 0);
}

TEST(TeacherClientFaults, OpenAiQuotaExhaustionStopsPromptly) { RunQuota(false); }
TEST(TeacherClientFaults, GeminiQuotaExhaustionStopsPromptly) { RunQuota(true); }

TEST(TeacherClientFaults, RepeatedAuthFailuresStopSending) {
  FaultConfig f;
  f.require_api_key = "right-key";
  SimServer server(Echo, f);
  server.Start();
  auto teacher = GeminiTeacher(server, FastOptions(1), "wrong-key");
  Collector c;
  for (int i = 0; i < 10; ++i) teacher->Submit(Req(i), c.Slot(i));
  for (const TeacherReply& r : c.Wait()) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->kind, ErrorKind::kAuth);
  }
  EXPECT_EQ(server.requests(), 2);  // auth_failures_to_stop = 2, one in flight at a time
}

TEST(TeacherClientLifecycle, StopCancelsQueuedAndInFlight) {
  SimServer server(Echo, FaultConfig::Parse("latency_ms=1000"));
  server.Start();
  auto teacher = OpenAiTeacher(server, FastOptions(2));
  Collector c;
  for (int i = 0; i < 6; ++i) teacher->Submit(Req(i), c.Slot(i));
  while (server.requests() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(teacher->Stats().in_flight, 2);
  teacher->Stop();
  teacher->Stop();  // idempotent
  for (const TeacherReply& r : c.Wait()) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->kind, ErrorKind::kCancelled);
  }
  Collector late;
  teacher->Submit(Req(9), late.Slot(0));
  EXPECT_EQ(late.Wait()[0].error->kind, ErrorKind::kCancelled);
}

TEST(TeacherClientLifecycle, ThrowingCallbackDoesNotKillTheLoop) {
  SimServer server(Echo);
  server.Start();
  auto teacher = OpenAiTeacher(server);
  LogLevel before = GetLogLevel();
  SetLogLevel(LogLevel::kOff);
  teacher->Submit(Req(0), [](TeacherReply) { throw std::runtime_error("boom"); });
  Collector c;
  teacher->Submit(Req(1), c.Slot(0));
  EXPECT_TRUE(c.Wait()[0].ok());
  SetLogLevel(before);
}

TEST(TeacherClientLifecycle, ConnectionRefusedIsConnectAfterRetriesAndNamesTheUrl) {
  int port = 0;
  {
    SimServer gone(Echo);
    port = gone.Start();
  }
  OpenAiOptions oo;
  oo.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  oo.model = "m";
  TeacherClientOptions o = FastOptions();
  o.retry.max_attempts = 2;
  auto teacher = MakeTeacherClient(MakeOpenAiBackend(oo), o);
  Collector c;
  teacher->Submit(Req(0), c.Slot(0));
  TeacherReply r = c.Wait()[0];
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, ErrorKind::kConnect);  // nothing listens: never reached
  EXPECT_NE(r.error->message.find("cannot reach " + oo.base_url + "/chat/completions"), std::string::npos)
      << r.error->message;
  EXPECT_EQ(r.attempts, 2);

  // Credentials in the URL itself are not quoted.
  oo.base_url = "http://user:pw-SECRET-1@127.0.0.1:" + std::to_string(port) + "/v1?key=k-SECRET-2";
  auto with_userinfo = MakeTeacherClient(MakeOpenAiBackend(oo), o);
  Collector c2;
  with_userinfo->Submit(Req(0), c2.Slot(0));
  TeacherReply r2 = c2.Wait()[0];
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error->kind, ErrorKind::kConnect);
  EXPECT_NE(r2.error->message.find("cannot reach http://127.0.0.1:"), std::string::npos) << r2.error->message;
  EXPECT_EQ(r2.error->message.find("SECRET"), std::string::npos) << r2.error->message;
}

/// Known keys, debug logging, faults and auth failures: the keys reach the
/// server only in headers and never appear in logs, errors or replies.
TEST(TeacherClientSecrets, KeysNeverLoggedAndOnlyInHeaders) {
  const std::string gemini_key = "AIzaSECRET-gemini-0123456789";
  const std::string openai_key = "sk-SECRET-openai-0123456789";
  std::mutex mu;
  std::vector<SimRequest> seen;
  auto record = [&](const SimRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(r);
    return Echo(r);
  };
  LogLevel before = GetLogLevel();
  SetLogLevel(LogLevel::kDebug);
  testing::internal::CaptureStderr();
  std::string everything;
  {
    SimServer server(record, FaultConfig::Parse("rate=0.5,kinds=429|500|drop|truncate,retry_after_s=0.01"));
    server.Start();
    auto g = GeminiTeacher(server, FastOptions(), gemini_key);
    auto o = OpenAiTeacher(server, FastOptions(), openai_key);
    FaultConfig wrong;
    wrong.require_api_key = "something-else";
    SimServer strict(record, wrong);
    strict.Start();
    auto g_bad = GeminiTeacher(strict, FastOptions(1), gemini_key);
    auto o_bad = OpenAiTeacher(strict, FastOptions(1), openai_key);
    Collector c;
    size_t slot = 0;
    for (int i = 0; i < 20; ++i) {
      g->Submit(Req(i), c.Slot(slot++));
      o->Submit(Req(i), c.Slot(slot++));
    }
    for (int i = 0; i < 3; ++i) {
      g_bad->Submit(Req(i), c.Slot(slot++));
      o_bad->Submit(Req(i), c.Slot(slot++));
    }
    for (const TeacherReply& r : c.Wait()) {
      everything += r.text + r.thinking;
      if (r.error) everything += r.error->message + r.error->ToJson().dump();
    }
    everything += g->Fingerprint() + o->Fingerprint();
    for (const nlohmann::json& b : server.RecentBodies()) everything += b.dump();
    EXPECT_GT(g->Stats().retries + o->Stats().retries, 0);  // debug retry lines were logged
  }
  std::string log = testing::internal::GetCapturedStderr();
  SetLogLevel(before);
  EXPECT_FALSE(log.empty());
  EXPECT_EQ(log.find(gemini_key), std::string::npos);
  EXPECT_EQ(log.find(openai_key), std::string::npos);
  EXPECT_EQ(log.find("SECRET"), std::string::npos);
  EXPECT_EQ(everything.find("SECRET"), std::string::npos);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_FALSE(seen.empty());
  for (const SimRequest& r : seen) {
    EXPECT_EQ(r.api_key, r.api == "gemini" ? gemini_key : openai_key);  // sent, in the header
    EXPECT_EQ(r.target.find("SECRET"), std::string::npos);               // not in the URL
    EXPECT_EQ(r.body.dump().find("SECRET"), std::string::npos);          // not in the body
  }
}

TEST(SimServerFaults, ParseAcceptsKnownKeysAndRejectsOthers) {
  FaultConfig f = FaultConfig::Parse("rate=0.2,kinds=429|500|drop,quota_after=100,latency_ms=200,seed=3");
  EXPECT_DOUBLE_EQ(f.rate, 0.2);
  EXPECT_EQ(f.kinds, (std::vector<std::string>{"429", "500", "drop"}));
  EXPECT_EQ(f.quota_after, 100);
  EXPECT_DOUBLE_EQ(f.latency_ms, 200);
  EXPECT_EQ(f.seed, 3u);
  EXPECT_THROW(FaultConfig::Parse("rate=0.2,kinds=explode"), SetupError);
  EXPECT_THROW(FaultConfig::Parse("bogus=1"), SetupError);
  EXPECT_THROW(FaultConfig::Parse("rate=abc"), SetupError);
}

}  // namespace
}  // namespace groundcap
