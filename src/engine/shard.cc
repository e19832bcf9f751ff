#include "engine/shard.h"

#include <fmt/core.h>

#include <charconv>
#include <filesystem>

#include "engine/sample_id.h"
#include "engine/step_runner.h"
#include "util/error.h"
#include "util/jsonl.h"

namespace groundcap {

namespace {

/// A non-negative decimal integer filling all of `s`, or nullopt.
std::optional<long long> ParseCount(std::string_view s) {
  long long v = 0;
  if (s.empty() || s.size() > 9) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

/// An environment variable as a non-negative integer; nullopt when unset.
/// Throws when set but not a number.
std::optional<long long> EnvInt(const EnvLookup& env, const char* name, const std::string& field) {
  const char* v = env(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  std::optional<long long> n = ParseCount(v);
  if (!n)
    throw SetupError(fmt::format("{}: environment variable {}='{}' is not a non-negative integer", field, name, v));
  return n;
}

/// Mixes FNV's bits so that `% count` uses all of them.
uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

std::string_view WithoutOccurrence(std::string_view id) {
  size_t tilde = id.rfind('~');
  if (tilde == std::string_view::npos || tilde + 1 == id.size()) return id;
  for (size_t i = tilde + 1; i < id.size(); ++i)
    if (id[i] < '0' || id[i] > '9') return id;
  return id.substr(0, tilde);
}

}  // namespace

SpecField ShardSpecField() {
  return MakeField("workflow.shard", FieldType::kString, "\"\"",
                   "process one shard of the input into results_dir/shard-i-of-n/: \"i/n\" (0-based), "
                   "\"auto\" (Slurm array: SLURM_ARRAY_TASK_ID/COUNT/MIN) or \"auto/n\" (index from "
                   "SLURM_ARRAY_TASK_ID or Kubernetes JOB_COMPLETION_INDEX); \"\" = no sharding; "
                   "join the shards with `groundcap merge` (docs/scale-out.md)");
}

std::optional<ShardSpec> ParseShard(std::string_view text, const std::string& field, const EnvLookup& env) {
  if (text.empty()) return std::nullopt;
  const std::string given(text);
  const std::string forms = "expected \"i/n\" with 0 <= i < n (e.g. \"0/4\"), \"auto\" or \"auto/n\"";
  size_t slash = text.find('/');
  std::string_view left = text.substr(0, slash);
  std::optional<long long> count;
  if (slash != std::string_view::npos) {
    count = ParseCount(text.substr(slash + 1));
    if (!count || *count < 1)
      throw SetupError(
          fmt::format("{}: '{}': the shard count after '/' must be a positive integer; {}", field, given, forms));
    if (*count > 1000000) throw SetupError(fmt::format("{}: '{}': at most 1000000 shards", field, given));
  }
  ShardSpec s;
  if (left == "auto" && !count) {
    std::optional<long long> id = EnvInt(env, "SLURM_ARRAY_TASK_ID", field);
    std::optional<long long> n = EnvInt(env, "SLURM_ARRAY_TASK_COUNT", field);
    if (!id || !n) {
      throw SetupError(fmt::format(
          "{}: 'auto' needs a Slurm array task (SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT are not set); "
          "on Kubernetes or for one resubmitted task give the count: \"auto/n\"",
          field));
    }
    const long long min = EnvInt(env, "SLURM_ARRAY_TASK_MIN", field).value_or(0);
    const std::optional<long long> max = EnvInt(env, "SLURM_ARRAY_TASK_MAX", field);
    if (max && *max - min + 1 != *n) {
      throw SetupError(
          fmt::format("{}: 'auto': the Slurm array {}-{} has {} tasks, not one contiguous range; submit --array=0-{} "
                      "or use \"auto/n\"",
                      field, min, *max, *n, *n - 1));
    }
    s.index = static_cast<int>(*id - min);
    s.count = static_cast<int>(*n);
  } else if (left == "auto") {
    std::optional<long long> id = EnvInt(env, "SLURM_ARRAY_TASK_ID", field);
    const char* from = "SLURM_ARRAY_TASK_ID";
    if (!id) {
      id = EnvInt(env, "JOB_COMPLETION_INDEX", field);
      from = "JOB_COMPLETION_INDEX";
    }
    if (!id) {
      throw SetupError(
          fmt::format("{}: '{}' needs SLURM_ARRAY_TASK_ID (a Slurm array task) or JOB_COMPLETION_INDEX (a Kubernetes "
                      "indexed Job); neither is set",
                      field, given));
    }
    if (*id >= *count) {
      throw SetupError(
          fmt::format("{}: '{}': {}={} is out of range: shard indexes are 0..{}", field, given, from, *id, *count - 1));
    }
    s.index = static_cast<int>(*id);
    s.count = static_cast<int>(*count);
  } else {
    std::optional<long long> i = ParseCount(left);
    if (!i || !count) throw SetupError(fmt::format("{}: '{}': {}", field, given, forms));
    if (*i >= *count) {
      throw SetupError(fmt::format("{}: '{}': shard index {} is out of range: indexes are 0-based, 0..{}", field, given,
                                   *i, *count - 1));
    }
    s.index = static_cast<int>(*i);
    s.count = static_cast<int>(*count);
  }
  return s;
}

int ShardOf(std::string_view sample_id, int count) {
  if (count <= 1) return 0;
  return static_cast<int>(Mix(Fnv1a64(WithoutOccurrence(sample_id))) % static_cast<uint64_t>(count));
}

int ShardOfLine(std::string_view line_text, int count) {
  if (count <= 1) return 0;
  return static_cast<int>(Mix(Fnv1a64(line_text)) % static_cast<uint64_t>(count));
}

std::string ShardDirName(const ShardSpec& shard) { return fmt::format("shard-{}-of-{}", shard.index, shard.count); }

std::optional<ShardSpec> ParseShardDirName(std::string_view name) {
  constexpr std::string_view kPrefix = "shard-";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  size_t of = name.find("-of-");
  if (of == std::string_view::npos) return std::nullopt;
  std::optional<long long> i = ParseCount(name.substr(0, of));
  std::optional<long long> n = ParseCount(name.substr(of + 4));
  if (!i || !n || *n < 1 || *i >= *n) return std::nullopt;
  return ShardSpec{static_cast<int>(*i), static_cast<int>(*n)};
}

std::optional<ShardSpec> PrepareShard(Spec& spec, const EnvLookup& env) {
  namespace fs = std::filesystem;
  const std::string field = spec.pipeline() + ".workflow.shard";
  std::optional<ShardSpec> shard = ParseShard(spec.Str(field), field, env);
  const std::string results_dir = spec.Str("results_dir");
  // What is already in results_dir: shard dirs (of which counts) and journals
  // of an unsharded run.
  std::vector<std::string> other_counts;
  bool unsharded_journal = false;
  std::error_code ec;
  for (fs::directory_iterator it(results_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (std::optional<ShardSpec> s = ParseShardDirName(name)) {
      if (!shard || s->count != shard->count) other_counts.push_back(name);
    } else if (name.rfind("step_", 0) == 0 && fs::exists(it->path() / ".ckpt" / "journal.jsonl")) {
      unsharded_journal = true;
    }
  }
  if (!shard && !other_counts.empty()) {
    throw SetupError(
        fmt::format("results_dir {} holds sharded runs ({}...): run each shard with {} as before and join them with "
                    "`groundcap merge {}`, or use another results_dir",
                    results_dir, other_counts.front(), field, results_dir));
  }
  if (!shard) return std::nullopt;
  if (!other_counts.empty()) {
    throw SetupError(
        fmt::format("{}: '{}' splits the input into {} shards, but results_dir {} was sharded differently ({}): "
                    "the shard count cannot change for one results_dir (samples would be in two shards); use the same "
                    "count or another results_dir",
                    field, spec.Str(field), shard->count, results_dir, other_counts.front()));
  }
  if (unsharded_journal) {
    throw SetupError(
        fmt::format("{}: results_dir {} holds an unsharded run (step_*/.ckpt/journal.jsonl): the shard count cannot "
                    "change for one results_dir; use another results_dir for the sharded run",
                    field, results_dir));
  }
  const std::string dir = results_dir + "/" + ShardDirName(*shard);
  fs::create_directories(dir, ec);
  if (ec) throw SetupError(fmt::format("cannot create shard directory {}: {}", dir, ec.message()));
  spec.Set("results_dir", dir);
  return shard;
}

nlohmann::json ShardInfo(const ShardSpec& shard, const Spec& spec, const std::vector<StepPlan>& plans, bool complete) {
  namespace fs = std::filesystem;
  const std::string input = spec.Str(spec.pipeline() + ".data.input_jsonl");
  std::error_code ec;
  fs::path abs = fs::absolute(input, ec);
  nlohmann::json steps = nlohmann::json::array();
  std::string fp_text = spec.pipeline();
  for (const StepPlan& p : plans) {
    steps.push_back(fs::path(StepDir("", p)).filename().string());
    fp_text += '\n';
    fp_text += p.logic->ConfigFingerprint();
  }
  nlohmann::json j;
  j["shard"] = shard.index;
  j["count"] = shard.count;
  j["pipeline"] = spec.pipeline();
  j["input_jsonl"] = ec ? input : abs.lexically_normal().string();
  j["image_key"] = plans.empty() ? std::string("image_path") : plans.front().logic->ImageKey();
  j["steps"] = steps;
  j["spec_fingerprint"] = Hex64(Fnv1a64(fp_text));
  j["complete"] = complete;
  return j;
}

void WriteShardInfo(const std::string& shard_dir, const nlohmann::json& info) {
  Result<bool> written = WriteFileAtomic(shard_dir + "/shard.json", info.dump(2) + "\n");
  if (!written) throw SetupError(written.error().message);
}

}  // namespace groundcap
