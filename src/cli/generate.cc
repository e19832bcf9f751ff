// `groundcap generate` and `groundcap default_specs`: load the spec, build the
// teacher and the steps, run them with the step runner, write the summary.
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <optional>

#include <fmt/core.h>

#include "cli/commands.h"
#include "cost/run_cost.h"
#include "engine/run_lock.h"
#include "engine/shard.h"
#include "engine/step_runner.h"
#include "grounding/grounding_steps.h"
#include "region_caption/region_caption.h"
#include "spec/spec.h"
#include "teacher/preflight.h"
#include "teacher/teacher_config.h"
#include "teacher/teacher_launch.h"
#include "util/error.h"
#include "util/file_read.h"
#include "util/jsonl.h"
#include "util/log.h"

namespace groundcap {

namespace {

/// Whole-run summary: step counters plus the teacher's.
nlohmann::json Summary(const std::vector<StepStats>& steps, const TeacherStats& t, double elapsed_s) {
  nlohmann::json j;
  nlohmann::json arr = nlohmann::json::array();
  int64_t processed = 0;
  for (const StepStats& s : steps) {
    arr.push_back(s.ToJson());
    processed += s.processed;
  }
  j["steps"] = arr;
  if (!steps.empty()) {
    const StepStats& last = steps.back();
    j["read"] = last.read;
    j["resumed"] = last.resumed + last.resumed_failed;
    j["succeeded"] = last.succeeded;
    j["failed"] = last.failed;
    j["failed_by_reason"] = last.failed_by_kind;
    j["flagged"] = last.flagged;
    j["flags_by_name"] = last.flags_by_name;
    j["unrecorded"] = last.unrecorded;
  }
  int64_t rejected = 0;
  for (const StepStats& s : steps) rejected += s.rejected;
  j["rejected_lines"] = rejected;
  j["teacher"] = {{"requests", t.requests},
                  {"retries", t.retries},
                  {"succeeded", t.succeeded},
                  {"failed", t.failed},
                  {"rate_limited", t.rate_limited},
                  {"tokens_in", t.usage.input_tokens},
                  {"tokens_out", t.usage.output_tokens},
                  {"tokens_thinking", t.usage.thinking_tokens}};
  // Thinking is billed as output (Gemini thoughtsTokenCount, OpenAI
  // reasoning_tokens): what a price per output token applies to.
  j["teacher"]["tokens_out_billed"] = t.usage.output_tokens + t.usage.thinking_tokens;
  j["elapsed_s"] = elapsed_s;
  j["samples_per_s"] = elapsed_s > 0 ? static_cast<double>(processed) / elapsed_s : 0.0;
  return j;
}

void PrintSummary(const nlohmann::json& j, bool stopped, const std::string& stop_reason) {
  std::string reasons;
  if (j.contains("failed_by_reason"))
    for (const auto& [k, v] : j["failed_by_reason"].items()) reasons += fmt::format(" {}={}", k, v.get<int64_t>());
  std::fprintf(stderr,
               "\n== groundcap summary ==\n"
               "read %lld, resumed %lld, succeeded %lld, flagged %lld, failed %lld%s%s, rejected lines %lld\n"
               "teacher requests %lld, retries %lld, tokens in %lld / out %lld\n"
               "elapsed %.1f s, %.2f samples/s%s\n",
               static_cast<long long>(j.value("read", 0)), static_cast<long long>(j.value("resumed", 0)),
               static_cast<long long>(j.value("succeeded", 0)), static_cast<long long>(j.value("flagged", 0)),
               static_cast<long long>(j.value("failed", 0)),
               reasons.empty() ? "" : " (", reasons.empty() ? "" : (reasons.substr(1) + ")").c_str(),
               static_cast<long long>(j.value("rejected_lines", 0)),
               static_cast<long long>(j["teacher"].value("requests", 0)),
               static_cast<long long>(j["teacher"].value("retries", 0)),
               static_cast<long long>(j["teacher"].value("tokens_in", 0)),
               static_cast<long long>(j["teacher"].value("tokens_out", 0)), j.value("elapsed_s", 0.0),
               j.value("samples_per_s", 0.0),
               stopped ? fmt::format("\nSTOPPED ({}): re-run the same command to resume", stop_reason).c_str() : "");
}

/// Why a step input can only be a regular file (docs/formats.md, "Input
/// JSONL"): the runner streams it once to run the samples and again to
/// write the output in input order, and a re-run streams it again to resume.
constexpr const char* kWhyRegularInput =
    "the input is read twice (once to run the samples, once to write the output in input order "
    "from the checkpoints) and again by a re-run to resume, so it must be a regular file: save the "
    "stream to a file first (e.g. `cmd > input.jsonl`)";

/// The SetupError message for a step input that is not a regular file
/// (`what` names the field or step), or nullopt when it is one.
std::optional<std::string> InputFileProblem(const std::string& what, const std::string& path) {
  std::optional<std::string> why = NotARegularFile(path);
  if (!why) return std::nullopt;
  std::string message = fmt::format("{}: '{}' {}", what, path, *why);
  if (why->find("not a regular file") != std::string::npos) message += std::string(": ") + kWhyRegularInput;
  return message;
}

/// Refuses, before anything is written, step inputs that cannot be used:
/// anything but a regular file (a pipe such as `<(...)`, a directory), and a
/// file that this run would overwrite or delete (results_dir's
/// annotations.jsonl, spec.yaml, run_summary.json, rejects.jsonl, a journal,
/// or the output of this or a later step), compared by identity (same device
/// and inode: symbolic links, hard links and spellings like "./x" included).
/// The output of an earlier step of this run is a step's normal input.
void CheckStepInputs(const Spec& spec, const std::vector<StepPlan>& plans) {
  namespace fs = std::filesystem;
  const std::string results_dir = spec.Str("results_dir");
  std::vector<std::string> run_files = {results_dir + "/annotations.jsonl", results_dir + "/spec.yaml",
                                        results_dir + "/run_summary.json", results_dir + "/rejects.jsonl"};
  for (const StepPlan& p : plans) run_files.push_back(StepDir(results_dir, p) + "/.ckpt/journal.jsonl");
  for (size_t i = 0; i < plans.size(); ++i) {
    const std::string& input = plans[i].input_jsonl;
    const std::string what = input == spec.Str(spec.pipeline() + ".data.input_jsonl")
                                 ? spec.pipeline() + ".data.input_jsonl"
                                 : fmt::format("input of step {} ({})", plans[i].index, plans[i].logic->Name());
    bool from_earlier_step = false;
    for (size_t j = 0; j < i; ++j) from_earlier_step |= input == StepDir(results_dir, plans[j]) + "/annotations.jsonl";
    if (from_earlier_step) continue;  // written by this run before it is read
    if (std::optional<std::string> problem = InputFileProblem(what, input)) throw SetupError(*problem);
    std::vector<std::string> outputs = run_files;
    for (size_t j = i; j < plans.size(); ++j) outputs.push_back(StepDir(results_dir, plans[j]) + "/annotations.jsonl");
    for (const std::string& out : outputs) {
      std::error_code ec;
      if (fs::equivalent(input, out, ec) && !ec) {
        throw SetupError(fmt::format(
            "{}: '{}' is the same file as '{}', which this run writes: the input would be overwritten; "
            "copy it elsewhere or choose another results_dir",
            what, input, out));
      }
    }
  }
}

/// Run-level files: failing to write one is fatal for the run.
void WriteOrThrow(const std::string& path, const std::string& text) {
  Result<bool> written = WriteFileAtomic(path, text);
  if (!written) throw SetupError(written.error().message);
}

}  // namespace

int CmdGenerate(const std::string& spec_path, const std::vector<std::string>& overrides) {
  return CmdGenerate(spec_path, overrides, GenerateFlags{});
}

int CmdGenerate(const std::string& spec_path, const std::vector<std::string>& overrides,
                const GenerateFlags& flags) {
  auto t0 = std::chrono::steady_clock::now();
  Spec spec = Spec::Load(spec_path, overrides);
  if (flags.limit >= 0) spec.Set(spec.pipeline() + ".workflow.limit", flags.limit);
  // workflow.shard: this run is one shard, its results_dir results_dir/shard-i-of-n.
  const std::optional<ShardSpec> shard = PrepareShard(spec, [](const char* name) { return std::getenv(name); });
  const std::string results_dir = spec.Str("results_dir");
  const std::string input = spec.Str(spec.pipeline() + ".data.input_jsonl");
  if (std::optional<std::string> problem = InputFileProblem(spec.pipeline() + ".data.input_jsonl", input))
    throw SetupError(*problem);

  // Launched teachers (vlm.openai.launch): ports now, processes once the run holds the lock.
  LaunchedTeachers launched = LaunchedTeachers::Plan(spec, spec.pipeline());
  std::unique_ptr<Teacher> teacher = MakeTeacher(spec, spec.pipeline(), launched.Urls());
  if (!teacher)
    throw SetupError(fmt::format("no teacher available for {}.vlm (backend not built yet?)", spec.pipeline()));
  std::vector<StepPlan> plans = spec.pipeline() == kImageGrounding ? MakeGroundingSteps(spec, *teacher)
                                                                   : MakeRegionCaptionSteps(spec, *teacher);
  if (plans.empty()) throw SetupError("no steps to run (check workflow.steps)");
  CheckStepInputs(spec, plans);  // before anything in results_dir is written or removed
  // Price, spend so far (results_dir/spend.json) and workflow.budget; an
  // unpriced model with max_cost fails here, before anything is written.
  RunCost cost(spec, teacher.get());

  std::error_code ec;
  std::filesystem::create_directories(results_dir, ec);
  if (ec) throw SetupError(fmt::format("cannot create results_dir {}: {}", results_dir, ec.message()));
  // Before anything in results_dir is touched: one writer per run directory.
  const RunLock lock = RunLock::Acquire(results_dir);
  WriteOrThrow(results_dir + "/spec.yaml", spec.ResolvedYaml(true));
  if (shard) WriteShardInfo(results_dir, ShardInfo(*shard, spec, plans, false));
  std::filesystem::remove(results_dir + "/rejects.jsonl", ec);

  InstallSignalHandlers();
  launched.Start(results_dir, [] { return StopSignalCount().load() > 0; });
  // Every endpoint, launched ones included, before any paid request: exit 2 on a wrong URL/key/model.
  PreflightTeacher(spec, spec.pipeline(), launched.Urls());
  RunOptions options = RunOptionsFromSpec(spec);
  options.admission = cost.gate();
  if (shard) {
    options.shard_index = shard->index;
    options.shard_count = shard->count;
  }
  for (const StepPlan& plan : plans) cost.AddStep(plan.index, plan.logic->Name());
  std::vector<StepStats> stats = RunSteps(plans, teacher.get(), options);
  bool stopped = false;
  std::string stop_reason;
  for (const StepStats& s : stats) {
    if (s.changed > 0) GC_INFO("{}: {} samples redone because their fingerprint changed", s.name, s.changed);
    if (s.stopped && !stopped) {
      stopped = true;
      stop_reason = s.stop_reason;
    }
  }
  if (!stopped) CopyFileAtomic(stats.back().output_path, results_dir + "/annotations.jsonl");
  teacher->Stop();
  cost.Save();
  launched.Stop();

  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json summary = Summary(stats, teacher->Stats(), elapsed);
  summary["pipeline"] = spec.pipeline();
  nlohmann::json endpoints = nlohmann::json::array();  // teacher pool counters, one per endpoint
  for (const EndpointCounters& e : teacher->Stats().endpoints) endpoints.push_back(e.ToJson());
  summary["teacher"]["endpoints"] = endpoints;
  summary["stopped"] = stopped;
  if (stopped) summary["stop_reason"] = stop_reason;
  if (options.limit > 0) summary["limit"] = options.limit;
  summary["cost"] = cost.SummaryJson();
  if (shard) summary["shard"] = ShardInfo(*shard, spec, plans, !stopped);
  // stop_reason can quote a server's message: never throw on invalid UTF-8.
  WriteOrThrow(results_dir + "/run_summary.json",
               summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  if (shard) WriteShardInfo(results_dir, summary["shard"]);  // complete once every step finished
  PrintSummary(summary, stopped, stop_reason);
  std::fprintf(stderr, "%s\n", cost.SummaryLine().c_str());
  if (options.limit > 0 && !stopped)
    std::fprintf(stderr, "pilot: the first %lld input records only; run without --limit to continue (done samples "
                 "are not redone)\n", static_cast<long long>(options.limit));
  if (stopped) return kExitStopped;
  const bool flagged_fails = spec.Bool(spec.pipeline() + ".quality.flagged_exit_nonzero");
  // A rejected input line is data that was not processed, like a failure.
  const bool some_failed = summary.value("failed", 0) > 0 || summary.value("rejected_lines", 0) > 0 ||
                           (flagged_fails && summary.value("flagged", 0) > 0);
  return some_failed ? kExitSomeFailed : kExitOk;
}

int CmdDefaultSpecs(const std::string& type) {
  std::fputs(Spec::DefaultYaml(type).c_str(), stdout);
  return kExitOk;
}

}  // namespace groundcap
