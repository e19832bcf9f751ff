// `groundcap merge RESULTS_DIR`: joins the shards of a run
// (results_dir/shard-i-of-n/, shard.h) into results_dir/step_<N>_<name>/
// annotations.jsonl, results_dir/annotations.jsonl and run_summary.json, in
// input order. Memory stays bounded: the input is re-streamed, its ids
// derived as the shards derived them, and each id read from the next line of
// its shard's output (every shard writes its samples in input order), so
// only one pending line per shard is held.
#ifndef GROUNDCAP_SHARD_MERGE_H_
#define GROUNDCAP_SHARD_MERGE_H_

#include <nlohmann/json.hpp>
#include <string>

namespace groundcap {

/// Merges the shards under `results_dir` and returns the merged summary
/// (also written to results_dir/run_summary.json; "partial" is true when
/// shards were left out). Holds results_dir's LOCK and every shard's LOCK
/// while it runs, so no run can start on them meanwhile.
///
/// Refuses (SetupError, naming them) when: there is no shard directory;
/// shard directories of different counts exist; a run still holds a shard's
/// LOCK; the shards ran with different spec fingerprints, pipelines or
/// inputs; a shard is missing or did not finish (its shard.json is not
/// "complete") unless `allow_partial` (at least one shard must be complete);
/// a shard's output holds a record the input does not (the input changed).
/// Nothing is written when it refuses.
nlohmann::json MergeShards(const std::string& results_dir, bool allow_partial);

}  // namespace groundcap

#endif  // GROUNDCAP_SHARD_MERGE_H_
