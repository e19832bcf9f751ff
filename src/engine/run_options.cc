// What the step runner is told (workflow.* spec fields, RunOptions), what it
// reports (StepStats as JSON) and how a run is stopped (signals).
#include <signal.h>
#include <unistd.h>

#include "engine/shard.h"
#include "engine/step_runner.h"

namespace groundcap {

std::vector<SpecField> WorkflowSpecFields() {
  std::vector<SpecField> v;
  v.push_back(MakeField("workflow.max_workers", FieldType::kInt, "4",
                        "samples in flight at once over all steps (= concurrent teacher requests; a step "
                        "fed by the one before it shares them)",
                        1, 100000));
  v.push_back(MakeField("workflow.force_reprocess", FieldType::kBool, "false",
               "ignore checkpoints and redo every sample"));
  v.push_back(MakeField("workflow.retry_failed", FieldType::kBool, "false",
               "redo samples whose checkpoint is a failure (successes are kept)"));
  v.push_back(MakeField("workflow.sample_deadline_s", FieldType::kFloat, "0",
                        "fail a sample that takes longer than this many seconds (0 = no limit)", 0));
  v.push_back(MakeField("quality.flagged_exit_nonzero", FieldType::kBool, "true",
                        "exit status 1 when a sample is flagged, as when one failed"));
  v.push_back(MakeField("workflow.stop_after_connection_failures", FieldType::kInt, "5",
                        "stop the run (exit 3, resumable) when this many samples in a row could not reach "
                        "the teacher at all (refused, DNS, unreachable); such samples are never recorded "
                        "and a re-run redoes them (0 = never stop early)",
                        0, 1000000000));
  v.push_back(MakeField("workflow.limit", FieldType::kInt, "0",
                        "a pilot: run only the first N records of the input (0 = all); a later run "
                        "without it resumes and does not redo them (also --limit N)",
                        0, 9.2e18));
  v.push_back(ShardSpecField());
  v.push_back(MakeField("data.input_jsonl", FieldType::kString, "\"\"", "input JSONL, one record per line"));
  v.back().required = true;
  v.push_back(MakeField("data.image_root", FieldType::kString, "\"\"",
               "directory that relative image_path values are resolved against"));
  return v;
}

RunOptions RunOptionsFromSpec(const Spec& spec) {
  const std::string p = spec.pipeline() + ".";
  RunOptions o;
  o.results_dir = spec.Str("results_dir");
  o.max_workers = static_cast<int>(spec.Int(p + "workflow.max_workers"));
  o.force_reprocess = spec.Bool(p + "workflow.force_reprocess");
  o.retry_failed = spec.Bool(p + "workflow.retry_failed");
  o.sample_deadline_s = spec.Float(p + "workflow.sample_deadline_s");
  o.stop_after_connection_failures = spec.Int(p + "workflow.stop_after_connection_failures");
  o.limit = spec.Int(p + "workflow.limit");
  return o;
}

nlohmann::json StepStats::ToJson() const {
  nlohmann::json j = {{"name", name},           {"output", output_path},
                      {"read", read},           {"rejected", rejected},
                      {"resumed", resumed},     {"resumed_failed", resumed_failed},
                      {"changed", changed},     {"retried_failed", retried_failed},
                      {"processed", processed}, {"succeeded", succeeded},
                      {"failed", failed},       {"failed_upstream", failed_upstream},
                      {"unrecorded", unrecorded}, {"duplicate_ids", duplicate_ids},
                      {"failed_by_kind", failed_by_kind}, {"flagged", flagged},
                      {"flags_by_name", flags_by_name},   {"requests", requests},
                      {"tokens_in", tokens_in},           {"tokens_out", tokens_out},
                      {"stopped", stopped},
                      {"elapsed_s", elapsed_s}};
  if (stopped) j["stop_reason"] = stop_reason;
  return j;
}

// ---- signals -------------------------------------------------------------

std::atomic<int>& StopSignalCount() {
  static std::atomic<int> count{0};
  return count;
}

void RequestStop() { StopSignalCount().fetch_add(1); }

namespace {

extern "C" void OnStopSignal(int) {
  if (StopSignalCount().fetch_add(1) >= 1) {
    static const char kMsg[] = "\ngroundcap: second signal, exiting now (resumable)\n";
    ssize_t ignored = ::write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
    (void)ignored;
    ::_exit(kExitStopped);
  }
}

}  // namespace

void InstallSignalHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace groundcap
