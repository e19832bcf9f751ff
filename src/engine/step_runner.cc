#include "engine/step_runner.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include <fmt/core.h>

#include "engine/cpu_pool.h"
#include "engine/runner_state.h"
#include "engine/shard.h"
#include "engine/step_output.h"
#include "util/jsonl.h"
#include "util/log.h"

namespace groundcap {

namespace {

using runner::Clock;
using runner::Event;
using runner::EventQueue;
using runner::Slot;
using runner::StepRun;

/// After the grace period the teacher is stopped and cancels what it holds.
/// A CPU round still running this long after it (time for a round that just
/// got its paid-for replies to finish and be recorded) is stuck and left
/// behind; a sample still waiting kCancelWait after it is given up on.
constexpr std::chrono::seconds kStuckAfterGrace{1};
constexpr std::chrono::seconds kCancelWait{5};

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

/// True for a failure that leaves the sample unrecorded (redone on resume).
bool Unrecorded(const Error& e) {
  return e.fatal_for_run() || e.kind == ErrorKind::kCancelled || e.kind == ErrorKind::kConnect;
}

/// One run of a chain of steps; the calling thread coordinates and is the
/// only writer of the journals. All steps share the slots (max_workers
/// samples in flight in all), and a step fed by the previous one starts on
/// a sample as soon as the previous step finished it: the teacher is kept
/// busy across the step boundary instead of draining and refilling.
class Runner {
 public:
  Runner(const std::vector<StepPlan>& plans, Teacher* teacher, const RunOptions& opt);
  /// Also runs when Run() throws (disk full, a throwing StepLogic): joins
  /// the CPU pool (its rounds own what they touch, see RunCpu).
  ~Runner() {
    pool_.reset();
    if (rejects_) std::fclose(rejects_);
  }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  std::vector<StepStats> Run();

 private:
  void Open(StepRun& s);
  void AdmitMore();
  bool NextLine(int k, JsonlLine* line);
  void Reject(StepRun& s, const JsonlLine& line, const std::string& reason);
  void HandleLine(int k, const JsonlLine& line);
  bool Feeds(int k) const { return k + 1 < static_cast<int>(steps_.size()) && steps_[k + 1].fed; }
  void Emit(int k, int64_t out_line, const nlohmann::ordered_json& record);
  void Admit(int k, SampleJob job, std::string fingerprint, int64_t out_line);
  void RunCpu(int slot_index, bool begin, std::vector<TeacherReply> replies);
  void OnEvent(Event& e);
  void OnAction(int slot_index, StepAction& action);
  void Finish(int slot_index, const nlohmann::ordered_json* output, const Error* error);
  void FinishDoneSteps();
  void FinishStep(int k);
  void CheckDeadlines();
  void AbandonStuckRounds();
  void OnConnectFailure(const Error& error);
  Error DeadlineError() const {
    return Error::Make(ErrorKind::kDeadline, fmt::format("sample took longer than {} s", opt_.sample_deadline_s));
  }
  void StopAdmitting(const std::string& reason);
  ProgressCounts Counts(int k) const;
  bool AllFinished() const {
    for (const StepRun& s : steps_)
      if (!s.finished) return false;
    return true;
  }

  Teacher* teacher_;
  RunOptions opt_;
  std::vector<StepRun> steps_;
  std::shared_ptr<EventQueue> queue_;
  std::unique_ptr<CpuPool> pool_;
  std::FILE* rejects_ = nullptr;
  std::vector<Slot> slots_;
  int in_flight_ = 0;
  bool stop_admitting_ = false;
  Clock::time_point t0_;
  int stuck_limit_ = 4;                ///< stuck CPU workers that stop the run
  int64_t connect_streak_ = 0;         ///< samples in a row that never reached the teacher
  std::string last_connect_error_;
};

Runner::Runner(const std::vector<StepPlan>& plans, Teacher* teacher, const RunOptions& opt)
    : teacher_(teacher), opt_(opt), steps_(plans.size()), queue_(std::make_shared<EventQueue>()) {
  for (size_t k = 0; k < plans.size(); ++k) {
    StepRun& s = steps_[k];
    s.plan = &plans[k];
    if (k == 0) continue;
    namespace fs = std::filesystem;  // "out/" and "out" name the same results_dir
    const fs::path previous_output = StepDir(opt_.results_dir, plans[k - 1]) + "/annotations.jsonl";
    s.fed = fs::path(plans[k].input_jsonl).lexically_normal() == previous_output.lexically_normal();
  }
}

void Runner::Open(StepRun& s) {
  s.stats.name = s.plan->logic->Name();
  std::string dir = StepDir(opt_.results_dir, *s.plan);
  std::error_code ec;
  std::filesystem::create_directories(dir + "/.ckpt", ec);
  if (ec) throw SetupError(fmt::format("cannot create {}: {}", dir, ec.message()));
  s.journal = std::make_unique<Journal>(dir + "/.ckpt/journal.jsonl", opt_.journal_sync_s);
  s.deriver = std::make_unique<SampleIdDeriver>(s.plan->logic->ImageKey());
  s.config_fp = s.plan->logic->ConfigFingerprint();
  s.progress = std::make_unique<Progress>(StepDir("", *s.plan).substr(1), opt_.progress);
  GC_INFO("{}: reading {}{} ({} checkpoints loaded)", s.stats.name, s.plan->input_jsonl,
          s.fed ? " as the previous step writes it" : "", s.journal->size());
}

void Runner::StopAdmitting(const std::string& reason) {
  if (stop_admitting_) return;
  stop_admitting_ = true;
  for (StepRun& s : steps_) {
    if (s.finished || s.stats.stopped) continue;
    s.stats.stopped = true;
    s.stats.stop_reason = reason;
  }
  GC_WARN("stopping ({}); {} samples still in flight (recorded if they finish, else redone on resume)", reason,
          in_flight_);
}

void Runner::Reject(StepRun& s, const JsonlLine& line, const std::string& reason) {
  // A line without an id is reported by one shard only.
  if (opt_.shard_count > 0 && ShardOfLine(line.text, opt_.shard_count) != opt_.shard_index) return;
  ++s.stats.rejected;
  GC_WARN("{}:{}: rejected: {}", s.plan->input_jsonl, line.line, reason);
  if (!rejects_) return;
  nlohmann::ordered_json j;
  j["file"] = s.plan->input_jsonl;
  j["line"] = line.line;
  j["step"] = s.stats.name;
  j["reason"] = reason;
  j["text"] = line.text.substr(0, 300);
  std::string text = DumpJsonLine(j) + "\n";
  std::fwrite(text.data(), 1, text.size(), rejects_);
  std::fflush(rejects_);
}

/// The next input line of step `k`, or false when there is none now. Later
/// steps are asked first (AdmitMore): a sample further along finishes sooner.
bool Runner::NextLine(int k, JsonlLine* line) {
  StepRun& s = steps_[k];
  if (s.input_done) return false;
  if (s.fed) {
    if (s.feed.empty()) return false;
    *line = std::move(s.feed.front());
    s.feed.pop_front();
    return true;
  }
  if (!s.reader) {
    for (int j = 0; j < k; ++j) {
      if (!steps_[j].finished) return false;  // an input file of this run: written when they end
      if (steps_[j].stats.stopped) {          // and not started after an unfinished step
        s.input_done = s.stats.stopped = true;
        s.stats.stop_reason = steps_[j].stats.stop_reason;
        return false;
      }
    }
    s.reader = std::make_unique<JsonlReader>(s.plan->input_jsonl);
  }
  if ((opt_.limit > 0 && s.lines_seen >= opt_.limit) || !s.reader->Next(line)) {
    s.input_done = true;
    return false;
  }
  ++s.lines_seen;
  return true;
}

void Runner::AdmitMore() {
  while (!stop_admitting_ && in_flight_ < static_cast<int>(slots_.size())) {
    bool handled = false;
    for (int k = static_cast<int>(steps_.size()) - 1; k >= 0 && !handled && !stop_admitting_; --k) {
      JsonlLine line;
      if (!NextLine(k, &line)) continue;
      HandleLine(k, line);
      handled = true;
    }
    if (!handled) return;
  }
}

void Runner::HandleLine(int k, const JsonlLine& line) {
  StepRun& s = steps_[k];
  const StepLogic& logic = *s.plan->logic;
  if (line.too_long) return Reject(s, line, "line too long");
  bool repaired = false;
  Result<nlohmann::ordered_json> rec = ParseJsonObjectLine(line.text, &repaired);
  if (!rec) return Reject(s, line, rec.error().message);
  if (std::optional<std::string> why = InputRejectReason(logic, *rec)) return Reject(s, line, *why);
  SampleJob job;
  job.sample_id = s.deriver->Derive(*rec);  // every record: ids are those of the whole input
  if (opt_.shard_count > 0 && ShardOf(job.sample_id, opt_.shard_count) != opt_.shard_index) return;
  ++s.stats.read;
  const int64_t out_line = ++s.out_lines;  // the same lines WriteStepOutput writes
  job.line = line.line;
  if (repaired) job.warnings.push_back("invalid UTF-8 in the input line was replaced by U+FFFD");
  job.record = std::move(*rec);
  if (IsUpstreamFailure(job.record) || IsUpstreamFlagged(job.record)) {
    ++s.run_done;  // passed through, no teacher call
    if (Feeds(k)) Emit(k, out_line, PassThroughRecord(std::move(job.record), job.sample_id));
    return;
  }
  std::string fp = Fingerprint(s.config_fp, job.record);
  std::optional<JournalIndexEntry> e = s.journal->Find(job.sample_id);
  if (!opt_.force_reprocess && e) {
    bool skip = false;
    if (e->fingerprint != fp) {
      ++s.stats.changed;
    } else if (e->status == JournalStatus::kOk) {
      ++s.stats.resumed;
      skip = true;
    } else if (!opt_.retry_failed) {
      ++s.stats.resumed_failed;
      ++s.run_failed;
      skip = true;
    } else {
      ++s.stats.retried_failed;
    }
    if (skip) {
      ++s.run_done;
      if (Feeds(k)) {
        Result<JournalEntry> entry = s.journal->Read(e->offset);
        if (!entry) throw SetupError(entry.error().message);
        Emit(k, out_line, JudgedRecord(logic, std::move(entry->record)));
      }
      return;
    }
  }
  if (opt_.admission) {
    if (std::optional<std::string> why = opt_.admission->Admit(s.plan->index, job)) return StopAdmitting(*why);
  }
  Admit(k, std::move(job), std::move(fp), out_line);
}

/// Hands a finished sample of step `k` (Feeds(k)), as step k's output will
/// hold it, to step k + 1: as the line it will read there, so both see the
/// same record (and fingerprint) whether fed or reading the file. Callers
/// ask Feeds first, so the last step does not judge and dump every record
/// twice (WriteStepOutput does it once).
void Runner::Emit(int k, int64_t out_line, const nlohmann::ordered_json& record) {
  JsonlLine line;
  line.line = out_line;
  line.text = DumpJsonLine(record);
  steps_[k + 1].feed.push_back(std::move(line));
}

void Runner::Admit(int k, SampleJob job, std::string fingerprint, int64_t out_line) {
  int idx = 0;
  while (slots_[idx].busy) ++idx;
  Slot& s = slots_[idx];
  s.busy = true;
  ++s.gen;
  s.step = k;
  s.out_line = out_line;
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
  ++steps_[k].in_flight;
  ++steps_[k].stats.processed;
  RunCpu(idx, true, {});
}

void Runner::RunCpu(int slot_index, bool begin, std::vector<TeacherReply> replies) {
  Slot& s = slots_[slot_index];
  s.in_cpu = true;
  // The round owns what it touches (the job, the step, the queue) and not
  // `this`: an abandoned round may return after the run is over.
  std::shared_ptr<SampleJob> job = s.job;
  std::shared_ptr<StepLogic> logic = steps_[s.step].plan->logic;
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
  if (e.kind == Event::Kind::kReply) {  // what the step cost, late replies included
    StepStats& cost = steps_[e.step].stats;
    cost.requests += e.reply.attempts;
    cost.tokens_in += e.reply.usage.input_tokens;
    cost.tokens_out += e.reply.usage.output_tokens;
  }
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
    if (r.error && Unrecorded(*r.error)) return Finish(e.slot, nullptr, &*r.error);
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
  int step = s.step;
  std::shared_ptr<EventQueue> q = queue_;
  for (size_t i = 0; i < n; ++i) {
    // The callback only enqueues (it runs on the network thread).
    teacher_->Submit(std::move(action.requests[i]), [q, slot_index, gen, step, i](TeacherReply r) {
      Event e;
      e.kind = Event::Kind::kReply;
      e.slot = slot_index;
      e.gen = gen;
      e.step = step;
      e.index = i;
      e.reply = std::move(r);
      q->Push(std::move(e));
    });
  }
}

void Runner::Finish(int slot_index, const nlohmann::ordered_json* output, const Error* error) {
  Slot& s = slots_[slot_index];
  StepRun& st = steps_[s.step];
  if (error && Unrecorded(*error)) {
    // Not recorded: the sample stays unfinished and a resume redoes it. A
    // connection failure never reached the server, so redoing it is free.
    if (error->fatal_for_run()) StopAdmitting(fmt::format("{}: {}", ErrorKindName(error->kind), error->message));
    if (error->kind == ErrorKind::kConnect) {
      ++st.connect_unrecorded;
      OnConnectFailure(*error);
    }
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
    st.journal->Append(entry);
    ++st.run_done;
    if (error) ++st.run_failed;
    if (Feeds(s.step)) Emit(s.step, s.out_line, JudgedRecord(*st.plan->logic, std::move(entry.record)));
  }
  if (opt_.admission) opt_.admission->Finished(st.plan->index, s.sample_id);
  s.busy = false;
  ++s.gen;
  s.job.reset();
  s.admitted = SampleJob();
  s.in_cpu = false;
  s.replies.clear();
  --in_flight_;
  --st.in_flight;
}

void Runner::OnConnectFailure(const Error& error) {
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
      GC_WARN("{}: {}: a CPU worker is stuck past the deadline; leaving it behind", steps_[s.step].stats.name,
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
      GC_WARN("{}: a CPU worker is stuck; leaving it behind, its sample is redone on resume",
              steps_[s.step].stats.name);
    Error err = Error::Make(ErrorKind::kCancelled, "abandoned at the end of the grace period");
    Finish(static_cast<int>(i), nullptr, &err);
  }
}

ProgressCounts Runner::Counts(int k) const {
  const StepRun& s = steps_[k];
  ProgressCounts c;
  c.done = s.run_done;
  c.skipped = s.stats.resumed + s.stats.resumed_failed;
  c.failed = s.run_failed;
  c.in_flight = s.in_flight;
  c.records_read = s.stats.read + s.stats.rejected;
  if (s.reader) {
    c.bytes_read = s.reader->bytes_read();
    c.file_size = s.reader->file_size();
  } else if (s.fed) {  // what is known so far: the records handed over plus those still coming
    c.records_read += static_cast<int64_t>(s.feed.size()) + steps_[k - 1].in_flight;
  }
  c.input_done = s.input_done;
  return c;
}

/// Ends every step, in order, whose input is all read and whose samples
/// are all finished: its output is written (the next step's input file).
void Runner::FinishDoneSteps() {
  for (size_t k = 0; k < steps_.size(); ++k) {
    StepRun& s = steps_[k];
    if (s.finished) continue;
    if (s.fed && steps_[k - 1].finished && s.feed.empty()) s.input_done = true;
    if (!s.input_done || s.in_flight > 0) return;
    FinishStep(static_cast<int>(k));
  }
}

void Runner::FinishStep(int k) {
  StepRun& s = steps_[k];
  s.finished = true;
  if (s.connect_unrecorded > 0 && !s.stats.stopped) {
    // Fewer than workflow.stop_after_connection_failures in a row, or the
    // input ended first: the step is still unfinished, say why.
    s.stats.stopped = true;
    s.stats.stop_reason = fmt::format("{} samples could not reach the teacher (last: {}); re-run to redo them",
                                      s.connect_unrecorded, last_connect_error_);
  }
  s.journal->Sync();
  s.progress->Finish(Counts(k));
  const StepRun* before = k > 0 ? &steps_[k - 1] : nullptr;
  if (s.fed && before->stats.output_path.empty()) {
    // Its input, the previous step's output, was not written: nothing to
    // write in input order, nothing to recount; the samples it finished are
    // in its journal for the resume.
    s.stats.stopped = true;
    if (s.stats.stop_reason.empty()) s.stats.stop_reason = before->stats.stop_reason;
    s.stats.succeeded = s.run_done - s.run_failed;
    s.stats.failed = s.run_failed;
  } else if (s.reader || s.fed) {
    WriteStepOutput(*s.plan, opt_, *s.journal, s.config_fp, s.stats);
  }
  s.stats.duplicate_ids = s.deriver->duplicates();
  s.stats.elapsed_s = std::chrono::duration<double>(Clock::now() - t0_).count();
}

std::vector<StepStats> Runner::Run() {
  t0_ = Clock::now();
  for (StepRun& s : steps_) Open(s);
  rejects_ = std::fopen((opt_.results_dir + "/rejects.jsonl").c_str(), "ab");
  int cpu = opt_.cpu_threads > 0 ? opt_.cpu_threads : static_cast<int>(std::thread::hardware_concurrency());
  pool_ = std::make_unique<CpuPool>(std::max(1, cpu));
  stuck_limit_ = std::max(4, cpu);
  slots_.resize(static_cast<size_t>(std::max(1, opt_.max_workers)));

  Clock::time_point grace_end{};
  bool teacher_stopped = false;
  while (true) {
    // Also after a fatal error stopped admission: a signal still starts the grace period.
    if (StopSignalCount().load() > 0 && grace_end == Clock::time_point{}) {
      StopAdmitting("signal");
      grace_end = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(opt_.grace_s * 1000));
    }
    AdmitMore();
    FinishDoneSteps();
    if (in_flight_ == 0 && (AllFinished() || stop_admitting_)) break;
    if (grace_end != Clock::time_point{} && Clock::now() > grace_end) {
      if (!teacher_stopped) {
        GC_WARN("grace period over, cancelling {} samples in flight", in_flight_);
        if (teacher_) teacher_->Stop();
        teacher_stopped = true;
      }
      // Rounds stuck in step code (a blocking read, a loop) are left behind
      // on their threads: their samples stay unrecorded. The journals are
      // only written by this thread, so nothing is half-written.
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
    for (size_t k = 0; k < steps_.size(); ++k) {
      if (steps_[k].finished) continue;
      steps_[k].progress->Update(Counts(static_cast<int>(k)));  // the first step not finished
      break;
    }
  }
  pool_.reset();  // joins the workers left: they are idle (stuck ones were detached)
  if (rejects_) std::fclose(rejects_);
  rejects_ = nullptr;
  // A stopped run: the steps left end now, in order, without their output.
  for (size_t k = 0; k < steps_.size(); ++k)
    if (!steps_[k].finished) FinishStep(static_cast<int>(k));
  std::vector<StepStats> stats;
  for (StepRun& s : steps_) stats.push_back(std::move(s.stats));
  return stats;
}

}  // namespace

std::string StepDir(const std::string& results_dir, const StepPlan& plan) {
  return fmt::format("{}/step_{}_{}", results_dir, plan.index, plan.logic->Name());
}

std::vector<StepStats> RunSteps(const std::vector<StepPlan>& plans, Teacher* teacher, const RunOptions& options) {
  Runner runner(plans, teacher, options);
  return runner.Run();
}

StepStats RunStep(const StepPlan& plan, Teacher* teacher, const RunOptions& options) {
  return RunSteps({plan}, teacher, options).front();
}

}  // namespace groundcap
