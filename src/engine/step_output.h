// The end of a step run: the input is re-streamed and the step's
// annotations.jsonl written in input order from the journal, plus the two
// record checks admission (step_runner.cc) and the output must agree on.
#ifndef GROUNDCAP_STEP_OUTPUT_H_
#define GROUNDCAP_STEP_OUTPUT_H_

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/journal.h"
#include "engine/pipeline.h"
#include "engine/step.h"
#include "engine/step_runner.h"

namespace groundcap {

/// A sample's checkpoint fingerprint: the step's config fingerprint and the
/// record's canonical JSON without its quality "flags". A journal entry
/// counts only while it matches.
std::string Fingerprint(const std::string& config_fp, const nlohmann::ordered_json& record);

/// True for a record an earlier step already failed (`"status": "failed"`):
/// it is passed through to the output, never sent to the teacher.
bool IsUpstreamFailure(const nlohmann::ordered_json& record);

/// True for a record an earlier step flagged (`"status": "flagged"`): passed
/// through like a failure, so no money is spent on doubtful data.
bool IsUpstreamFlagged(const nlohmann::ordered_json& record);

/// Why an input record is rejected, or nullopt when the step can take it.
/// Admission (step_runner.cc) and the output pass (WriteStepOutput) both ask
/// this, so they skip the same lines. Checked before the step's own
/// ValidateInput: the step's image path field (StepLogic::ImageKey), when a
/// string, must hold no NUL character, because a path handed to the system
/// ends at the NUL and names another file.
std::optional<std::string> InputRejectReason(const StepLogic& logic, const nlohmann::ordered_json& record);

/// An upstream failure as written to the output: the record unchanged, plus
/// `sample_id`, and an `error` object whenever the input lacks a usable one
/// (docs/formats.md promises `error` on every failed record): kind
/// "upstream" when it is missing or not an object with a string "kind", a
/// "message" added when only that is missing.
nlohmann::ordered_json UpstreamFailureRecord(nlohmann::ordered_json record, const std::string& sample_id);

/// A recorded sample as the output holds it: the journal's record, judged
/// by the step's Review when it is ok (flags written, status "flagged" when
/// one blocks).
nlohmann::ordered_json JudgedRecord(const StepLogic& logic, nlohmann::ordered_json record);

/// A record an earlier step failed or flagged as the output holds it:
/// UpstreamFailureRecord for a failure, the record plus `sample_id` for a flag.
nlohmann::ordered_json PassThroughRecord(nlohmann::ordered_json record, const std::string& sample_id);

/// Re-streams plan.input_jsonl (so memory stays bounded) and writes
/// StepDir/annotations.jsonl in input order, each record read from the
/// journal by offset and judged by the step's Review; recounts succeeded,
/// flagged (by flag), failed (by kind), failed_upstream and unrecorded in `stats` and sets output_path once the file is written.
/// Writes no file when `stats` is already stopped, and stops it when a sample
/// has no matching journal entry. Throws SetupError for an unreadable entry.
void WriteStepOutput(const StepPlan& plan, const RunOptions& options, const Journal& journal,
                     const std::string& config_fp, StepStats& stats);

}  // namespace groundcap

#endif  // GROUNDCAP_STEP_OUTPUT_H_
