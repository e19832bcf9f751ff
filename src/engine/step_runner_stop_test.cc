// The step runner when a run stops: quota, stop requests and signals with
// their grace period, sample deadlines, and SIGKILL followed by a resume.
#include "engine/step_runner.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/step_runner_test_util.h"
#include "util/log.h"

namespace groundcap {
namespace {

using testing_util::Captions;
using testing_util::FakeTeacher;
using testing_util::Fixture;
using testing_util::J;
using testing_util::JournalEntries;
using testing_util::MakeInput;
using testing_util::RunEcho;

TEST(StepRunnerTest, FatalQuotaStopsAndStaysResumable) {
  Fixture f = MakeInput("quota", Captions(40));
  FakeTeacher t(1);
  t.SetQuotaAfter(10);
  RunOptions o;
  o.max_workers = 4;
  StepStats s = RunEcho(f, &t, "v1", o);
  EXPECT_TRUE(s.stopped);
  EXPECT_NE(s.stop_reason.find("quota_exhausted"), std::string::npos);
  EXPECT_TRUE(s.output_path.empty());
  EXPECT_FALSE(std::filesystem::exists(f.dir + "/results/step_0_echo/annotations.jsonl"));
  int64_t recorded = JournalEntries(f);
  EXPECT_EQ(recorded, 10);  // the quota failures are not recorded
  EXPECT_EQ(s.unrecorded, 30);
  EXPECT_LE(t.requests(), 10 + 4);  // stopped admitting at the first quota error
  int64_t before = t.requests();
  t.SetQuotaAfter(-1);
  s = RunEcho(f, &t, "v1", o);
  EXPECT_FALSE(s.stopped);
  EXPECT_EQ(s.succeeded, 40);
  EXPECT_EQ(t.requests() - before, 30);
  EXPECT_EQ(JournalEntries(f), 40);
}

TEST(StepRunnerTest, StopRequestEndsCleanlyAndResumes) {
  Fixture f = MakeInput("signal", Captions(50));
  FakeTeacher t(5);
  RequestStop();
  StepStats s = RunEcho(f, &t);
  StopSignalCount().store(0);
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.stop_reason, "signal");
  s = RunEcho(f, &t);
  EXPECT_FALSE(s.stopped);
  EXPECT_EQ(s.succeeded, 50);
  EXPECT_EQ(t.requests(), 50);
}

TEST(StepRunnerTest, SampleDeadline) {
  Fixture f = MakeInput("deadline", Captions(3));
  FakeTeacher t(1500);
  RunOptions o;
  o.sample_deadline_s = 0.2;
  StepStats s = RunEcho(f, &t, "v1", o);
  EXPECT_EQ(s.failed, 3);
  EXPECT_EQ(s.failed_by_kind["deadline"], 3);
}

// A teacher nobody can reach (kConnect: refused, DNS, unreachable): the run
// stops after workflow.stop_after_connection_failures samples in a row,
// records none of them, and a plain re-run redoes them.
TEST(StepRunnerTest, UnreachableTeacherStopsTheRunWithoutRecordingFailures) {
  Fixture f = MakeInput("unreachable", Captions(40));
  FakeTeacher dead(1);
  dead.SetUnreachable(true);
  RunOptions o;
  o.max_workers = 2;
  o.stop_after_connection_failures = 5;
  StepStats s = RunEcho(f, &dead, "v1", o);
  EXPECT_TRUE(s.stopped);
  EXPECT_NE(s.stop_reason.find("teacher unreachable: 5 samples in a row"), std::string::npos) << s.stop_reason;
  EXPECT_NE(s.stop_reason.find("http://127.0.0.1:9/v1/chat/completions"), std::string::npos) << s.stop_reason;
  EXPECT_LE(dead.requests(), 5 + 2);  // not the whole input
  EXPECT_EQ(JournalEntries(f), 0);    // nothing recorded as failed
  EXPECT_EQ(s.unrecorded, 40);
  EXPECT_TRUE(s.output_path.empty());

  FakeTeacher live(1);  // the runner stopped the dead one
  s = RunEcho(f, &live, "v1", o);  // no retry_failed needed
  EXPECT_FALSE(s.stopped) << s.stop_reason;
  EXPECT_EQ(s.succeeded, 40);
  EXPECT_EQ(live.requests(), 40);
}

TEST(StepRunnerTest, ConnectionFailuresBetweenAnswersAreRedoneByAPlainRerun) {
  // Every third sample cannot connect: never 3 in a row, so the run goes on,
  // but those samples stay unrecorded and the step unfinished.
  Fixture f = MakeInput("unreachable_some", Captions(12));
  FakeTeacher t(1);
  for (int i = 0; i < 12; i += 3) t.UnreachableFor("cap" + std::to_string(i));
  RunOptions o;
  o.max_workers = 1;
  o.stop_after_connection_failures = 3;
  StepStats s = RunEcho(f, &t, "v1", o);
  EXPECT_EQ(t.requests(), 12);
  EXPECT_TRUE(s.stopped);
  EXPECT_NE(s.stop_reason.find("4 samples could not reach the teacher"), std::string::npos) << s.stop_reason;
  EXPECT_EQ(JournalEntries(f), 8);
  EXPECT_EQ(s.unrecorded, 4);

  // Fewer in a row than the limit but none reached: also stopped, unrecorded.
  Fixture g = MakeInput("unreachable_short", Captions(3));
  FakeTeacher dead(1);
  dead.SetUnreachable(true);
  o.stop_after_connection_failures = 5;
  s = RunEcho(g, &dead, "v1", o);
  EXPECT_TRUE(s.stopped);
  EXPECT_NE(s.stop_reason.find("3 samples could not reach the teacher"), std::string::npos) << s.stop_reason;
  EXPECT_EQ(JournalEntries(g), 0);

  FakeTeacher live(1);
  s = RunEcho(f, &live, "v1", o);
  EXPECT_FALSE(s.stopped) << s.stop_reason;
  EXPECT_EQ(s.succeeded, 12);
  EXPECT_EQ(live.requests(), 4);
}

/// Answers the first request with a quota error at once and holds the others
/// until Stop() (or until the test releases them).
class HoldingTeacher : public Teacher {
 public:
  void Submit(TeacherRequest, Callback done) override {
    TeacherReply r;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (submitted_++ > 0 && !stopped_) {
        held_.push_back(std::move(done));
        return;
      }
      r.error = stopped_ ? Error::Make(ErrorKind::kCancelled, "stopped")
                         : Error::Make(ErrorKind::kQuotaExhausted, "daily quota");
    }
    done(std::move(r));
  }
  void Stop() override { Release(Error::Make(ErrorKind::kCancelled, "stopped"), true); }
  /// Answers the held requests; `stop` marks the teacher stopped.
  void Release(std::optional<Error> error, bool stop) {
    std::vector<Callback> held;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop) stopped_ = true;
      held.swap(held_);
    }
    for (Callback& cb : held) {
      TeacherReply r;
      r.error = error;
      if (!error) r.text = "late";
      cb(std::move(r));
    }
  }
  bool stopped() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }
  TeacherStats Stats() const override { return {}; }
  std::string ModelName() const override { return "holding"; }
  std::string Fingerprint() const override { return "holding"; }
  bool SupportsSchema() const override { return false; }

 private:
  mutable std::mutex mu_;
  std::vector<Callback> held_;
  int submitted_ = 0;
  bool stopped_ = false;
};

TEST(StepRunnerTest, SignalAfterFatalStopStillCancelsAfterGrace) {
  Fixture f = MakeInput("fatal_then_signal", Captions(2));
  HoldingTeacher t;
  std::atomic<bool> run_over{false};
  std::thread signaller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    RequestStop();
    // Safety net so a regression fails instead of hanging: release the held
    // request if the runner never stops the teacher.
    for (int i = 0; i < 100 && !t.stopped() && !run_over; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    t.Release(std::nullopt, false);
  });
  RunOptions o;
  o.max_workers = 2;
  o.grace_s = 0.1;
  StepStats s = RunEcho(f, &t, "v1", o);
  run_over = true;
  signaller.join();
  StopSignalCount().store(0);
  EXPECT_TRUE(s.stopped);
  EXPECT_NE(s.stop_reason.find("quota_exhausted"), std::string::npos);
  EXPECT_TRUE(t.stopped());  // the runner cancelled the held request after the grace period
  EXPECT_EQ(s.unrecorded, 2);
}

// The crash test: a real step run in a child process, SIGKILLed at random
// points; after resuming, every sample appears exactly once, no line is torn
// and no finished sample was redone.
TEST(StepRunnerCrashTest, KillNineAndResume) {
  constexpr int kSamples = 300, kWorkers = 8, kKills = 6;
  std::vector<std::string> lines = Captions(kSamples);
  lines.push_back(lines[5]);  // an exact duplicate line must get its own id
  Fixture f = MakeInput("crash", lines);
  const int total = kSamples + 1;
  std::string counter = f.dir + "/requests.txt";
  auto child_run = [&] {
    pid_t pid = fork();
    if (pid == 0) {
      SetLogLevel(LogLevel::kOff);
      FakeTeacher t(20, counter, 20);
      RunOptions o;
      o.max_workers = kWorkers;
      o.cpu_threads = 2;
      StepStats s = RunEcho(f, &t, "v1", o);
      _exit(s.stopped ? 3 : 0);
    }
    return pid;
  };
  std::mt19937 rng(12345);
  int kills = 0;
  for (int i = 0; i < kKills; ++i) {
    pid_t pid = child_run();
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 120));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) ++kills;
  }
  // The kills landed mid-run: some samples recorded, not all.
  int64_t before_final = JournalEntries(f);
  EXPECT_GT(before_final, 0);
  EXPECT_LT(before_final, total);
  pid_t pid = child_run();
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_GE(kills, 1);

  // Every sample exactly once, in input order, no torn line.
  std::ifstream in(f.dir + "/results/step_0_echo/annotations.jsonl");
  std::vector<std::string> out_lines;
  for (std::string l; std::getline(in, l);) out_lines.push_back(l);
  ASSERT_EQ(static_cast<int>(out_lines.size()), total);
  std::set<std::string> ids;
  for (int i = 0; i < total; ++i) {
    J j = J::parse(out_lines[i], nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "torn line " << i;
    EXPECT_EQ(j["status"], "ok");
    EXPECT_EQ(j["extra"], i < kSamples ? i : 5);
    ids.insert(j["sample_id"].get<std::string>());
  }
  EXPECT_EQ(static_cast<int>(ids.size()), total);
  // No finished sample was redone: one journal entry per sample, and extra
  // teacher requests only for samples in flight at a kill.
  EXPECT_EQ(JournalEntries(f), total);
  std::ifstream cin(counter);
  std::map<std::string, int> per_id;
  int64_t requests = 0;
  for (std::string l; std::getline(cin, l);) {
    ++per_id[l];
    ++requests;
  }
  EXPECT_EQ(static_cast<int>(per_id.size()), total);
  EXPECT_GE(requests, total);
  EXPECT_LE(requests, total + kills * kWorkers) << "kills=" << kills;
}

}  // namespace
}  // namespace groundcap
