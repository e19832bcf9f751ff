// The step runner when step code never returns: a CPU round blocked in a
// real blocking call (open() of a FIFO nobody writes) is left behind at the
// end of the grace period or at its sample deadline, the run ends with the
// rest recorded, and a resume redoes what was left.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/cpu_pool.h"
#include "engine/step_runner.h"
#include "engine/step_runner_test_util.h"
#include "util/log.h"

namespace groundcap {
namespace {

using testing_util::Captions;
using testing_util::EchoStep;
using testing_util::FakeTeacher;
using testing_util::Fixture;
using testing_util::J;
using testing_util::JournalEntries;
using testing_util::MakeInput;
using testing_util::RunLogic;

/// EchoStep whose Begin first reads `path` to its end for captions starting
/// with "FIFO": a FIFO nobody writes blocks it in open(), as a hung
/// filesystem would.
class FifoStep : public EchoStep {
 public:
  explicit FifoStep(std::string path) : path_(std::move(path)) {}
  StepAction Begin(SampleJob& job) override {
    if (job.record["caption"].get<std::string>().rfind("FIFO", 0) == 0) {
      ++entered;
      int fd = ::open(path_.c_str(), O_RDONLY);
      if (fd >= 0) {
        char buf[64];
        while (::read(fd, buf, sizeof buf) > 0) {
        }
        ::close(fd);
      }
    }
    return EchoStep::Begin(job);
  }
  std::atomic<int> entered{0};

 private:
  std::string path_;
};

/// Unblocks every reader waiting in open() on the FIFO (a writer opens and
/// closes it: they see end of file). Returns false when nobody was waiting.
bool ReleaseFifo(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

/// Polls `done` every 10 ms for up to `limit`; true when it became true.
template <class F>
bool WaitFor(F done, std::chrono::seconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

/// Input of `n` samples where sample `k` is "FIFO<k>" for each k in `stuck`.
Fixture StuckInput(const std::string& name, int n, const std::vector<int>& stuck) {
  std::vector<std::string> lines = Captions(n);
  for (int k : stuck)
    lines[k] = DumpJsonLine(J{{"image_path", "img/x.jpg"}, {"caption", "FIFO" + std::to_string(k)}, {"extra", k}});
  Fixture f = MakeInput(name, lines);
  EXPECT_EQ(::mkfifo((f.dir + "/fifo").c_str(), 0600), 0);
  return f;
}

/// Replaces the FIFO by an empty regular file: the next run reads it at once.
void UnblockForGood(const Fixture& f) {
  std::filesystem::remove(f.dir + "/fifo");
  std::ofstream(f.dir + "/fifo").close();
}

/// Frees the threads a test left stuck on the FIFO and waits until they are gone.
void ReleaseStuck(const std::string& fifo) {
  EXPECT_TRUE(WaitFor(
      [&] {
        ReleaseFifo(fifo);
        return StuckCpuWorkers() == 0;
      },
      std::chrono::seconds(20)));
}

TEST(StepRunnerStuckTest, GracePeriodEndsARunWhoseWorkerIsStuck) {
  Fixture f = StuckInput("stuck_grace", 8, {2});
  const std::string fifo = f.dir + "/fifo";
  auto step = std::make_shared<FifoStep>(fifo);
  FakeTeacher t(1);
  std::atomic<bool> run_over{false}, watchdog_fired{false};
  std::thread stopper([&] {
    // Every other sample recorded, the FIFO one blocked: now the signal.
    WaitFor([&] { return JournalEntries(f) == 7 && step->entered == 1; }, std::chrono::seconds(30));
    RequestStop();
    // Safety net so a regression fails instead of hanging: free the worker
    // if the run has not ended long after its grace period.
    if (!WaitFor([&] { return run_over.load(); }, std::chrono::seconds(30))) {
      watchdog_fired = true;
      WaitFor([&] { return run_over.load() || (ReleaseFifo(fifo), false); }, std::chrono::seconds(60));
    }
  });
  RunOptions o;
  o.max_workers = 4;
  o.cpu_threads = 2;
  o.grace_s = 0.2;
  StepStats s = RunLogic(f, &t, step, o);
  run_over = true;
  stopper.join();
  StopSignalCount().store(0);
  EXPECT_FALSE(watchdog_fired) << "the run waited for the stuck worker";
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.stop_reason, "signal");
  EXPECT_EQ(s.unrecorded, 1);
  EXPECT_EQ(JournalEntries(f), 7);  // the others are recorded, the stuck one is not
  EXPECT_FALSE(std::filesystem::exists(f.dir + "/results/step_0_echo/annotations.jsonl"));
  EXPECT_EQ(StuckCpuWorkers(), watchdog_fired ? 0 : 1);  // left behind, still blocked
  ReleaseStuck(fifo);

  // Resume: only the stuck sample is redone.
  UnblockForGood(f);
  FakeTeacher t2(1);
  s = RunLogic(f, &t2, std::make_shared<FifoStep>(fifo), o);
  EXPECT_FALSE(s.stopped) << s.stop_reason;
  EXPECT_EQ(s.succeeded, 8);
  EXPECT_EQ(t2.requests(), 1);
}

TEST(StepRunnerStuckTest, SampleDeadlineFailsAStuckCpuRoundAndTheRunGoesOn) {
  // One CPU thread: without a replacement for the stuck one, nothing else
  // could run. One sample at a time, so only the stuck ones reach a deadline.
  Fixture f = StuckInput("stuck_deadline", 6, {1, 4});
  const std::string fifo = f.dir + "/fifo";
  auto step = std::make_shared<FifoStep>(fifo);
  FakeTeacher t(1);
  std::atomic<bool> run_over{false}, watchdog_fired{false};
  std::thread watchdog([&] {
    if (!WaitFor([&] { return run_over.load(); }, std::chrono::seconds(40))) {
      watchdog_fired = true;
      WaitFor([&] { return run_over.load() || (ReleaseFifo(fifo), false); }, std::chrono::seconds(60));
    }
  });
  RunOptions o;
  o.max_workers = 1;
  o.cpu_threads = 1;
  o.sample_deadline_s = 1;
  StepStats s = RunLogic(f, &t, step, o);
  run_over = true;
  watchdog.join();
  EXPECT_FALSE(watchdog_fired) << "the deadline did not end the stuck rounds";
  EXPECT_FALSE(s.stopped) << s.stop_reason;
  EXPECT_EQ(s.succeeded, 4);
  EXPECT_EQ(s.failed, 2);
  EXPECT_EQ(s.failed_by_kind["deadline"], 2);
  std::vector<J> out = testing_util::ReadOutput(s.output_path);
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[1]["status"], "failed");
  EXPECT_EQ(out[1]["caption"], "FIFO1");  // recorded from the record as admitted
  EXPECT_EQ(out[1]["error"]["kind"], "deadline");
  EXPECT_EQ(StuckCpuWorkers(), watchdog_fired ? 0 : 2);
  ReleaseStuck(fifo);

  // retry_failed redoes them once the file reads.
  UnblockForGood(f);
  o.retry_failed = true;
  s = RunLogic(f, &t, std::make_shared<FifoStep>(fifo), o);
  EXPECT_EQ(s.succeeded, 6);
}

// A real SIGTERM to a process whose worker is blocked in open(): it exits
// with kExitStopped after the grace period (not at a second signal), its
// journal holding every other sample.
TEST(StepRunnerStuckTest, SigtermEndsTheProcessDespiteAStuckWorker) {
  Fixture f = StuckInput("stuck_sigterm", 10, {3});
  const std::string fifo = f.dir + "/fifo";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    SetLogLevel(LogLevel::kOff);
    InstallSignalHandlers();
    FakeTeacher t(1);
    RunOptions o;
    o.max_workers = 4;
    o.cpu_threads = 2;
    o.grace_s = 0.3;
    StepStats s = RunLogic(f, &t, std::make_shared<FifoStep>(fifo), o);
    // As main() does with a worker left behind: no teardown under it.
    _exit(StuckCpuWorkers() == 1 && s.stopped ? kExitStopped : 100);
  }
  ASSERT_TRUE(WaitFor([&] { return JournalEntries(f) == 9; }, std::chrono::seconds(30)));
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  bool exited = WaitFor([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, std::chrono::seconds(30));
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  ASSERT_TRUE(exited) << "one SIGTERM did not end the process";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), kExitStopped);
  EXPECT_EQ(JournalEntries(f), 9);

  UnblockForGood(f);
  FakeTeacher t(1);
  StepStats s = RunLogic(f, &t, std::make_shared<FifoStep>(fifo));
  EXPECT_EQ(s.succeeded, 10);
  EXPECT_EQ(t.requests(), 1);
}

}  // namespace
}  // namespace groundcap
