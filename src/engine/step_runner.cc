#include "engine/step_runner.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include <fmt/core.h>

#include "engine/cpu_pool.h"
#include "engine/journal.h"
#include "engine/progress.h"
#include "engine/sample_id.h"
#include "engine/shard.h"
#include "engine/step_output.h"
#include "util/jsonl.h"
#include "util/log.h"

namespace groundcap {

std::vector<SpecField> WorkflowSpecFields() {
  std::vector<SpecField> v;
  v.push_back(MakeField("workflow.max_workers", FieldType::kInt, "4",
                        "samples in flight at once (= concurrent teacher requests per step)", 1, 100000));
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

// ---- machinery -----------------------------------------------------------

namespace {

using Clock = std::chrono::steady_clock;

/// After the grace period the teacher is stopped and cancels what it holds.
/// A CPU round still running this long after it (time for a round that just
/// got its paid-for replies to finish and be recorded) is stuck and left
/// behind; a sample still waiting kCancelWait after it is given up on.
constexpr std::chrono::seconds kStuckAfterGrace{1};
constexpr std::chrono::seconds kCancelWait{5};

/// What the CPU workers and teacher callbacks hand to the coordinator.
struct Event {
  enum class Kind { kCpuDone, kReply } kind = Kind::kCpuDone;
  int slot = 0;
  uint64_t gen = 0;
  StepAction action;
  size_t index = 0;
  TeacherReply reply;
};

class EventQueue {
 public:
  void Push(Event e) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      q_.push_back(std::move(e));
    }
    cv_.notify_one();
  }
  bool PopWait(Event* out, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return !q_.empty(); })) return false;
    *out = std::move(q_.front());
    q_.pop_front();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> q_;
};

struct Slot {
  bool busy = false;
  uint64_t gen = 0;
  /// Shared with the CPU round working on it, which may outlive the slot's
  /// use of it when the round is abandoned (CpuPool::Abandon).
  std::shared_ptr<SampleJob> job;
  /// The job as admitted (id, record, warnings), kept when a deadline is
  /// set: the failure of a sample whose round is abandoned is recorded from
  /// it, since the abandoned round may still be writing to `job`.
  SampleJob admitted;
  std::string fingerprint;
  std::string sample_id;    ///< of the sample admitted (for AdmissionControl::Finished)
  std::vector<TeacherReply> replies;
  size_t pending = 0;
  bool in_cpu = false;
  uint64_t cpu_ticket = 0;  ///< CpuPool ticket of the round in progress
  Clock::time_point start;
};

/// The output record of a finished sample.
nlohmann::ordered_json OutputRecord(const SampleJob& job, nlohmann::ordered_json out,
                                    const Error* error) {
  if (!out.is_object()) out = job.record;
  out["sample_id"] = job.sample_id;
  out["status"] = error ? "failed" : "ok";
  if (error) out["error"] = nlohmann::ordered_json(error->ToJson());
  else out.erase("error");
  if (!job.warnings.empty()) out["warnings"] = job.warnings;
  return out;
}

/// One step run; the calling thread coordinates and is the journal's writer.
class Runner {
 public:
  Runner(const StepPlan& plan, Teacher* teacher, const RunOptions& opt)
      : plan_(plan), logic_(*plan.logic), teacher_(teacher), opt_(opt),
        queue_(std::make_shared<EventQueue>()) {}
  /// Also runs when Run() throws (disk full, a throwing StepLogic): joins
  /// the CPU pool (its rounds own what they touch, see RunCpu).
  ~Runner() {
    pool_.reset();
    if (rejects_) std::fclose(rejects_);
  }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  StepStats Run();

 private:
  void Reject(const JsonlLine& line, const std::string& reason);
  void HandleLine(const JsonlLine& line);
  void Admit(SampleJob job, std::string fingerprint);
  void RunCpu(int slot_index, bool begin, std::vector<TeacherReply> replies);
  void OnEvent(Event& e);
  void OnAction(int slot_index, StepAction& action);
  void Finish(int slot_index, const nlohmann::ordered_json* output, const Error* error);
  void CheckDeadlines();
  void AbandonStuckRounds();
  void OnConnectFailure(const Error& error);
  Error DeadlineError() const {
    return Error::Make(ErrorKind::kDeadline, fmt::format("sample took longer than {} s", opt_.sample_deadline_s));
  }
  void StopAdmitting(const std::string& reason);
  ProgressCounts Counts() const;

  const StepPlan& plan_;
  StepLogic& logic_;
  Teacher* teacher_;
  RunOptions opt_;
  std::shared_ptr<EventQueue> queue_;
  std::unique_ptr<CpuPool> pool_;
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<JsonlReader> reader_;
  std::unique_ptr<SampleIdDeriver> deriver_;
  std::FILE* rejects_ = nullptr;
  std::string config_fp_;
  std::vector<Slot> slots_;
  int in_flight_ = 0;
  bool stop_admitting_ = false;
  bool input_done_ = false;
  StepStats stats_;
  int64_t run_done_ = 0, run_failed_ = 0;
  int stuck_limit_ = 4;                ///< stuck CPU workers that stop the run
  int64_t lines_seen_ = 0;             ///< input lines read (workflow.limit counts these)
  int64_t connect_streak_ = 0;         ///< samples in a row that never reached the teacher
  int64_t connect_unrecorded_ = 0;     ///< samples left unrecorded for that reason
  std::string last_connect_error_;
};

void Runner::StopAdmitting(const std::string& reason) {
  if (stop_admitting_) return;
  stop_admitting_ = true;
  stats_.stopped = true;
  stats_.stop_reason = reason;
  GC_WARN("{}: stopping ({}); {} samples still in flight (recorded if they finish, else redone on resume)",
          stats_.name, reason, in_flight_);
}

void Runner::Reject(const JsonlLine& line, const std::string& reason) {
  // A line without an id is reported by one shard only.
  if (opt_.shard_count > 0 && ShardOfLine(line.text, opt_.shard_count) != opt_.shard_index) return;
  ++stats_.rejected;
  GC_WARN("{}:{}: rejected: {}", reader_->path(), line.line, reason);
  if (!rejects_) return;
  nlohmann::ordered_json j;
  j["file"] = reader_->path();
  j["line"] = line.line;
  j["step"] = stats_.name;
  j["reason"] = reason;
  j["text"] = line.text.substr(0, 300);
  std::string s = DumpJsonLine(j) + "\n";
  std::fwrite(s.data(), 1, s.size(), rejects_);
  std::fflush(rejects_);
}

void Runner::HandleLine(const JsonlLine& line) {
  if (line.too_long) return Reject(line, "line too long");
  bool repaired = false;
  Result<nlohmann::ordered_json> rec = ParseJsonObjectLine(line.text, &repaired);
  if (!rec) return Reject(line, rec.error().message);
  if (std::optional<std::string> why = InputRejectReason(logic_, *rec)) return Reject(line, *why);
  SampleJob job;
  job.sample_id = deriver_->Derive(*rec);  // every record: ids are those of the whole input
  if (opt_.shard_count > 0 && ShardOf(job.sample_id, opt_.shard_count) != opt_.shard_index) return;
  ++stats_.read;
  job.line = line.line;
  if (repaired) job.warnings.push_back("invalid UTF-8 in the input line was replaced by U+FFFD");
  job.record = std::move(*rec);
  if (IsUpstreamFailure(job.record) || IsUpstreamFlagged(job.record)) {
    ++run_done_;
    return;  // passed through at the end, no teacher call
  }
  std::string fp = Fingerprint(config_fp_, job.record);
  std::optional<JournalIndexEntry> e = journal_->Find(job.sample_id);
  if (!opt_.force_reprocess && e) {
    if (e->fingerprint != fp) {
      ++stats_.changed;
    } else if (e->status == JournalStatus::kOk) {
      ++stats_.resumed;
      ++run_done_;
      return;
    } else if (!opt_.retry_failed) {
      ++stats_.resumed_failed;
      ++run_done_;
      ++run_failed_;
      return;
    } else {
      ++stats_.retried_failed;
    }
  }
  if (opt_.admission) {
    if (std::optional<std::string> why = opt_.admission->Admit(job)) return StopAdmitting(*why);
  }
  Admit(std::move(job), std::move(fp));
}

void Runner::Admit(SampleJob job, std::string fingerprint) {
  int idx = 0;
  while (slots_[idx].busy) ++idx;
  Slot& s = slots_[idx];
  s.busy = true;
  ++s.gen;
  if (opt_.sample_deadline_s > 0) {
    s.admitted.sample_id = job.sample_id;
    s.admitted.line = job.line;
    s.admitted.record = job.record;
    s.admitted.warnings = job.warnings;
  }
  s.job = std::make_shared<SampleJob>(std::move(job));
  s.fingerprint = std::move(fingerprint);
  s.sample_id = s.job->sample_id;
  s.replies.clear();
  s.pending = 0;
  s.start = Clock::now();
  ++in_flight_;
  ++stats_.processed;
  RunCpu(idx, true, {});
}

void Runner::RunCpu(int slot_index, bool begin, std::vector<TeacherReply> replies) {
  Slot& s = slots_[slot_index];
  s.in_cpu = true;
  // The round owns what it touches (the job, the step, the queue) and not
  // `this`: an abandoned round may return after the run is over.
  std::shared_ptr<SampleJob> job = s.job;
  std::shared_ptr<StepLogic> logic = plan_.logic;
  std::shared_ptr<EventQueue> queue = queue_;
  uint64_t gen = s.gen;
  s.cpu_ticket = pool_->Run([job, logic, queue, slot_index, gen, begin, replies = std::move(replies)]() mutable {
    Event e;
    e.kind = Event::Kind::kCpuDone;
    e.slot = slot_index;
    e.gen = gen;
    try {
      if (begin) {
        e.action = logic->Begin(*job);
      } else {
        ++job->round;
        e.action = logic->Continue(*job, std::move(replies));
      }
    } catch (const std::exception& ex) {
      e.action = StepAction::Fail(Error::Make(ErrorKind::kInternal, std::string("exception: ") + ex.what()));
    } catch (...) {  // anything escaping a pool thread would std::terminate
      e.action = StepAction::Fail(Error::Make(ErrorKind::kInternal, "unknown exception"));
    }
    queue->Push(std::move(e));
  });
}

void Runner::OnEvent(Event& e) {
  Slot& s = slots_[e.slot];
  if (!s.busy || s.gen != e.gen) return;  // late reply of a sample already finished
  if (e.kind == Event::Kind::kCpuDone) {
    s.in_cpu = false;
    return OnAction(e.slot, e.action);
  }
  const std::optional<Error>& reply_error = e.reply.error;
  if (!reply_error || (reply_error->kind != ErrorKind::kConnect && reply_error->kind != ErrorKind::kCancelled))
    connect_streak_ = 0;  // the teacher answered (an error from the server counts)
  s.replies[e.index] = std::move(e.reply);
  if (--s.pending > 0) return;
  // Replies that end the sample unrecorded, whatever the step would make of
  // them: a resume redoes it.
  for (const TeacherReply& r : s.replies) {
    if (r.error && (r.error->fatal_for_run() || r.error->kind == ErrorKind::kCancelled ||
                    r.error->kind == ErrorKind::kConnect))
      return Finish(e.slot, nullptr, &*r.error);
  }
  RunCpu(e.slot, false, std::move(s.replies));
}

void Runner::OnAction(int slot_index, StepAction& action) {
  Slot& s = slots_[slot_index];
  if (action.output) return Finish(slot_index, &*action.output, nullptr);
  if (action.error) return Finish(slot_index, nullptr, &*action.error);
  if (action.requests.empty()) {
    Error err = Error::Make(ErrorKind::kInternal, "step returned no requests, output or error");
    return Finish(slot_index, nullptr, &err);
  }
  if (!teacher_) {
    Error err = Error::Make(ErrorKind::kInternal, "no teacher configured");
    return Finish(slot_index, nullptr, &err);
  }
  size_t n = action.requests.size();
  s.replies.assign(n, TeacherReply{});
  s.pending = n;
  uint64_t gen = s.gen;
  std::shared_ptr<EventQueue> q = queue_;
  for (size_t i = 0; i < n; ++i) {
    // The callback only enqueues (it runs on the network thread).
    teacher_->Submit(std::move(action.requests[i]), [q, slot_index, gen, i](TeacherReply r) {
      Event e;
      e.kind = Event::Kind::kReply;
      e.slot = slot_index;
      e.gen = gen;
      e.index = i;
      e.reply = std::move(r);
      q->Push(std::move(e));
    });
  }
}

void Runner::Finish(int slot_index, const nlohmann::ordered_json* output, const Error* error) {
  Slot& s = slots_[slot_index];
  if (error && (error->fatal_for_run() || error->kind == ErrorKind::kCancelled ||
                error->kind == ErrorKind::kConnect)) {
    // Not recorded: the sample stays unfinished and a resume redoes it. A
    // connection failure never reached the server, so redoing it is free.
    if (error->fatal_for_run()) StopAdmitting(fmt::format("{}: {}", ErrorKindName(error->kind), error->message));
    if (error->kind == ErrorKind::kConnect) OnConnectFailure(*error);
  } else {
    // A round still in the CPU was abandoned and may write to the job: the
    // record comes from the admitted copy then.
    const SampleJob& job = s.in_cpu ? s.admitted : *s.job;
    JournalEntry entry;
    entry.id = job.sample_id;
    entry.fingerprint = s.fingerprint;
    entry.status = error ? JournalStatus::kFailed : JournalStatus::kOk;
    entry.record = OutputRecord(job, output ? *output : nlohmann::ordered_json(), error);
    if (error) entry.error = *error;
    journal_->Append(entry);
    ++run_done_;
    if (error) ++run_failed_;
  }
  if (opt_.admission) opt_.admission->Finished(s.sample_id);
  s.busy = false;
  ++s.gen;
  s.job.reset();
  s.admitted = SampleJob();
  s.in_cpu = false;
  s.replies.clear();
  --in_flight_;
}

void Runner::OnConnectFailure(const Error& error) {
  ++connect_unrecorded_;
  ++connect_streak_;
  last_connect_error_ = error.message;
  const int64_t n = opt_.stop_after_connection_failures;
  if (n <= 0 || connect_streak_ < n || stop_admitting_) return;
  StopAdmitting(fmt::format("teacher unreachable: {} samples in a row could not connect ({}); "
                            "check the URL and the server, then re-run to resume",
                            connect_streak_, error.message));
  // The samples in flight are waiting on the same dead endpoint, each
  // through its whole retry budget: cancel them (unrecorded, redone on resume).
  if (teacher_) teacher_->Stop();
}

void Runner::CheckDeadlines() {
  if (opt_.sample_deadline_s <= 0) return;
  auto now = Clock::now();
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (!s.busy) continue;
    if (std::chrono::duration<double>(now - s.start).count() < opt_.sample_deadline_s) continue;
    // A round still in the CPU may never return (a blocking read, a step
    // stuck in a loop): abandon it to a retired thread, with a replacement,
    // and record the failure from the admitted copy of the job.
    if (s.in_cpu && pool_->Abandon(s.cpu_ticket, true)) {
      GC_WARN("{}: {}: a CPU worker is stuck past the deadline; leaving it behind", stats_.name,
              s.admitted.sample_id);
    }
    Error err = DeadlineError();
    Finish(static_cast<int>(i), nullptr, &err);
  }
  if (pool_->stuck() >= stuck_limit_ && !stop_admitting_) {
    StopAdmitting(fmt::format("{} CPU workers are stuck in step code (a blocking file or a hung "
                              "filesystem?)", pool_->stuck()));
  }
}

void Runner::AbandonStuckRounds() {
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (!s.busy || !s.in_cpu) continue;
    if (pool_->Abandon(s.cpu_ticket, false))
      GC_WARN("{}: a CPU worker is stuck; leaving it behind, its sample is redone on resume", stats_.name);
    Error err = Error::Make(ErrorKind::kCancelled, "abandoned at the end of the grace period");
    Finish(static_cast<int>(i), nullptr, &err);
  }
}

ProgressCounts Runner::Counts() const {
  ProgressCounts c;
  c.done = run_done_;
  c.skipped = stats_.resumed + stats_.resumed_failed;
  c.failed = run_failed_;
  c.in_flight = in_flight_;
  c.records_read = stats_.read + stats_.rejected;
  c.bytes_read = reader_->bytes_read();
  c.file_size = reader_->file_size();
  c.input_done = input_done_;
  return c;
}

StepStats Runner::Run() {
  auto t0 = Clock::now();
  stats_.name = logic_.Name();
  std::string dir = StepDir(opt_.results_dir, plan_);
  std::error_code ec;
  std::filesystem::create_directories(dir + "/.ckpt", ec);
  if (ec) throw SetupError(fmt::format("cannot create {}: {}", dir, ec.message()));
  reader_ = std::make_unique<JsonlReader>(plan_.input_jsonl);
  journal_ = std::make_unique<Journal>(dir + "/.ckpt/journal.jsonl", opt_.journal_sync_s);
  deriver_ = std::make_unique<SampleIdDeriver>(logic_.ImageKey());
  rejects_ = std::fopen((opt_.results_dir + "/rejects.jsonl").c_str(), "ab");
  config_fp_ = logic_.ConfigFingerprint();
  int cpu = opt_.cpu_threads > 0 ? opt_.cpu_threads : static_cast<int>(std::thread::hardware_concurrency());
  pool_ = std::make_unique<CpuPool>(std::max(1, cpu));
  stuck_limit_ = std::max(4, cpu);
  slots_.resize(static_cast<size_t>(std::max(1, opt_.max_workers)));
  Progress progress(StepDir("", plan_).substr(1), opt_.progress);
  GC_INFO("{}: reading {} ({} checkpoints loaded)", stats_.name, plan_.input_jsonl, journal_->size());

  Clock::time_point grace_end{};
  bool teacher_stopped = false;
  while (true) {
    // Also after a fatal error stopped admission: a signal still starts the grace period.
    if (StopSignalCount().load() > 0 && grace_end == Clock::time_point{}) {
      StopAdmitting("signal");
      grace_end = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(opt_.grace_s * 1000));
    }
    while (!stop_admitting_ && !input_done_ && in_flight_ < static_cast<int>(slots_.size())) {
      JsonlLine line;
      if ((opt_.limit > 0 && lines_seen_ >= opt_.limit) || !reader_->Next(&line)) {
        input_done_ = true;
        break;
      }
      ++lines_seen_;
      HandleLine(line);
    }
    if (in_flight_ == 0 && (input_done_ || stop_admitting_)) break;
    if (grace_end != Clock::time_point{} && Clock::now() > grace_end) {
      if (!teacher_stopped) {
        GC_WARN("{}: grace period over, cancelling {} samples in flight", stats_.name, in_flight_);
        if (teacher_) teacher_->Stop();
        teacher_stopped = true;
      }
      // Rounds stuck in step code (a blocking read, a loop) are left behind
      // on their threads: their samples stay unrecorded. The journal is only
      // written by this thread, so nothing is half-written.
      if (Clock::now() > grace_end + kStuckAfterGrace) AbandonStuckRounds();
      if (Clock::now() > grace_end + kCancelWait) {
        // A teacher that never delivers its cancellations must not hold the run either.
        for (size_t i = 0; i < slots_.size(); ++i) {
          if (!slots_[i].busy) continue;
          Error err = Error::Make(ErrorKind::kCancelled, "no answer after the grace period");
          Finish(static_cast<int>(i), nullptr, &err);
        }
      }
      if (in_flight_ == 0) break;
    }
    Event e;
    if (queue_->PopWait(&e, std::chrono::milliseconds(100))) OnEvent(e);
    CheckDeadlines();
    progress.Update(Counts());
  }
  pool_.reset();  // joins the workers left: they are idle (stuck ones were detached)
  if (connect_unrecorded_ > 0 && !stats_.stopped) {
    // Fewer than workflow.stop_after_connection_failures in a row, or the
    // input ended first: the step is still unfinished, say why.
    stats_.stopped = true;
    stats_.stop_reason = fmt::format("{} samples could not reach the teacher (last: {}); re-run to redo them",
                                     connect_unrecorded_, last_connect_error_);
  }
  journal_->Sync();
  progress.Finish(Counts());
  if (rejects_) std::fclose(rejects_);
  rejects_ = nullptr;
  WriteStepOutput(plan_, opt_, *journal_, config_fp_, stats_);
  stats_.duplicate_ids = deriver_->duplicates();
  stats_.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
  return stats_;
}

}  // namespace

std::string StepDir(const std::string& results_dir, const StepPlan& plan) {
  return fmt::format("{}/step_{}_{}", results_dir, plan.index, plan.logic->Name());
}

StepStats RunStep(const StepPlan& plan, Teacher* teacher, const RunOptions& options) {
  Runner runner(plan, teacher, options);
  return runner.Run();
}

}  // namespace groundcap
