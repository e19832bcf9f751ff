// Shards: one dataset split across machines. Shard i of n processes the
// samples whose id hashes to i, into results_dir/shard-i-of-n/ (its own LOCK,
// journals, outputs, spec.yaml, run_summary.json and shard.json), and
// `groundcap merge` (shard_merge.h) joins the shards back in input order.
// Every shard streams the whole input and derives every id (sample_id.h), so
// ids are the same whichever shard reads a record.
#ifndef GROUNDCAP_SHARD_H_
#define GROUNDCAP_SHARD_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/pipeline.h"
#include "spec/spec.h"

namespace groundcap {

/// Shard `index` of `count` (0 <= index < count).
struct ShardSpec {
  int index = 0;
  int count = 1;
};

/// The spec field `workflow.shard` (listed by WorkflowSpecFields).
SpecField ShardSpecField();

/// Reads an environment variable; nullptr when unset (std::getenv in use).
using EnvLookup = std::function<const char*(const char*)>;

/// Parses a `workflow.shard` value; `field` names it in errors. "" gives
/// nullopt (no sharding). Accepted: "i/n" (0-based i), "auto" (Slurm: i =
/// SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN, n = SLURM_ARRAY_TASK_COUNT;
/// the array must be one contiguous range) and "auto/n" (i =
/// SLURM_ARRAY_TASK_ID, else Kubernetes' JOB_COMPLETION_INDEX, used as is:
/// this is the form that lets one task be resubmitted alone, `--array=2`).
/// Throws SetupError naming the field and the variables read.
std::optional<ShardSpec> ParseShard(std::string_view text, const std::string& field, const EnvLookup& env);

/// The shard a sample belongs to: a hash of its id without the occurrence
/// suffix ("~2", "~3", ... that SampleIdDeriver gives repeated ids), so exact
/// duplicate input lines land in the same shard. Stable across runs and
/// machines. `count` >= 1.
int ShardOf(std::string_view sample_id, int count);

/// The shard an input line that cannot be used belongs to (it has no id):
/// rejects are reported by exactly one shard. A hash of the line's bytes.
int ShardOfLine(std::string_view line_text, int count);

/// "shard-<i>-of-<n>".
std::string ShardDirName(const ShardSpec& shard);

/// Parses a directory name "shard-<i>-of-<n>"; nullopt for anything else.
std::optional<ShardSpec> ParseShardDirName(std::string_view name);

/// For `generate`: resolves `<pipeline>.workflow.shard` (environment
/// included), refuses a results_dir that already holds a run with another
/// shard count (shard dirs of another n, or an unsharded run's journals when
/// sharding, or shard dirs when not), creates results_dir/shard-i-of-n and
/// points the spec's results_dir at it. Returns the shard, or nullopt when
/// the run is not sharded (spec unchanged). Throws SetupError.
std::optional<ShardSpec> PrepareShard(Spec& spec, const EnvLookup& env);

/// The shard's identity and state, written to <shard dir>/shard.json at the
/// start of a run (complete false) and again at its end; `merge` reads it.
/// Holds the shard, the pipeline, the absolute input path, the id image key,
/// the step directories and the spec fingerprint (a hash of the pipeline and
/// every step's checkpoint config fingerprint: shards with different
/// fingerprints would give different answers and must not be merged).
nlohmann::json ShardInfo(const ShardSpec& shard, const Spec& spec, const std::vector<StepPlan>& plans, bool complete);

/// Writes ShardInfo to `shard_dir`/shard.json atomically; throws SetupError.
void WriteShardInfo(const std::string& shard_dir, const nlohmann::json& info);

}  // namespace groundcap

#endif  // GROUNDCAP_SHARD_H_
