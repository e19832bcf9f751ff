// Shard specs ("i/n", "auto", "auto/n" from Slurm or Kubernetes variables),
// the id -> shard assignment (stable, duplicates together) and shard
// directory names.
#include "engine/shard.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/sample_id.h"
#include "util/error.h"

namespace groundcap {
namespace {

const std::string kField = "image_grounding.workflow.shard";

/// An environment made of `vars` only.
EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

/// The SetupError message of parsing `text`, "" when it parsed.
std::string ErrorOf(const std::string& text, const EnvLookup& env = Env({})) {
  try {
    ParseShard(text, kField, env);
  } catch (const SetupError& e) {
    return e.what();
  }
  return "";
}

TEST(ShardSpecTest, ExplicitIndexOfCount) {
  std::optional<ShardSpec> s = ParseShard("1/4", kField, Env({}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 1);
  EXPECT_EQ(s->count, 4);
  EXPECT_FALSE(ParseShard("", kField, Env({}))) << "empty = not sharded";
  s = ParseShard("0/1", kField, Env({}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->count, 1);
}

TEST(ShardSpecTest, OutOfRangeAndMalformedSpecsNameTheField) {
  std::string err = ErrorOf("4/4");
  EXPECT_NE(err.find(kField), std::string::npos) << err;
  EXPECT_NE(err.find("out of range"), std::string::npos) << err;
  EXPECT_NE(err.find("0..3"), std::string::npos) << err;
  for (const char* bad : {"1/0", "-1/4", "1/-4", "a/b", "1", "1/4/2", "1 /4", "/4", "1/"}) {
    err = ErrorOf(bad);
    EXPECT_NE(err.find(kField), std::string::npos) << bad << ": " << err;
  }
}

TEST(ShardSpecTest, AutoReadsTheSlurmArray) {
  std::optional<ShardSpec> s = ParseShard("auto", kField,
                                          Env({{"SLURM_ARRAY_TASK_ID", "2"},
                                               {"SLURM_ARRAY_TASK_COUNT", "4"},
                                               {"SLURM_ARRAY_TASK_MIN", "0"},
                                               {"SLURM_ARRAY_TASK_MAX", "3"}}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->count, 4);
  // --array=1-4: ids do not start at 0; the index does.
  s = ParseShard("auto", kField,
                 Env({{"SLURM_ARRAY_TASK_ID", "1"},
                      {"SLURM_ARRAY_TASK_COUNT", "4"},
                      {"SLURM_ARRAY_TASK_MIN", "1"},
                      {"SLURM_ARRAY_TASK_MAX", "4"}}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 0);
  EXPECT_EQ(s->count, 4);
}

TEST(ShardSpecTest, AutoRefusesWhatItCannotMapToShards) {
  std::string err = ErrorOf("auto");
  EXPECT_NE(err.find("SLURM_ARRAY_TASK_ID"), std::string::npos) << err;
  EXPECT_NE(err.find("auto/n"), std::string::npos) << err;
  // --array=0,2,5: three tasks, ids 0..5.
  err = ErrorOf("auto", Env({{"SLURM_ARRAY_TASK_ID", "2"},
                             {"SLURM_ARRAY_TASK_COUNT", "3"},
                             {"SLURM_ARRAY_TASK_MIN", "0"},
                             {"SLURM_ARRAY_TASK_MAX", "5"}}));
  EXPECT_NE(err.find("contiguous"), std::string::npos) << err;
  err = ErrorOf("auto", Env({{"SLURM_ARRAY_TASK_ID", "x"}, {"SLURM_ARRAY_TASK_COUNT", "3"}}));
  EXPECT_NE(err.find("SLURM_ARRAY_TASK_ID='x'"), std::string::npos) << err;
}

TEST(ShardSpecTest, AutoWithCountTakesTheTaskIdOrTheCompletionIndexAsIs) {
  // A resubmitted single task (--array=2) has COUNT=1 and MIN=2: auto/n still maps it to shard 2.
  std::optional<ShardSpec> s =
      ParseShard("auto/4", kField,
                 Env({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_COUNT", "1"}, {"SLURM_ARRAY_TASK_MIN", "2"}}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->count, 4);
  s = ParseShard("auto/3", kField, Env({{"JOB_COMPLETION_INDEX", "1"}}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 1);
  EXPECT_EQ(s->count, 3);
  std::string err = ErrorOf("auto/3", Env({{"JOB_COMPLETION_INDEX", "3"}}));
  EXPECT_NE(err.find("JOB_COMPLETION_INDEX=3 is out of range"), std::string::npos) << err;
  err = ErrorOf("auto/3");
  EXPECT_NE(err.find("JOB_COMPLETION_INDEX"), std::string::npos) << err;
}

TEST(ShardAssignmentTest, StableAcrossRunsAndMachines) {
  // Fixed values: a change here moves samples between shards of existing runs.
  // Computed independently from the formula in docs/formats.md ("Shards") in Python:
  //   M=2**64-1; fnv: h=0xcbf29ce484222325; h^=c; h=h*0x100000001b3&M
  //   mix: h^=h>>33; h=h*0xff51afd7ed558ccd&M; h^=h>>33;  [mix(fnv(x))%7 for x in "abcd"]
  EXPECT_EQ(ShardOf("img_0001-0a1b2c3d", 4), ShardOf("img_0001-0a1b2c3d", 4));
  const int golden[] = {ShardOf("a", 7), ShardOf("b", 7), ShardOf("c", 7), ShardOf("d", 7)};
  EXPECT_EQ(golden[0], 0);
  EXPECT_EQ(golden[1], 2);
  EXPECT_EQ(golden[2], 6);
  EXPECT_EQ(golden[3], 6);
  EXPECT_EQ(ShardOf("anything", 1), 0);
}

TEST(ShardAssignmentTest, DuplicateInputLinesLandInTheSameShard) {
  SampleIdDeriver deriver;
  nlohmann::ordered_json rec = {{"image_path", "imgs/cat.jpg"}, {"caption", "a cat"}};
  nlohmann::ordered_json explicit_id = {{"id", "x~7"}, {"caption", "b"}};
  for (int count : {2, 3, 4, 16, 97}) {
    SampleIdDeriver d;
    const std::string first = d.Derive(rec), second = d.Derive(rec), third = d.Derive(rec);
    ASSERT_NE(first, second);
    ASSERT_NE(second, third);
    EXPECT_EQ(ShardOf(first, count), ShardOf(second, count)) << first << " " << second;
    EXPECT_EQ(ShardOf(first, count), ShardOf(third, count));
  }
  // A '~' that is not an occurrence suffix is part of the id.
  EXPECT_EQ(ShardOf(deriver.Derive(explicit_id), 1000), ShardOf("x", 1000));
  EXPECT_EQ(ShardOf("a~b", 1000), ShardOf("a~b~2", 1000));
}

TEST(ShardAssignmentTest, SpreadsIdsEvenly) {
  constexpr int kIds = 4000, kShards = 4;
  int per[kShards] = {};
  SampleIdDeriver d;
  for (int i = 0; i < kIds; ++i)
    ++per[ShardOf(d.Derive({{"image_path", "img" + std::to_string(i) + ".jpg"}}), kShards)];
  for (int n : per) EXPECT_GT(n, kIds / kShards * 8 / 10) << "uneven shards";
}

TEST(ShardDirTest, NamesRoundTrip) {
  EXPECT_EQ(ShardDirName({2, 8}), "shard-2-of-8");
  std::optional<ShardSpec> s = ParseShardDirName("shard-2-of-8");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->count, 8);
  for (const char* bad : {"shard-8-of-8", "shard-1-of-0", "shard-a-of-2", "step_0_x", "shard-1-of-2x", "shard--of-2"})
    EXPECT_FALSE(ParseShardDirName(bad)) << bad;
}

}  // namespace
}  // namespace groundcap
