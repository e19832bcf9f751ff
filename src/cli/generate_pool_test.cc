// `generate` against a pool of simulated teachers on loopback: one endpoint
// stopped mid-run (every sample still finishes), one answering only 429 (it
// alone is held: the others finish well within the sample deadline), all
// endpoints down (exit 3, nothing recorded, a re-run finishes), an endpoint
// whose key is spent or refused retired while the others finish, and launched
// teachers (`groundcap serve-sim --port {port}` started and stopped by the
// run; a server that exits at start is exit 2 with its log tail).
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "sim/sim_server.h"
#include "util/error.h"
#include "cli/generate_test_util.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

using testing_util::DeadPort;
using testing_util::NoExpressions;

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using testing_util::ReadFile;
using testing_util::ReadJsonl;
using testing_util::WriteFile;

constexpr int kSamples = 40;

FaultConfig Latency(double ms) {
  FaultConfig f;
  f.latency_ms = ms;
  return f;
}

class GeneratePoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("groundcap_pool");
    testing_util::WriteWallDataset(dir_, kSamples);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }
  /// The spec with `vlm_extra` (indented YAML under `vlm.openai:`).
  void WriteSpec(const std::string& openai_extra, const std::string& more = "") {
    WriteFile(dir_ / "spec.yaml",
              "results_dir: " + (dir_ / "results").string() +
                  "\nautolabel_type: image_grounding\nimage_grounding:\n  data:\n    input_jsonl: " +
                  (dir_ / "input.jsonl").string() + "\n    image_root: " + (dir_ / "images").string() +
                  "\n  quality:\n    block: []\n  workflow:\n    max_workers: 6\n" + more +
                  "  vlm:\n    backend: openai\n    openai:\n      model_name: m\n" + openai_extra +
                  "    retry:\n      max_attempts: 4\n      initial_backoff_s: 0.05\n");
  }
  static std::string UrlList(const std::vector<std::string>& urls) {
    std::string s = "      base_url:\n";
    for (const std::string& u : urls) s += "        - {url: " + u + ", max_in_flight: 2}\n";
    return s;
  }
  int Run(const std::vector<std::string>& overrides = {}) {
    ::testing::internal::CaptureStderr();
    int rc = -1;
    try {
      rc = CmdGenerate((dir_ / "spec.yaml").string(), overrides);
    } catch (...) {
      stderr_ += ::testing::internal::GetCapturedStderr();
      throw;
    }
    stderr_ += ::testing::internal::GetCapturedStderr();
    return rc;
  }
  std::vector<Json> Journal() const {
    std::vector<Json> v = ReadJsonl(dir_ / "results/step_0_expression_extraction/.ckpt/journal.jsonl");
    if (!v.empty()) v.erase(v.begin());
    return v;
  }
  Json Summary() const { return Json::parse(ReadFile(dir_ / "results/run_summary.json")); }
  void ExpectAllOk() {
    std::vector<Json> out = ReadJsonl(dir_ / "results/annotations.jsonl");
    ASSERT_EQ(out.size(), static_cast<size_t>(kSamples));
    for (const Json& r : out) EXPECT_EQ(r["status"], "ok") << r.dump();
  }

  fs::path dir_;
  std::string stderr_;
};

TEST_F(GeneratePoolTest, EverySampleFinishesWhenOneEndpointDiesMidRun) {
  SimServer a(NoExpressions, Latency(20)), slow(NoExpressions, Latency(80));
  auto dying = std::make_unique<SimServer>(NoExpressions, Latency(20));
  a.Start();
  slow.Start();
  dying->Start();
  const std::string dying_url = dying->OpenAiBaseUrl();
  WriteSpec(UrlList({a.OpenAiBaseUrl(), dying_url, slow.OpenAiBaseUrl()}));
  std::atomic<bool> killed{false};
  std::thread killer([&] {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (dying->requests() < 4 && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    dying->Stop();
    killed = true;
  });
  const int rc = Run();
  killer.join();
  ASSERT_TRUE(killed);
  EXPECT_EQ(rc, kExitOk) << stderr_;
  ExpectAllOk();
  Json ends = Summary()["teacher"]["endpoints"];
  ASSERT_EQ(ends.size(), 3u);
  EXPECT_EQ(ends[1]["endpoint"], dying_url);
  EXPECT_GE(ends[1]["breaker_openings"].get<int>(), 1) << ends.dump();
  EXPECT_GE(ends[0]["ok"].get<int>(), 1);
  EXPECT_GE(ends[2]["ok"].get<int>(), 1);
  EXPECT_LE(ends[0]["in_flight_peak"].get<int>(), 2);
  int ok = 0;
  for (const auto& e : ends) ok += e["ok"].get<int>();
  EXPECT_EQ(ok, kSamples) << "one answered attempt per sample";
}

TEST_F(GeneratePoolTest, A429HoldsOnlyTheEndpointThatSentIt) {
  FaultConfig always429;
  always429.rate = 1;
  always429.kinds = {"429"};
  always429.retry_after_s = 40;  // longer than the sample deadline below
  SimServer limited(NoExpressions, always429), fine(NoExpressions, Latency(5));
  limited.Start();
  fine.Start();
  // If a 429 held every endpoint (as it does a single one), samples would
  // wait 40 s and fail at the 20 s sample deadline.
  WriteSpec(UrlList({limited.OpenAiBaseUrl(), fine.OpenAiBaseUrl()}), "    sample_deadline_s: 20\n");
  EXPECT_EQ(Run(), kExitOk) << stderr_;
  ExpectAllOk();
  Json ends = Summary()["teacher"]["endpoints"];
  EXPECT_GE(ends[0]["rate_limited"].get<int>(), 1);
  EXPECT_LE(ends[0]["requests"].get<int>(), 2) << "held after its first answers";
  EXPECT_EQ(ends[0]["breaker_openings"], 0);
  EXPECT_EQ(ends[1]["ok"], kSamples);
}

TEST_F(GeneratePoolTest, AnEndpointWhoseKeyIsSpentOrRefusedIsRetiredAndTheOthersFinish) {
  // Several keys (or servers) in one pool: a spent quota or a refused key is
  // that endpoint's, so the others carry the run instead of it stopping.
  FaultConfig quota;
  quota.quota_after = 3;
  FaultConfig keyed;
  keyed.require_api_key = "right-key";
  SimServer spent(NoExpressions, quota), refusing(NoExpressions, keyed), fine(NoExpressions, Latency(5));
  spent.Start();
  refusing.Start();
  fine.Start();
  ::setenv("GROUNDCAP_POOL_TEST_WRONG_KEY", "wrong-key", 1);
  WriteSpec("      base_url:\n        - {url: " + spent.OpenAiBaseUrl() + ", max_in_flight: 2}\n" +
            "        - {url: " + refusing.OpenAiBaseUrl() +
            ", max_in_flight: 2, api_key_env: GROUNDCAP_POOL_TEST_WRONG_KEY}\n" +
            "        - {url: " + fine.OpenAiBaseUrl() + ", max_in_flight: 2}\n");
  // The key is revoked during the run, not wrong from the start (preflight
  // would refuse that with exit 2).
  EXPECT_EQ(Run({"image_grounding.vlm.preflight=false"}), kExitOk) << stderr_;
  ExpectAllOk();
  Json ends = Summary()["teacher"]["endpoints"];
  EXPECT_NE(ends[0].value("retired", "").find("quota"), std::string::npos) << ends.dump();
  EXPECT_NE(ends[1].value("retired", "").find("auth"), std::string::npos) << ends.dump();
  EXPECT_FALSE(ends[2].contains("retired")) << ends.dump();
  EXPECT_EQ(ends[0]["ok"], 3);
  EXPECT_EQ(ends[1]["ok"], 0);
  EXPECT_EQ(ends[2]["ok"], kSamples - 3);
  // Retired at the first quota answer and the second refusal: only the
  // requests already in flight there (2 at most) follow.
  EXPECT_LE(spent.requests(), 3 + 2);
  EXPECT_LE(refusing.requests(), 2 + 1);
  EXPECT_EQ(stderr_.find("wrong-key"), std::string::npos) << "a key is never printed";

  // All of them spent: the run stops (exit 3, resumable) as with one endpoint.
  fs::remove_all(dir_ / "results");
  FaultConfig none_left;
  none_left.quota_after = 0;
  SimServer a(NoExpressions, none_left), b(NoExpressions, none_left);
  a.Start();
  b.Start();
  WriteSpec(UrlList({a.OpenAiBaseUrl(), b.OpenAiBaseUrl()}));
  EXPECT_EQ(Run(), kExitStopped) << stderr_;
  EXPECT_NE(Summary().value("stop_reason", "").find("quota"), std::string::npos) << Summary().dump();
  EXPECT_TRUE(Journal().empty());
}

TEST_F(GeneratePoolTest, AllEndpointsDownStopsWithExit3AndARerunFinishes) {
  const std::string d1 = "http://127.0.0.1:" + std::to_string(DeadPort()) + "/v1";
  const std::string d2 = "http://127.0.0.1:" + std::to_string(DeadPort()) + "/v1";
  WriteSpec(UrlList({d1, d2}), "    stop_after_connection_failures: 3\n");
  // At start, preflight refuses a pool with no endpoint answering (exit 2,
  // PreflightChecksEveryEndpoint); this is the run losing them all later.
  EXPECT_EQ(Run({"image_grounding.vlm.preflight=false"}), kExitStopped);
  const std::string reason = Summary().value("stop_reason", "");
  EXPECT_NE(reason.find("cannot reach any teacher endpoint"), std::string::npos) << reason;
  EXPECT_NE(reason.find(d1), std::string::npos) << reason;
  EXPECT_NE(reason.find(d2), std::string::npos) << reason;
  EXPECT_TRUE(Journal().empty());

  SimServer s1(NoExpressions), s2(NoExpressions);
  s1.Start();
  s2.Start();
  WriteSpec(UrlList({s1.OpenAiBaseUrl(), s2.OpenAiBaseUrl()}));
  EXPECT_EQ(Run(), kExitOk) << stderr_;
  ExpectAllOk();
  EXPECT_EQ(s1.requests() + s2.requests(), kSamples);
}

TEST_F(GeneratePoolTest, LaunchedServeSimIsUsedAndStopped) {
  const std::string bin = GROUNDCAP_BINARY;
  WriteSpec("      launch:\n        - \"" + bin + " serve-sim --port {port}\"\n        - \"" + bin +
            " serve-sim --port {port} --latency-ms 5\"\n      launch_timeout_s: 60\n");
  EXPECT_EQ(Run(), kExitOk) << stderr_;
  ExpectAllOk();
  Json ends = Summary()["teacher"]["endpoints"];
  ASSERT_EQ(ends.size(), 2u);
  const std::string url = ends[0]["endpoint"];
  EXPECT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;
  EXPECT_GE(ends[0]["ok"].get<int>() + ends[1]["ok"].get<int>(), kSamples);
  EXPECT_TRUE(fs::exists(dir_ / "results/teacher-0.log"));
  EXPECT_TRUE(fs::exists(dir_ / "results/teacher-1.log"));
  // Stopped: nothing answers on its port any more.
  const int port = std::stoi(url.substr(std::string("http://127.0.0.1:").size()));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  EXPECT_NE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << "launched server still listening";
  ::close(fd);
}

TEST_F(GeneratePoolTest, LaunchedServerThatExitsAtStartIsExit2WithItsLogTail) {
  WriteSpec("      launch: \"echo model-load-failed-on-port-{port} >&2; exit 7\"\n");
  const std::string cmd = std::string(GROUNDCAP_BINARY) + " generate -e " + (dir_ / "spec.yaml").string() + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), kExitSetupError) << out;
  EXPECT_NE(out.find("exited with status 7"), std::string::npos) << out;
  EXPECT_NE(out.find("model-load-failed-on-port-"), std::string::npos) << out;
  EXPECT_NE(out.find("teacher-0.log"), std::string::npos) << out;
}

TEST_F(GeneratePoolTest, PreflightChecksEveryEndpoint) {
  FaultConfig serving_m;
  serving_m.models = {"m"};
  FaultConfig serving_other;
  serving_other.models = {"other-model"};
  SimServer good(NoExpressions, serving_m), wrong(NoExpressions, serving_other);
  good.Start();
  wrong.Start();
  const std::string dead = "http://127.0.0.1:" + std::to_string(DeadPort()) + "/v1";

  // One endpoint down at the start: a warning, the pool runs on the other.
  WriteSpec(UrlList({dead, good.OpenAiBaseUrl()}));
  EXPECT_EQ(Run(), kExitOk) << stderr_;
  ExpectAllOk();
  EXPECT_NE(stderr_.find("the pool starts without it"), std::string::npos) << stderr_;

  // Every endpoint down: exit 2 before anything is sent.
  fs::remove_all(dir_ / "results");
  WriteSpec(UrlList({dead, dead}));
  EXPECT_THROW(Run(), SetupError);

  // One endpoint serving another model: exit 2 naming what it serves, and no
  // generation request reached the good endpoint.
  fs::remove_all(dir_ / "results");
  const int64_t before = good.requests();
  WriteSpec(UrlList({good.OpenAiBaseUrl(), wrong.OpenAiBaseUrl()}));
  try {
    Run();
    ADD_FAILURE() << "preflight accepted an endpoint without the model";
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("other-model"), std::string::npos) << e.what();
  }
  EXPECT_EQ(good.requests(), before);
}

}  // namespace
}  // namespace groundcap
