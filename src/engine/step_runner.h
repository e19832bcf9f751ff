// The engine: runs one StepPlan over a streamed input with bounded
// concurrency, per-sample checkpoints (journal.h), resume and a final
// input-ordered output. See docs/design.md "Threads and data flow".
#ifndef GROUNDCAP_STEP_RUNNER_H_
#define GROUNDCAP_STEP_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/admission.h"
#include "engine/pipeline.h"
#include "spec/spec.h"
#include "teacher/teacher.h"

namespace groundcap {

/// How a step runs; generate.cc fills it from <pipeline>.workflow.*.
struct RunOptions {
  std::string results_dir;
  int max_workers = 4;           ///< samples in flight at most
  bool force_reprocess = false;  ///< redo everything
  bool retry_failed = false;     ///< redo samples whose checkpoint is a failure
  /// Per-sample wall-time limit, 0 = none. A CPU round still running at the
  /// deadline is abandoned to its thread (CpuPool::Abandon) and the sample
  /// recorded as failed (kind deadline).
  double sample_deadline_s = 0;
  /// After a stop signal, wait this long for in-flight samples; then cancel
  /// the teacher's requests and leave stuck CPU rounds behind (unrecorded).
  double grace_s = 15;
  /// Stop the run when this many samples in a row failed with kConnect (the
  /// teacher was never reached); 0 = never. Such samples are not recorded.
  int64_t stop_after_connection_failures = 5;
  int cpu_threads = 0;           ///< 0 = std::thread::hardware_concurrency()
  bool progress = true;          ///< progress line / periodic log lines
  double journal_sync_s = 1.0;   ///< fdatasync interval of the journal
  /// > 0: a pilot on the first `limit` records of the step's input (input
  /// lines, done or not, rejected included); the output holds those only.
  int64_t limit = 0;
  /// Asked before each admission (workflow.budget); null = admit all. Not owned.
  AdmissionControl* admission = nullptr;
  /// Sharding (shard.h): with shard_count > 0 only samples with
  /// ShardOf(id, shard_count) == shard_index are run, counted and written,
  /// and only rejected lines with ShardOfLine(...) == shard_index reported.
  /// Every line is still read, so ids are those of the whole input.
  int shard_index = 0;
  int shard_count = 0;
};

/// Reads RunOptions from `spec` for its active pipeline.
RunOptions RunOptionsFromSpec(const Spec& spec);

/// Counters of one step run.
struct StepStats {
  std::string name;
  std::string output_path;       ///< step_<N>_<name>/annotations.jsonl ("" when stopped)
  int64_t read = 0;              ///< valid input records
  int64_t rejected = 0;          ///< input lines written to rejects.jsonl
  int64_t resumed = 0;           ///< skipped: checkpoint ok with the same fingerprint
  int64_t resumed_failed = 0;    ///< skipped: checkpoint failed, retry_failed off
  int64_t changed = 0;           ///< redone because the fingerprint changed
  int64_t retried_failed = 0;    ///< redone because retry_failed
  int64_t processed = 0;         ///< samples run through the StepLogic this run
  int64_t succeeded = 0;         ///< ok in the final output
  int64_t failed = 0;            ///< failed in the final output (upstream included)
  int64_t failed_upstream = 0;   ///< input already failed: passed through
  int64_t flagged = 0;           ///< status "flagged" in the final output (upstream included)
  std::map<std::string, int64_t> flags_by_name;  ///< every flag raised, blocking or not
  /// What this step cost: HTTP requests (retries included) and tokens of
  /// the replies its samples received, late ones included.
  int64_t requests = 0, tokens_in = 0, tokens_out = 0;
  int64_t unrecorded = 0;        ///< not finished (stopped run)
  int64_t duplicate_ids = 0;     ///< ids that needed an occurrence suffix
  std::map<std::string, int64_t> failed_by_kind;
  bool stopped = false;
  std::string stop_reason;
  double elapsed_s = 0;
  nlohmann::json ToJson() const;
};

/// Process-wide stop flag, set by the signal handlers or by RequestStop.
/// The runner stops admitting samples when it is > 0.
std::atomic<int>& StopSignalCount();
/// Requests a graceful stop (as one SIGINT would).
void RequestStop();
/// Installs SIGINT/SIGTERM handlers: the first requests a graceful stop, the
/// second exits at once with kExitStopped (the journal is append-only and
/// repaired on open, outputs are written atomically, so nothing is corrupted).
void InstallSignalHandlers();

/// Runs the steps of a run, in one pass: a step whose input is the previous
/// step's annotations.jsonl is fed each sample as soon as the previous step
/// finishes it (the same record the file will hold, so outputs, checkpoints
/// and resume are those of running the steps one after the other), and all
/// steps share max_workers samples in flight. A step reading another file
/// starts when every earlier step is finished. `teacher` may be null for
/// steps that never send requests. Throws SetupError for unusable
/// inputs/outputs (missing input file, disk full); per-sample problems are
/// counted, never thrown. An exception from StepLogic::Begin/Continue fails
/// that sample (kind internal). One StepStats per plan; when the run stops,
/// the steps not finished are `stopped`.
std::vector<StepStats> RunSteps(const std::vector<StepPlan>& plans, Teacher* teacher, const RunOptions& options);

/// RunSteps for one step.
StepStats RunStep(const StepPlan& plan, Teacher* teacher, const RunOptions& options);

/// "step_<N>_<name>" under results_dir.
std::string StepDir(const std::string& results_dir, const StepPlan& plan);

}  // namespace groundcap

#endif  // GROUNDCAP_STEP_RUNNER_H_
