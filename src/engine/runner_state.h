// The step runner's coordinator state (step_runner.cc, internal): the
// events its CPU workers and the teacher's network thread hand it, its
// sample slots and the per-step bookkeeping of a chain of steps.
#ifndef GROUNDCAP_RUNNER_STATE_H_
#define GROUNDCAP_RUNNER_STATE_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/journal.h"
#include "engine/pipeline.h"
#include "engine/progress.h"
#include "engine/sample_id.h"
#include "engine/step.h"
#include "engine/step_runner.h"
#include "teacher/teacher.h"
#include "util/jsonl.h"

namespace groundcap::runner {

using Clock = std::chrono::steady_clock;

/// What the CPU workers and teacher callbacks hand to the coordinator.
struct Event {
  enum class Kind { kCpuDone, kReply } kind = Kind::kCpuDone;
  int slot = 0;
  uint64_t gen = 0;
  int step = 0;  ///< of the sample the event belongs to (a reply's cost is counted even when late)
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
  int step = 0;           ///< index of the sample's step in the chain
  int64_t out_line = 0;   ///< the sample's line in its step's annotations.jsonl
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

/// One step of the chain and everything it owns.
struct StepRun {
  const StepPlan* plan = nullptr;
  std::string config_fp;
  std::unique_ptr<Journal> journal;
  /// Fed: the step reads the previous step's output, handed over record by
  /// record as the previous step finishes them (its annotations.jsonl is
  /// only written at its end). Otherwise `reader` streams its input file,
  /// opened once every earlier step is finished.
  bool fed = false;
  std::deque<JsonlLine> feed;
  std::unique_ptr<JsonlReader> reader;
  std::unique_ptr<SampleIdDeriver> deriver;
  std::unique_ptr<Progress> progress;
  StepStats stats;
  int in_flight = 0;
  int64_t run_done = 0, run_failed = 0;
  int64_t lines_seen = 0;          ///< input lines read (workflow.limit counts these)
  int64_t out_lines = 0;           ///< lines its output will hold so far, in input order
  int64_t connect_unrecorded = 0;  ///< samples left unrecorded: the teacher was never reached
  bool input_done = false;
  bool finished = false;           ///< output written (or the step given up at the end of a stopped run)
};

}  // namespace groundcap::runner

#endif  // GROUNDCAP_RUNNER_STATE_H_
