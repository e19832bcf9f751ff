// The step runner on ordinary runs: input order, resume, retry_failed,
// force_reprocess, changed fingerprints, rejected lines and throwing steps.
#include "engine/step_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/step_runner_test_util.h"
#include "util/error.h"
#include "util/jsonl.h"

namespace groundcap {
namespace {

using testing_util::Captions;
using testing_util::EchoStep;
using testing_util::FakeTeacher;
using testing_util::Fixture;
using testing_util::J;
using testing_util::MakeInput;
using testing_util::ReadOutput;
using testing_util::RunEcho;

TEST(StepRunnerTest, RunsInInputOrderWithStatusAndPassThrough) {
  Fixture f = MakeInput("basic", Captions(30));
  FakeTeacher t(2, "", 5);
  RunOptions o;
  o.max_workers = 8;
  StepStats s = RunEcho(f, &t, "v1", o);
  EXPECT_FALSE(s.stopped);
  EXPECT_EQ(s.read, 30);
  EXPECT_EQ(s.succeeded, 30);
  EXPECT_EQ(t.requests(), 30);
  std::vector<J> out = ReadOutput(f.dir + "/results/step_0_echo/annotations.jsonl");
  ASSERT_EQ(out.size(), 30u);
  std::set<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(out[i]["extra"], i);  // input order, unknown fields kept
    EXPECT_EQ(out[i]["status"], "ok");
    EXPECT_EQ(out[i]["answer"][0], "echo:cap" + std::to_string(i));
    ids.insert(out[i]["sample_id"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), 30u);
}

TEST(StepRunnerTest, ResumeSkipsFinishedSamples) {
  Fixture f = MakeInput("resume", Captions(20));
  FakeTeacher t;
  RunEcho(f, &t);
  EXPECT_EQ(t.requests(), 20);
  StepStats s = RunEcho(f, &t);
  EXPECT_EQ(t.requests(), 20);
  EXPECT_EQ(s.resumed, 20);
  EXPECT_EQ(s.processed, 0);
  EXPECT_EQ(s.succeeded, 20);
  EXPECT_EQ(ReadOutput(s.output_path).size(), 20u);
}

TEST(StepRunnerTest, FailedIsDistinctFromEmptyAndRetryFailedRedoesOnlyFailures) {
  std::vector<std::string> lines = Captions(10);
  lines.push_back(DumpJsonLine(J{{"id", "empty1"}, {"caption", "EMPTY"}}));
  lines.push_back(DumpJsonLine(J{{"id", "bad1"}, {"caption", "FAIL"}}));
  Fixture f = MakeInput("retry", lines);
  FakeTeacher t;
  t.FailPrompt("FAIL");
  StepStats s = RunEcho(f, &t);
  EXPECT_EQ(s.succeeded, 11);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.failed_by_kind["parse"], 1);
  std::vector<J> out = ReadOutput(s.output_path);
  ASSERT_EQ(out.size(), 12u);
  EXPECT_EQ(out[10]["status"], "ok");
  EXPECT_EQ(out[10]["answer"], J::array());
  EXPECT_FALSE(out[10].contains("error"));
  EXPECT_EQ(out[11]["status"], "failed");
  EXPECT_EQ(out[11]["error"]["kind"], "parse");
  EXPECT_EQ(out[11]["sample_id"], "bad1");
  EXPECT_EQ(t.requests(), 11);

  t.ClearFailures();
  s = RunEcho(f, &t);  // without retry_failed: the failure is kept
  EXPECT_EQ(t.requests(), 11);
  EXPECT_EQ(s.resumed_failed, 1);
  EXPECT_EQ(s.failed, 1);

  RunOptions o;
  o.retry_failed = true;
  s = RunEcho(f, &t, "v1", o);
  EXPECT_EQ(t.requests(), 12);  // only the failed one
  EXPECT_EQ(s.retried_failed, 1);
  EXPECT_EQ(s.failed, 0);
  EXPECT_EQ(ReadOutput(s.output_path)[11]["status"], "ok");
}

TEST(StepRunnerTest, ForceReprocessRedoesEverything) {
  Fixture f = MakeInput("force", Captions(15));
  FakeTeacher t;
  RunEcho(f, &t);
  RunOptions o;
  o.force_reprocess = true;
  StepStats s = RunEcho(f, &t, "v1", o);
  EXPECT_EQ(t.requests(), 30);
  EXPECT_EQ(s.processed, 15);
  EXPECT_EQ(ReadOutput(s.output_path).size(), 15u);
}

TEST(StepRunnerTest, FingerprintChangeRedoesAffectedSamples) {
  std::vector<std::string> lines;
  for (int i = 0; i < 10; ++i) lines.push_back(DumpJsonLine(J{{"id", "s" + std::to_string(i)}, {"caption", "c" + std::to_string(i)}}));
  Fixture f = MakeInput("fingerprint", lines);
  FakeTeacher t;
  RunEcho(f, &t);
  // One input record edited: only it is redone.
  lines[3] = DumpJsonLine(J{{"id", "s3"}, {"caption", "edited"}});
  { std::ofstream out(f.input); for (const std::string& l : lines) out << l << "\n"; }
  StepStats s = RunEcho(f, &t);
  EXPECT_EQ(s.changed, 1);
  EXPECT_EQ(t.requests(), 11);
  EXPECT_EQ(ReadOutput(s.output_path)[3]["answer"][0], "echo:edited");
  // Step config changed (model, prompt version): everything is redone.
  s = RunEcho(f, &t, "v2");
  EXPECT_EQ(s.changed, 10);
  EXPECT_EQ(t.requests(), 21);
}

TEST(StepRunnerTest, BadLinesAreRejectedWithFileLineReason) {
  std::vector<std::string> lines = Captions(3);
  lines.insert(lines.begin() + 1, "{not json");
  lines.insert(lines.begin() + 2, "[1,2,3]");
  lines.insert(lines.begin() + 3, "{\"image_path\":\"x.jpg\"}");
  lines.push_back("");
  lines.push_back(DumpJsonLine(J{{"id", "up"}, {"caption", "x"}, {"status", "failed"}, {"error", {{"kind", "timeout"}}}}));
  Fixture f = MakeInput("rejects", lines);
  FakeTeacher t;
  StepStats s = RunEcho(f, &t);
  EXPECT_EQ(s.rejected, 3);
  EXPECT_EQ(s.read, 4);
  EXPECT_EQ(s.failed_upstream, 1);
  EXPECT_EQ(s.failed, 1);
  EXPECT_EQ(s.failed_by_kind["timeout"], 1);
  EXPECT_EQ(t.requests(), 3);  // the upstream failure never reaches the teacher
  std::vector<J> rej = ReadOutput(f.dir + "/results/rejects.jsonl");
  ASSERT_EQ(rej.size(), 3u);
  EXPECT_EQ(rej[0]["file"], f.input);
  EXPECT_EQ(rej[0]["line"], 2);
  EXPECT_NE(rej[0]["reason"].get<std::string>().find("not valid JSON"), std::string::npos);
  EXPECT_EQ(rej[1]["line"], 3);
  EXPECT_EQ(rej[2]["reason"], "missing field 'caption'");
  std::vector<J> out = ReadOutput(s.output_path);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[3]["status"], "failed");
  EXPECT_EQ(out[3]["sample_id"], "up");
}

TEST(StepRunnerTest, HostileInputValuesNeverAbortTheRun) {
  std::vector<std::string> lines = Captions(2);
  lines.push_back("{\"caption\": \"x\", \"n\": 1e999}");  // nlohmann: out_of_range, not parse_error
  lines.push_back(DumpJsonLine(J{{"id", "up"}, {"caption", "x"}, {"status", "failed"}, {"error", {{"kind", 5}}}}));
  Fixture f = MakeInput("hostile", lines);
  FakeTeacher t;
  StepStats s = RunEcho(f, &t);
  EXPECT_EQ(s.rejected, 1);
  EXPECT_EQ(s.succeeded, 2);
  EXPECT_EQ(s.failed_upstream, 1);
  EXPECT_EQ(s.failed_by_kind["upstream"], 1);  // a non-string upstream kind: error replaced
  EXPECT_EQ(ReadOutput(s.output_path).size(), 3u);
}

/// Test-only steps: Begin throws a non-std exception for "INT"; ValidateInput
/// throws for "BOOM" while a slow Begin ("SLOW") is still writing its job.
class ThrowingStep : public EchoStep {
 public:
  std::optional<std::string> ValidateInput(const J& r) const override {
    if (r.value("caption", "") == "BOOM") throw SetupError("validator failed");
    return EchoStep::ValidateInput(r);
  }
  StepAction Begin(SampleJob& job) override {
    if (job.record["caption"] == "INT") throw 42;
    if (job.record["caption"] == "SLOW") {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      job.record["late"] = std::string(4096, 'x');  // the slot must still exist
      if (slow_done) *slow_done = true;
      return StepAction::Done(job.record);
    }
    return EchoStep::Begin(job);
  }
  /// Owned by the test: the step itself is gone once RunStep returns.
  std::atomic<bool>* slow_done = nullptr;
};

StepStats RunThrowing(const Fixture& f, ThrowingStep* logic, Teacher* t) {
  StepPlan plan;
  plan.index = 0;
  plan.logic = std::unique_ptr<StepLogic>(logic);
  plan.input_jsonl = f.input;
  RunOptions o;
  o.results_dir = f.dir + "/results";
  o.progress = false;
  std::filesystem::create_directories(o.results_dir);
  return RunStep(plan, t, o);
}

TEST(StepRunnerTest, NonStdExceptionInStepLogicFailsTheSample) {
  Fixture f = MakeInput("throw_int", {DumpJsonLine(J{{"caption", "INT"}}), DumpJsonLine(J{{"caption", "a"}})});
  FakeTeacher t;
  StepStats s = RunThrowing(f, new ThrowingStep, &t);  // used to std::terminate
  EXPECT_EQ(s.succeeded, 1);
  EXPECT_EQ(s.failed_by_kind["internal"], 1);
}

int OpenFds() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST(StepRunnerTest, ExceptionOutOfRunJoinsCpuRoundsAndClosesFiles) {
  Fixture f = MakeInput("throw_run", {DumpJsonLine(J{{"caption", "SLOW"}}), DumpJsonLine(J{{"caption", "BOOM"}})});
  int before = OpenFds();
  std::atomic<bool> slow_done{false};
  auto* logic = new ThrowingStep;
  logic->slow_done = &slow_done;
  EXPECT_THROW(RunThrowing(f, logic, nullptr), SetupError);
  EXPECT_TRUE(slow_done.load());  // finished before its slot was freed
  EXPECT_EQ(OpenFds(), before);   // rejects.jsonl was leaked
}

}  // namespace
}  // namespace groundcap
