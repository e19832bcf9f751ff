// Steps run as one chain (RunSteps): the second step is fed each sample as
// the first finishes it. Its outputs, checkpoints and resume must be those
// of running the steps one after the other, the teacher must never see more
// than max_workers samples at once, and the second step must start before
// the first has finished.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "engine/admission.h"
#include "engine/step_runner_test_util.h"

namespace groundcap {
namespace {

using testing_util::Captions;
using testing_util::FakeTeacher;
using testing_util::Fixture;
using testing_util::J;
using testing_util::MakeInput;

/// The second step: asks "second:<caption>" of every record the first step
/// answered, and flags (blocking) an answer that mentions "doubt", so that
/// a flagged record reaches a later step only as a pass-through.
class SecondStep : public StepLogic {
 public:
  std::string Name() const override { return "second"; }
  std::string ConfigFingerprint() const override { return "s1"; }
  std::optional<std::string> ValidateInput(const J& r) const override {
    if (r.value("status", "") == "failed") return std::nullopt;
    if (!r.contains("answer")) return "missing field 'answer' (a first-step record)";
    return std::nullopt;
  }
  std::string ImageKey() const override { return "image_path"; }
  StepAction Begin(SampleJob& job) override {
    TeacherRequest req;
    req.sample_id = "second:" + job.sample_id;
    req.prompt = "second:" + job.record["caption"].get<std::string>();
    return StepAction::Send({req});
  }
  StepAction Continue(SampleJob& job, std::vector<TeacherReply> replies) override {
    if (replies[0].error) return StepAction::Fail(*replies[0].error);
    J out = job.record;
    out["answer2"] = replies[0].text;
    return StepAction::Done(out);
  }
};

/// The first step, with a quality check: an answer with "doubt" is flagged.
class FirstStep : public testing_util::EchoStep {
 public:
  std::vector<QualityFlag> Review(const J& out) const override {
    if (out.dump().find("doubt") == std::string::npos) return {};
    return {QualityFlag{"doubtful", "the answer mentions doubt", -1, true}};
  }
};

/// Counts the teacher's outstanding requests around a FakeTeacher.
class CountingTeacher : public Teacher {
 public:
  explicit CountingTeacher(int delay_ms, int jitter_ms) : inner_(delay_ms, "", jitter_ms) {}
  void Submit(TeacherRequest request, Callback done) override {
    const int now = ++outstanding_;
    int seen = max_.load();
    while (now > seen && !max_.compare_exchange_weak(seen, now)) {
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      order_.push_back(request.sample_id);
    }
    inner_.Submit(std::move(request), [this, done = std::move(done)](TeacherReply r) {
      --outstanding_;
      done(std::move(r));
    });
  }
  void Stop() override { inner_.Stop(); }
  TeacherStats Stats() const override { return inner_.Stats(); }
  std::string ModelName() const override { return "fake"; }
  std::string Fingerprint() const override { return "fake"; }
  bool SupportsSchema() const override { return false; }

  void FailPrompt(const std::string& p) { inner_.FailPrompt(p); }
  void UnreachableFor(const std::string& p) { inner_.UnreachableFor(p); }
  int max_outstanding() const { return max_.load(); }
  std::vector<std::string> order() const {
    std::lock_guard<std::mutex> lock(mu_);
    return order_;
  }

 private:
  FakeTeacher inner_;
  std::atomic<int> outstanding_{0}, max_{0};
  mutable std::mutex mu_;
  std::vector<std::string> order_;
};

std::vector<StepPlan> Plans(const Fixture& f, const std::string& results) {
  std::vector<StepPlan> plans(2);
  plans[0].index = 0;
  plans[0].logic = std::make_shared<FirstStep>();
  plans[0].input_jsonl = f.input;
  plans[1].index = 1;
  plans[1].logic = std::make_shared<SecondStep>();
  plans[1].input_jsonl = StepDir(results, plans[0]) + "/annotations.jsonl";
  return plans;
}

RunOptions Options(const std::string& results, int workers) {
  RunOptions o;
  o.results_dir = results;
  o.max_workers = workers;
  o.progress = false;
  std::filesystem::create_directories(results);
  return o;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// An input with every kind of line a step meets: answered, failed by the
/// teacher, flagged by review, already failed upstream, duplicated, invalid.
Fixture MixedInput(const std::string& name) {
  std::vector<std::string> lines = Captions(40);
  lines.push_back(lines[3]);  // an exact duplicate: id suffix "~2"
  lines.push_back(DumpJsonLine(J{{"image_path", "x.jpg"}, {"caption", "doubt me"}}));
  lines.push_back(DumpJsonLine(J{{"image_path", "y.jpg"}, {"caption", "broken"}}));
  lines.push_back(DumpJsonLine(
      J{{"image_path", "z.jpg"}, {"caption", "z"}, {"status", "failed"}, {"error", {{"kind", "decode"}}}}));
  lines.push_back("{not json");
  lines.push_back(DumpJsonLine(J{{"image_path", "w.jpg"}}));  // no caption: rejected by the first step
  return MakeInput(name, lines);
}

TEST(StepRunnerChainTest, OutputsAndCheckpointsAreThoseOfRunningTheStepsInTurn) {
  Fixture f = MixedInput("chain_equal");
  const std::string chained = f.dir + "/chained", sequential = f.dir + "/sequential";
  CountingTeacher t1(5, 20), t2(5, 20);
  t1.FailPrompt("broken");
  t2.FailPrompt("broken");
  t1.FailPrompt("second:cap7");
  t2.FailPrompt("second:cap7");

  std::vector<StepPlan> chain = Plans(f, chained);
  std::vector<StepStats> a = RunSteps(chain, &t1, Options(chained, 6));
  std::vector<StepPlan> turn = Plans(f, sequential);
  StepStats s0 = RunStep(turn[0], &t2, Options(sequential, 6));
  StepStats s1 = RunStep(turn[1], &t2, Options(sequential, 6));

  ASSERT_EQ(a.size(), 2u);
  for (int k = 0; k < 2; ++k) {
    const std::string out = "/step_" + std::to_string(k) + (k == 0 ? "_echo" : "_second") + "/annotations.jsonl";
    const std::string want = Slurp(sequential + out);
    EXPECT_FALSE(want.empty());
    EXPECT_EQ(Slurp(chained + out), want) << out;
  }
  EXPECT_FALSE(a[0].stopped);
  EXPECT_FALSE(a[1].stopped) << a[1].stop_reason;
  EXPECT_EQ(a[0].succeeded, s0.succeeded);
  EXPECT_EQ(a[0].flagged, s0.flagged);
  EXPECT_EQ(a[0].flagged, 1);
  EXPECT_EQ(a[1].succeeded, s1.succeeded);
  EXPECT_EQ(a[1].failed, s1.failed);
  EXPECT_EQ(a[1].rejected, 0);
  EXPECT_EQ(a[0].rejected, 2);
  // The flagged, the failed and the upstream-failed records pass through
  // the second step without a request: 45 read, 3 not sent.
  EXPECT_EQ(a[1].read, 44);
  EXPECT_EQ(a[1].processed, s1.processed);
  EXPECT_EQ(a[0].requests + a[1].requests, t1.Stats().requests);
  EXPECT_EQ(a[1].requests, s1.processed);

  // The second step's checkpoints match the records of the file it reads:
  // run alone on it, nothing is redone.
  std::vector<StepPlan> again = Plans(f, chained);
  StepStats resumed = RunStep(again[1], &t1, Options(chained, 6));
  EXPECT_EQ(resumed.processed, 0);
  EXPECT_EQ(resumed.resumed + resumed.resumed_failed, a[1].processed);
}

TEST(StepRunnerChainTest, SecondStepStartsEarlyAndSlotsAreShared) {
  Fixture f = MakeInput("chain_overlap", Captions(60));
  const std::string results = f.dir + "/results";
  CountingTeacher t(10, 30);
  // results_dir spelt with a trailing slash: still the same file, still fed.
  std::vector<StepStats> s = RunSteps(Plans(f, results), &t, Options(results + "/", 8));
  ASSERT_FALSE(s[1].stopped) << s[1].stop_reason;
  EXPECT_EQ(s[1].succeeded, 60);
  EXPECT_LE(t.max_outstanding(), 8);  // max_workers over both steps, not per step
  EXPECT_EQ(t.max_outstanding(), 8);
  // The first second-step request went out while first-step samples were
  // still waiting for a slot: the step boundary does not drain the teacher.
  std::vector<std::string> order = t.order();
  ASSERT_EQ(order.size(), 120u);
  size_t first_second = order.size(), last_first = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    if (order[i].rfind("second:", 0) == 0) first_second = std::min(first_second, i);
    else last_first = i;
  }
  EXPECT_LT(first_second, 9u);  // the first freed slot goes to the second step
  EXPECT_GT(last_first, 60u);
}

/// Admits `allow` samples over both steps, then refuses.
class Allow : public AdmissionControl {
 public:
  explicit Allow(int allow) : allow_(allow) {}
  std::optional<std::string> Admit(int step, const SampleJob&) override {
    if (admitted_ >= allow_) return "test budget";
    ++admitted_;
    ++by_step_[step];
    return std::nullopt;
  }
  void Finished(int, const std::string&) override {}
  int allow_, admitted_ = 0;
  std::map<int, int> by_step_;
};

TEST(StepRunnerChainTest, AStoppedChainResumesWithoutRedoingEitherStep) {
  Fixture f = MakeInput("chain_stop", Captions(30));
  const std::string results = f.dir + "/results";
  CountingTeacher t(2, 5);
  Allow gate(25);
  RunOptions o = Options(results, 4);
  o.admission = &gate;
  std::vector<StepStats> first = RunSteps(Plans(f, results), &t, o);
  EXPECT_TRUE(first[0].stopped);
  EXPECT_TRUE(first[1].stopped);
  EXPECT_EQ(first[0].stop_reason, "test budget");
  EXPECT_EQ(gate.by_step_[0] + gate.by_step_[1], 25);
  EXPECT_GT(gate.by_step_[1], 0);  // the second step ran before the first was done
  EXPECT_FALSE(std::filesystem::exists(results + "/step_0_echo/annotations.jsonl"));
  EXPECT_FALSE(std::filesystem::exists(results + "/step_1_second/annotations.jsonl"));

  const int64_t before = t.Stats().requests;
  EXPECT_EQ(before, 25);
  std::vector<StepStats> second = RunSteps(Plans(f, results), &t, Options(results, 4));
  ASSERT_FALSE(second[1].stopped) << second[1].stop_reason;
  EXPECT_EQ(second[0].resumed, gate.by_step_[0]);
  EXPECT_EQ(second[1].resumed, gate.by_step_[1]);
  EXPECT_EQ(t.Stats().requests - before, 60 - 25);  // every sample of each step asked once in all
  EXPECT_EQ(second[1].succeeded, 30);
}

TEST(StepRunnerChainTest, AStepReadingAnotherFileWaitsAndDoesNotStartAfterAStop) {
  // The second step reads its own file, not the first step's output: it is
  // not fed, starts only when the first step has finished, and not at all
  // when the first step ended stopped: here one sample never reached the
  // teacher (fewer than stop_after_connection_failures, so admission went
  // on and the first step read all its input).
  Fixture f = MakeInput("chain_other_file", Captions(12));
  const std::string results = f.dir + "/results";
  std::vector<StepPlan> plans = Plans(f, results);
  plans[1].input_jsonl = f.dir + "/given.jsonl";
  {
    std::ofstream given(plans[1].input_jsonl);
    for (int i = 0; i < 5; ++i)
      given << DumpJsonLine(J{{"image_path", "g.jpg"}, {"caption", "g" + std::to_string(i)}, {"answer", "x"}}) << "\n";
  }
  CountingTeacher t(2, 3);
  t.UnreachableFor("cap5");
  std::vector<StepStats> stopped = RunSteps(plans, &t, Options(results, 4));
  EXPECT_TRUE(stopped[0].stopped);
  EXPECT_NE(stopped[0].stop_reason.find("could not reach the teacher"), std::string::npos) << stopped[0].stop_reason;
  EXPECT_TRUE(stopped[1].stopped);
  EXPECT_EQ(stopped[1].stop_reason, stopped[0].stop_reason);
  EXPECT_EQ(stopped[1].processed, 0);
  EXPECT_EQ(t.order().size(), 12u) << "no second-step request";

  CountingTeacher t2(2, 3);
  std::vector<StepStats> done = RunSteps(plans, &t2, Options(results, 4));
  ASSERT_FALSE(done[1].stopped) << done[1].stop_reason;
  EXPECT_EQ(done[1].succeeded, 5);
  // The first step's one request went out before the second step's.
  std::vector<std::string> order = t2.order();
  ASSERT_EQ(order.size(), 1u + 5u);
  EXPECT_EQ(order[0].rfind("second:", 0), std::string::npos);
}

}  // namespace
}  // namespace groundcap
