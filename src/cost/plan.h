// `groundcap plan`: streams each step's input (nothing is sent), skips what
// the journals say is done, and adds up the per-sample estimates
// (estimate.h) and their price. docs/formats.md "groundcap plan".
#ifndef GROUNDCAP_PLAN_H_
#define GROUNDCAP_PLAN_H_

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/pipeline.h"
#include "engine/shard.h"
#include "spec/spec.h"

namespace groundcap {

/// The plan of `plans` (built from `spec` as generate would) as JSON:
/// {"pipeline", "model", "image_token_rule", "price" | "price_note",
///  "shard"?, "steps": [{"name", "input", "records", "done", "to_do", "rejected",
///  "refused_images", "requests", "images", "input_text_tokens",
///  "input_image_tokens", "input_tokens", "output_tokens", "cost"?, "note"?}],
///  "total": {...}, "budget", "spend_so_far"}. `fingerprints_known` false
/// (no teacher could be built): a sample counts as done when its id has a
/// checkpoint, whatever its configuration. With `shard`, only that shard's
/// samples (and rejected lines) count, as its run would see them; the spec's
/// results_dir is then the shard's directory.
nlohmann::json PlanRun(const Spec& spec, const std::vector<StepPlan>& plans, bool fingerprints_known,
                       std::optional<ShardSpec> shard = std::nullopt);

/// The plan as text for a terminal.
std::string PlanText(const nlohmann::json& plan);

}  // namespace groundcap

#endif  // GROUNDCAP_PLAN_H_
