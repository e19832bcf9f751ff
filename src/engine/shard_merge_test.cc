// Sharded runs end to end: synthetic scenes (with exact-duplicate lines and a
// bad line), the simulated teacher on loopback, `generate` run once per shard
// in-process, then `merge`. The merged output must equal an unsharded run's,
// byte for byte, and merge must refuse what it cannot merge.
#include "engine/shard_merge.h"

#include <fmt/core.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "engine/run_lock.h"
#include "engine/shard.h"
#include "sim/sim_server.h"
#include "sim/sim_vision.h"
#include "sim/synth.h"
#include "util/error.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using testing_util::ReadFile;
using testing_util::ReadJsonl;
using testing_util::WriteFile;

constexpr int kShards = 4;

class ShardMergeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new SimServer(MakeSimResponder(SimOptions{}));
    server_->Start("127.0.0.1", 0);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("groundcap_shard_{}_{}",
                                                   ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                                                   ::getpid());
    fs::remove_all(dir_);
    ASSERT_TRUE(WriteSynthDataset((dir_ / "data").string(), 10, 3).has_value());
    // Duplicates (an exact copy of line 2, twice) and a line every step rejects.
    std::string input = ReadFile(dir_ / "data" / "input.jsonl");
    std::string second = input.substr(input.find('\n') + 1);
    second = second.substr(0, second.find('\n') + 1);
    input += second + "{\"caption\": \"no image\"}\n" + second;
    WriteFile(dir_ / "data" / "input.jsonl", input);
    results_ = dir_ / "results";
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  /// A two-step image-grounding spec against the simulated teacher.
  std::string Spec(const fs::path& results) {
    fs::path p = dir_ / "spec.yaml";
    WriteFile(p, fmt::format("results_dir: \"{}\"\nautolabel_type: image_grounding\nimage_grounding:\n"
                             "  workflow:\n    steps: [\"0\", \"1\"]\n    max_workers: 4\n"
                             "  data:\n    input_jsonl: \"{}\"\n    image_root: \"{}\"\n"
                             "  vlm:\n    backend: gemini\n    gemini:\n      api_key: \"simulated\"\n"
                             "      model: \"gemini-2.5-flash\"\n      base_url: \"{}\"\n",
                             results.string(), (dir_ / "data" / "input.jsonl").string(), (dir_ / "data").string(),
                             server_->GeminiBaseUrl()));
    return p.string();
  }

  /// CmdGenerate's exit status, or -2 with `error` set on a SetupError.
  int Generate(const fs::path& results, std::vector<std::string> overrides, std::string* error = nullptr) {
    ::testing::internal::CaptureStderr();
    int rc = -2;
    try {
      rc = CmdGenerate(Spec(results), overrides);
    } catch (const SetupError& e) {
      if (error) *error = e.what();
    }
    ::testing::internal::GetCapturedStderr();
    return rc;
  }

  int RunShard(int i, std::vector<std::string> extra = {}) {
    extra.push_back(fmt::format("image_grounding.workflow.shard={}/{}", i, kShards));
    return Generate(results_, extra);
  }

  /// MergeShards' SetupError message, "" when it merged.
  std::string MergeError(bool allow_partial) {
    try {
      ::testing::internal::CaptureStderr();
      MergeShards(results_.string(), allow_partial);
      ::testing::internal::GetCapturedStderr();
    } catch (const SetupError& e) {
      ::testing::internal::GetCapturedStderr();
      return e.what();
    }
    return "";
  }

  static std::vector<std::string> Ids(const fs::path& jsonl) {
    std::vector<std::string> ids;
    for (const auto& r : ReadJsonl(jsonl)) ids.push_back(r["sample_id"].get<std::string>());
    return ids;
  }

  static SimServer* server_;
  fs::path dir_, results_;
};

SimServer* ShardMergeTest::server_ = nullptr;

TEST_F(ShardMergeTest, MergedShardsEqualAnUnshardedRunInInputOrder) {
  const fs::path whole = dir_ / "whole";
  EXPECT_EQ(Generate(whole, {}), kExitSomeFailed) << "the bad line is rejected";
  std::set<std::string> per_shard_ids;
  size_t total = 0;
  for (int i = 0; i < kShards; ++i) {
    const int rc = RunShard(i);
    EXPECT_TRUE(rc == kExitOk || rc == kExitSomeFailed) << rc;
    const fs::path shard_dir = results_ / fmt::format("shard-{}-of-{}", i, kShards);
    const bool owner = i == ShardOfLine("{\"caption\": \"no image\"}", kShards);
    EXPECT_EQ(ReadJsonl(shard_dir / "rejects.jsonl").size(), owner ? 1u : 0u)
        << "shard " << i << ": only the shard owning the bad line reports it";
    for (const std::string& id : Ids(shard_dir / "annotations.jsonl")) {
      EXPECT_EQ(ShardOf(id, kShards), i) << id;
      EXPECT_TRUE(per_shard_ids.insert(id).second) << id << " is in two shards";
      ++total;
    }
    nlohmann::json info = nlohmann::json::parse(ReadFile(shard_dir / "shard.json"));
    EXPECT_TRUE(info["complete"].get<bool>());
    EXPECT_EQ(info["count"], kShards);
  }
  EXPECT_EQ(total, 12u) << "10 scenes + 2 duplicate lines";
  ASSERT_EQ(MergeError(false), "");
  for (const char* step : {"step_0_expression_extraction", "step_1_grounding"}) {
    EXPECT_EQ(ReadFile(results_ / step / "annotations.jsonl"), ReadFile(whole / step / "annotations.jsonl")) << step;
  }
  EXPECT_EQ(ReadFile(results_ / "annotations.jsonl"), ReadFile(whole / "annotations.jsonl"));
  const std::vector<std::string> ids = Ids(results_ / "annotations.jsonl");
  ASSERT_EQ(ids.size(), 12u);
  EXPECT_EQ(ids[10], ids[1] + "~2") << "the duplicates follow input order";
  EXPECT_EQ(ids[11], ids[1] + "~3");
  nlohmann::json summary = nlohmann::json::parse(ReadFile(results_ / "run_summary.json"));
  EXPECT_EQ(summary["merge"]["partial"], false);
  nlohmann::json whole_summary = nlohmann::json::parse(ReadFile(whole / "run_summary.json"));
  EXPECT_EQ(summary["succeeded"], whole_summary["succeeded"]);
  EXPECT_EQ(summary["flagged"], whole_summary["flagged"]);
  EXPECT_EQ(summary["rejected_lines"], 1) << "one bad line, reported by one shard";
  EXPECT_EQ(summary["teacher"]["requests"], whole_summary["teacher"]["requests"]);
}

TEST_F(ShardMergeTest, ChangingTheShardCountIsRefused) {
  ASSERT_NE(RunShard(0), -2) << "shard 0/4 refused";
  std::string err;
  EXPECT_EQ(Generate(results_, {"image_grounding.workflow.shard=1/3"}, &err), -2);
  EXPECT_NE(err.find("shard count cannot change"), std::string::npos) << err;
  EXPECT_NE(err.find("shard-0-of-4"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(results_ / "shard-1-of-3"));
  err.clear();
  EXPECT_EQ(Generate(results_, {}, &err), -2) << "an unsharded run in a sharded results_dir";
  EXPECT_NE(err.find("groundcap merge"), std::string::npos) << err;
  // And the other way round: a sharded run where an unsharded one wrote journals.
  err.clear();
  const fs::path whole = dir_ / "whole";
  Generate(whole, {});
  EXPECT_EQ(Generate(whole, {"image_grounding.workflow.shard=0/2"}, &err), -2);
  EXPECT_NE(err.find("unsharded run"), std::string::npos) << err;
}

TEST_F(ShardMergeTest, OutOfRangeShardExitsTwoNamingTheField) {
  std::string err;
  EXPECT_EQ(Generate(results_, {"image_grounding.workflow.shard=4/4"}, &err), -2);
  EXPECT_NE(err.find("image_grounding.workflow.shard"), std::string::npos) << err;
  EXPECT_NE(err.find("out of range"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(results_)) << "nothing written";
}

TEST_F(ShardMergeTest, MissingShardIsRefusedUnlessPartialIsAllowed) {
  for (int i : {0, 1, 3}) RunShard(i);
  std::string err = MergeError(false);
  EXPECT_NE(err.find("shard-2-of-4 (missing"), std::string::npos) << err;
  EXPECT_NE(err.find("--allow-partial"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(results_ / "annotations.jsonl")) << "nothing written when refusing";
  ASSERT_EQ(MergeError(true), "");
  std::vector<std::string> ids = Ids(results_ / "annotations.jsonl");
  std::vector<std::string> expected;
  for (int i : {0, 1, 3})
    for (const std::string& id : Ids(results_ / fmt::format("shard-{}-of-4", i) / "annotations.jsonl"))
      expected.push_back(id);
  EXPECT_EQ(ids.size(), expected.size());
  for (const std::string& id : ids) EXPECT_NE(ShardOf(id, kShards), 2) << id;
  nlohmann::json summary = nlohmann::json::parse(ReadFile(results_ / "run_summary.json"));
  EXPECT_EQ(summary["merge"]["partial"], true);
  EXPECT_EQ(summary["merge"]["missing_shards"], nlohmann::json::array({"shard-2-of-4"}));
  EXPECT_EQ(summary["merge"]["steps"][1]["missing_samples"].get<int64_t>() + static_cast<int64_t>(ids.size()), 12);
  // The partial merge is in input order: a subsequence of the whole input's ids.
  RunShard(2);
  ASSERT_EQ(MergeError(false), "");
  std::vector<std::string> all = Ids(results_ / "annotations.jsonl");
  ASSERT_EQ(all.size(), 12u);
  size_t at = 0;
  for (const std::string& id : all)
    if (at < ids.size() && id == ids[at]) ++at;
  EXPECT_EQ(at, ids.size()) << "partial merge out of input order";
}

TEST_F(ShardMergeTest, UnfinishedShardIsRefused) {
  for (int i = 0; i < kShards; ++i) RunShard(i);
  // As a shard killed mid-run leaves it: shard.json written at start, not completed.
  const fs::path info_path = results_ / "shard-1-of-4" / "shard.json";
  nlohmann::json info = nlohmann::json::parse(ReadFile(info_path));
  info["complete"] = false;
  WriteFile(info_path, info.dump());
  std::string err = MergeError(false);
  EXPECT_NE(err.find("shard-1-of-4 (did not finish"), std::string::npos) << err;
}

TEST_F(ShardMergeTest, DifferentSpecFingerprintsAreRefusedEvenWhenPartial) {
  for (int i = 0; i < kShards; ++i)
    RunShard(i, i == 3 ? std::vector<std::string>{"image_grounding.vlm.gemini.temperature=0.7"}
                       : std::vector<std::string>{});
  for (bool partial : {false, true}) {
    std::string err = MergeError(partial);
    EXPECT_NE(err.find("different specs"), std::string::npos) << err;
    EXPECT_NE(err.find("shard-3-of-4: pipeline image_grounding, spec fingerprint"), std::string::npos) << err;
    EXPECT_NE(err.find("shard-0-of-4, shard-1-of-4, shard-2-of-4"), std::string::npos) << err;
  }
  EXPECT_FALSE(fs::exists(results_ / "annotations.jsonl"));
}

TEST_F(ShardMergeTest, ShardHeldByARunIsRefusedNamingTheHolder) {
  for (int i = 0; i < kShards; ++i) RunShard(i);
  {
    RunLock held = RunLock::Acquire((results_ / "shard-2-of-4").string());
    for (bool partial : {false, true}) {
      std::string err = MergeError(partial);
      EXPECT_NE(err.find("shard-2-of-4 (pid " + std::to_string(::getpid())), std::string::npos) << err;
    }
    EXPECT_FALSE(fs::exists(results_ / "annotations.jsonl"));
  }
  EXPECT_EQ(MergeError(false), "") << "the lock is free again";
  // While merge runs it holds the shards: a shard run is refused meanwhile
  // (tested through the lock merge takes on results_dir itself here).
  RunLock merging = RunLock::Acquire(results_.string());
  EXPECT_NE(MergeError(false).find("in use by another groundcap run"), std::string::npos);
}

TEST_F(ShardMergeTest, InputChangedSinceTheShardsRanIsRefused) {
  for (int i = 0; i < kShards; ++i) RunShard(i);
  const fs::path input = dir_ / "data" / "input.jsonl";
  std::string text = ReadFile(input);
  WriteFile(input, text.substr(text.find('\n') + 1));  // the first record is gone
  std::string err = MergeError(false);
  EXPECT_NE(err.find("is not in the input"), std::string::npos) << err;
  EXPECT_NE(err.find("was the input changed"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(results_ / "annotations.jsonl"));
}

TEST_F(ShardMergeTest, MergeCommandExitStatuses) {
  MergeOptions options;
  options.results_dir = results_.string();
  fs::create_directories(results_);
  EXPECT_THROW(CmdMerge(options), SetupError) << "no shards";
  for (int i : {0, 2}) RunShard(i);
  EXPECT_THROW(CmdMerge(options), SetupError);
  options.allow_partial = true;
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(CmdMerge(options), kExitSomeFailed);
  std::string out = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("PARTIAL"), std::string::npos) << out;
}

}  // namespace
}  // namespace groundcap
