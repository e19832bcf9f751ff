// `generate` against a teacher nobody can reach: a loopback port nothing
// listens on, and the simulated teacher killed mid-run. The run stops with
// kExitStopped after workflow.stop_after_connection_failures samples in a
// row, names the URL (never the key), records none of those samples as
// failed, and a plain re-run against a live teacher finishes everything.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
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

constexpr const char* kSecret = "sk-CONNECT-TEST-51c2";
constexpr int kSamples = 30;

class GenerateConnectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing_util::FreshTestDir("groundcap_connect");
    testing_util::WriteWallDataset(dir_, kSamples);
    WriteFile(dir_ / "spec.yaml",
              "results_dir: " + (dir_ / "results").string() +
                  "\nautolabel_type: image_grounding\nimage_grounding:\n  data:\n    input_jsonl: " +
                  (dir_ / "input.jsonl").string() + "\n    image_root: " + (dir_ / "images").string() +
                  "\n  workflow:\n    max_workers: 2\n  vlm:\n    backend: openai\n    openai:\n"
                  "      base_url: http://127.0.0.1:1/v1\n      model_name: m\n      api_key: " +
                  kSecret +
                  // The connection-failure stop is what is tested here, so the
                  // preflight (which would exit 2 at once) is off.
                  "\n    preflight: false\n    retry:\n      max_attempts: 2\n      initial_backoff_s: 0.01\n");
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  int Run(const std::string& base_url) {
    ::testing::internal::CaptureStderr();
    // The blank test images show nothing, so the sim finds no expressions:
    // that quality flag is not what these tests are about.
    int rc = CmdGenerate((dir_ / "spec.yaml").string(), {"image_grounding.vlm.openai.base_url=" + base_url,
                                                         "image_grounding.quality.block=[]"});
    stderr_ += ::testing::internal::GetCapturedStderr();
    return rc;
  }
  std::vector<Json> Journal() const {
    std::vector<Json> v = ReadJsonl(dir_ / "results/step_0_expression_extraction/.ckpt/journal.jsonl");
    if (!v.empty()) v.erase(v.begin());  // header
    return v;
  }
  /// Nothing under results_dir and nothing logged holds the key.
  void ExpectNoSecret() {
    EXPECT_EQ(stderr_.find(kSecret), std::string::npos);
    for (const auto& e : fs::recursive_directory_iterator(dir_ / "results"))
      if (e.is_regular_file()) EXPECT_EQ(ReadFile(e.path()).find(kSecret), std::string::npos) << e.path();
  }

  fs::path dir_;
  std::string stderr_;
};

TEST_F(GenerateConnectTest, DeadPortStopsEarlyAndARerunAgainstALiveTeacherFinishes) {
  const std::string dead_url = "http://127.0.0.1:" + std::to_string(DeadPort()) + "/v1";
  EXPECT_EQ(Run(dead_url), kExitStopped);
  Json summary = Json::parse(ReadFile(dir_ / "results/run_summary.json"));
  const std::string reason = summary.value("stop_reason", "");
  EXPECT_NE(reason.find("teacher unreachable"), std::string::npos) << reason;
  EXPECT_NE(reason.find(dead_url + "/chat/completions"), std::string::npos) << reason;
  EXPECT_NE(stderr_.find(dead_url), std::string::npos);
  EXPECT_LT(summary["steps"][0]["processed"].get<int>(), kSamples);  // not the whole input
  EXPECT_TRUE(Journal().empty());  // nothing recorded as failed
  EXPECT_FALSE(fs::exists(dir_ / "results/annotations.jsonl"));
  ExpectNoSecret();

  SimServer live(NoExpressions);
  live.Start();
  EXPECT_EQ(Run(live.OpenAiBaseUrl()), kExitOk);  // no retry_failed needed
  std::vector<Json> out = ReadJsonl(dir_ / "results/annotations.jsonl");
  ASSERT_EQ(out.size(), static_cast<size_t>(kSamples));
  for (const Json& r : out) EXPECT_EQ(r["status"], "ok") << r.dump();
  EXPECT_EQ(live.requests(), kSamples);
}

TEST_F(GenerateConnectTest, TeacherKilledMidRunStopsAndResumes) {
  FaultConfig slow;
  slow.latency_ms = 30;
  auto sim = std::make_unique<SimServer>(NoExpressions, slow);
  sim->Start();
  const std::string url = sim->OpenAiBaseUrl();
  std::atomic<bool> killed{false};
  std::thread killer([&] {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (Journal().size() < 4 && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    sim->Stop();
    killed = true;
  });
  int rc = Run(url);
  killer.join();
  ASSERT_TRUE(killed);
  EXPECT_EQ(rc, kExitStopped);
  Json summary = Json::parse(ReadFile(dir_ / "results/run_summary.json"));
  const std::string reason = summary.value("stop_reason", "");
  EXPECT_NE(reason.find("teacher unreachable"), std::string::npos) << reason;
  EXPECT_NE(reason.find(url), std::string::npos) << reason;
  std::vector<Json> recorded = Journal();
  EXPECT_GE(recorded.size(), 4u);
  EXPECT_LT(recorded.size(), static_cast<size_t>(kSamples));
  for (const Json& e : recorded) EXPECT_EQ(e.value("status", ""), "ok") << e.dump();  // no failure recorded
  ExpectNoSecret();

  SimServer live(NoExpressions);
  live.Start();
  EXPECT_EQ(Run(live.OpenAiBaseUrl()), kExitOk);
  EXPECT_EQ(live.requests(), kSamples - static_cast<int64_t>(recorded.size()));
  std::vector<Json> out = ReadJsonl(dir_ / "results/annotations.jsonl");
  ASSERT_EQ(out.size(), static_cast<size_t>(kSamples));
  for (const Json& r : out) EXPECT_EQ(r["status"], "ok") << r.dump();
}

}  // namespace
}  // namespace groundcap
