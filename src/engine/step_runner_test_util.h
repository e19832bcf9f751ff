// Test doubles shared by the step runner tests (header-only; tests only): an
// in-process teacher, a one-request step, and helpers that write an input,
// run the step over it and read back its output and journal.
#ifndef GROUNDCAP_STEP_RUNNER_TEST_UTIL_H_
#define GROUNDCAP_STEP_RUNNER_TEST_UTIL_H_

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/step.h"
#include "engine/step_runner.h"
#include "teacher/teacher.h"
#include "util/jsonl.h"

namespace groundcap::testing_util {

using J = nlohmann::ordered_json;

/// In-process teacher: answers from its own thread after a short delay,
/// counts requests, can fail chosen prompts, run out of quota and act as an
/// endpoint that cannot be reached (kConnect, as TeacherClient reports it).
class FakeTeacher : public Teacher {
 public:
  explicit FakeTeacher(int delay_ms = 1, std::string counter_file = "", int delay_jitter_ms = 0)
      : delay_ms_(delay_ms), jitter_ms_(delay_jitter_ms), counter_file_(std::move(counter_file)),
        thread_([this] { Loop(); }) {}
  ~FakeTeacher() override {
    Stop();
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  void Submit(TeacherRequest request, Callback done) override {
    TeacherReply reply;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) {
        reply.error = Error::Make(ErrorKind::kCancelled, "stopped");
      } else {
        ++requests_;
        if (!counter_file_.empty()) {
          int fd = ::open(counter_file_.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
          std::string line = request.sample_id + "\n";
          ssize_t ignored = ::write(fd, line.data(), line.size());
          (void)ignored;
          ::close(fd);
        }
        reply.attempts = 1;
        if (unreachable_ || unreachable_prompts_.count(request.prompt)) {
          reply.error = Error::Make(ErrorKind::kConnect,
                                    "cannot reach http://127.0.0.1:9/v1/chat/completions: connect: refused");
        } else if (quota_after_ >= 0 && requests_ > quota_after_) {
          reply.error = Error::Make(ErrorKind::kQuotaExhausted, "daily quota");
        } else if (fail_prompts_.count(request.prompt)) {
          reply.error = Error::Make(ErrorKind::kParse, "could not parse");
        } else {
          reply.text = "echo:" + request.prompt;
        }
        int delay = delay_ms_ + (jitter_ms_ > 0 ? static_cast<int>(rng_() % jitter_ms_) : 0);
        queue_.emplace(std::chrono::steady_clock::now() + std::chrono::milliseconds(delay),
                       std::make_pair(std::move(reply), std::move(done)));
        cv_.notify_all();
        return;
      }
    }
    done(std::move(reply));
  }
  void Stop() override {
    std::multimap<std::chrono::steady_clock::time_point, std::pair<TeacherReply, Callback>> q;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
      q.swap(queue_);
    }
    for (auto& [t, item] : q) {
      item.first.error = Error::Make(ErrorKind::kCancelled, "stopped");
      item.second(std::move(item.first));
    }
  }
  TeacherStats Stats() const override {
    std::lock_guard<std::mutex> lock(mu_);
    TeacherStats s;
    s.requests = requests_;
    return s;
  }
  std::string ModelName() const override { return "fake"; }
  std::string Fingerprint() const override { return "fake"; }
  bool SupportsSchema() const override { return false; }

  int64_t requests() const { return Stats().requests; }
  void FailPrompt(const std::string& p) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_prompts_.insert(p);
  }
  void ClearFailures() {
    std::lock_guard<std::mutex> lock(mu_);
    fail_prompts_.clear();
  }
  void SetQuotaAfter(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    quota_after_ = n;
  }
  /// Every request fails with kConnect (the endpoint is down).
  void SetUnreachable(bool on) {
    std::lock_guard<std::mutex> lock(mu_);
    unreachable_ = on;
  }
  /// Requests with this prompt fail with kConnect.
  void UnreachableFor(const std::string& prompt) {
    std::lock_guard<std::mutex> lock(mu_);
    unreachable_prompts_.insert(prompt);
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!quit_) {
      if (queue_.empty()) {
        cv_.wait(lock);
        continue;
      }
      auto first = queue_.begin();
      // A copy: wait_until reads its deadline again after waking, when
      // Stop() may have freed the queue's node.
      const auto due = first->first;
      if (due > std::chrono::steady_clock::now()) {
        cv_.wait_until(lock, due);
        continue;
      }
      auto item = std::move(first->second);
      queue_.erase(first);
      lock.unlock();
      item.second(std::move(item.first));
      lock.lock();
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<std::chrono::steady_clock::time_point, std::pair<TeacherReply, Callback>> queue_;
  std::set<std::string> fail_prompts_, unreachable_prompts_;
  bool unreachable_ = false;
  int64_t requests_ = 0;
  int quota_after_ = -1;
  bool stopped_ = false, quit_ = false;
  int delay_ms_, jitter_ms_;
  std::string counter_file_;
  std::minstd_rand rng_{7};
  std::thread thread_;
};

/// Trivial step: one request with the caption as prompt; "EMPTY" captions
/// legitimately produce an empty answer without asking the teacher.
class EchoStep : public StepLogic {
 public:
  explicit EchoStep(std::string config = "v1") : config_(std::move(config)) {}
  std::string Name() const override { return "echo"; }
  std::string ConfigFingerprint() const override { return config_; }
  std::optional<std::string> ValidateInput(const J& r) const override {
    if (!r.contains("caption") || !r["caption"].is_string()) return "missing field 'caption'";
    return std::nullopt;
  }
  std::string ImageKey() const override { return "image_path"; }
  StepAction Begin(SampleJob& job) override {
    if (job.record["caption"] == "EMPTY") {
      J out = job.record;
      out["answer"] = J::array();
      return StepAction::Done(out);
    }
    TeacherRequest req;
    req.sample_id = job.sample_id;
    req.prompt = job.record["caption"].get<std::string>();
    return StepAction::Send({req});
  }
  StepAction Continue(SampleJob& job, std::vector<TeacherReply> replies) override {
    if (replies[0].error) return StepAction::Fail(*replies[0].error);
    J out = job.record;
    out["answer"] = J::array({replies[0].text});
    return StepAction::Done(out);
  }

 private:
  std::string config_;
};

struct Fixture {
  std::string dir, input;
};

inline Fixture MakeInput(const std::string& name, const std::vector<std::string>& lines) {
  Fixture f;
  f.dir = testing::TempDir() + "/runner_" + name;
  std::filesystem::remove_all(f.dir);
  std::filesystem::create_directories(f.dir);
  f.input = f.dir + "/input.jsonl";
  std::ofstream out(f.input);
  for (const std::string& l : lines) out << l << "\n";
  return f;
}

inline std::vector<std::string> Captions(int n, const std::string& prefix = "cap") {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i)
    v.push_back(DumpJsonLine(J{{"image_path", "img/" + std::to_string(i % 7) + ".jpg"},
                               {"caption", prefix + std::to_string(i)}, {"extra", i}}));
  return v;
}

/// Runs `logic` (named "echo", so JournalEntries finds its journal) over f.
inline StepStats RunLogic(const Fixture& f, Teacher* t, std::shared_ptr<StepLogic> logic, RunOptions o = {}) {
  StepPlan plan;
  plan.index = 0;
  plan.logic = std::move(logic);
  plan.input_jsonl = f.input;
  o.results_dir = f.dir + "/results";
  o.progress = false;
  std::filesystem::create_directories(o.results_dir);
  return RunStep(plan, t, o);
}

inline StepStats RunEcho(const Fixture& f, Teacher* t, const std::string& config = "v1", RunOptions o = {}) {
  return RunLogic(f, t, std::make_shared<EchoStep>(config), o);
}

inline std::vector<J> ReadOutput(const std::string& path) {
  std::vector<J> v;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) v.push_back(J::parse(line));
  return v;
}

inline int64_t JournalEntries(const Fixture& f) {
  std::ifstream in(f.dir + "/results/step_0_echo/.ckpt/journal.jsonl");
  int64_t n = -1;  // header
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

}  // namespace groundcap::testing_util

#endif  // GROUNDCAP_STEP_RUNNER_TEST_UTIL_H_
