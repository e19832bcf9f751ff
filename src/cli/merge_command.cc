// `groundcap merge RESULTS_DIR [--allow-partial]`: joins a sharded run
// (engine/shard_merge.h) and prints what was merged.
#include <cstdio>

#include "cli/commands.h"
#include "engine/shard_merge.h"
#include "util/error.h"

namespace groundcap {

int CmdMerge(const MergeOptions& options) {
  nlohmann::json summary = MergeShards(options.results_dir, options.allow_partial);
  const nlohmann::json& merge = summary["merge"];
  std::fprintf(stderr, "\n== groundcap merge ==\n%zu of %d shards merged into %s\n", merge["merged_shards"].size(),
               merge["shard_count"].get<int>(), options.results_dir.c_str());
  for (const auto& step : merge["steps"]) {
    std::fprintf(stderr, "%s: %lld records written, %lld samples of missing shards left out\n",
                 step["step"].get<std::string>().c_str(), static_cast<long long>(step["written"].get<int64_t>()),
                 static_cast<long long>(step["missing_samples"].get<int64_t>()));
  }
  if (merge["partial"].get<bool>()) {
    std::fprintf(stderr, "PARTIAL: left out %s\n", merge["missing_shards"].dump().c_str());
    return kExitSomeFailed;
  }
  return kExitOk;
}

}  // namespace groundcap
