// The runner's admission hook (workflow.budget uses it) and workflow.limit,
// with the fake teacher: a refusal stops the step like a quota stop, every
// admitted sample is released exactly once, and a limited run reads only the
// first lines and writes an output of those.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "engine/admission.h"
#include "engine/step_runner.h"
#include "engine/step_runner_test_util.h"

namespace groundcap {
namespace {

using testing_util::Captions;
using testing_util::FakeTeacher;
using testing_util::Fixture;
using testing_util::JournalEntries;
using testing_util::MakeInput;
using testing_util::ReadOutput;
using testing_util::RunEcho;

/// Admits `allow` samples, then refuses; counts what it sees.
class CountingAdmission : public AdmissionControl {
 public:
  explicit CountingAdmission(int allow) : allow_(allow) {}
  std::optional<std::string> Admit(int, const SampleJob& job) override {
    if (admitted_ >= allow_) return "test budget";
    ++admitted_;
    ++open_[job.sample_id];
    return std::nullopt;
  }
  void Finished(int, const std::string& sample_id) override {
    ++finished_;
    if (--open_[sample_id] == 0) open_.erase(sample_id);
  }
  int admitted_ = 0, finished_ = 0, allow_;
  std::map<std::string, int> open_;
};

TEST(StepRunnerAdmissionTest, RefusalStopsTheStepAndEverySampleIsReleasedOnce) {
  Fixture f = MakeInput("admission", Captions(20));
  FakeTeacher t(2, "", 5);
  CountingAdmission gate(7);
  RunOptions o;
  o.max_workers = 4;
  o.admission = &gate;
  StepStats s = RunEcho(f, &t, "v1", o);
  EXPECT_TRUE(s.stopped);
  EXPECT_EQ(s.stop_reason, "test budget");
  EXPECT_EQ(gate.admitted_, 7);
  EXPECT_EQ(gate.finished_, 7) << "in-flight samples finish and are released";
  EXPECT_TRUE(gate.open_.empty());
  EXPECT_EQ(t.requests(), 7);
  EXPECT_EQ(JournalEntries(f), 7) << "the refused sample is left for a resume";

  CountingAdmission more(100);
  o.admission = &more;
  s = RunEcho(f, &t, "v1", o);
  EXPECT_FALSE(s.stopped);
  EXPECT_EQ(more.admitted_, 13) << "done samples are not asked about again";
  EXPECT_EQ(s.succeeded, 20);
}

TEST(StepRunnerAdmissionTest, LimitReadsTheFirstLinesAndWritesTheirOutput) {
  std::vector<std::string> lines = Captions(10);
  lines.insert(lines.begin() + 1, "not json");  // line 2: rejected, still a line
  Fixture f = MakeInput("limit", lines);
  FakeTeacher t;
  RunOptions o;
  o.limit = 4;
  StepStats s = RunEcho(f, &t, "v1", o);
  EXPECT_FALSE(s.stopped);
  EXPECT_EQ(s.rejected, 1);
  EXPECT_EQ(s.read, 3);
  EXPECT_EQ(t.requests(), 3);
  EXPECT_EQ(ReadOutput(s.output_path).size(), 3u);
  o.limit = 0;
  s = RunEcho(f, &t, "v1", o);
  EXPECT_EQ(s.resumed, 3);
  EXPECT_EQ(t.requests(), 10) << "the pilot's samples are not redone";
  EXPECT_EQ(ReadOutput(s.output_path).size(), 10u);
}

}  // namespace
}  // namespace groundcap
