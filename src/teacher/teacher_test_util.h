// Helpers shared by the tests (header-only; tests only): a reply collector
// that waits for every callback, numbered requests, and hand-made replies.
#ifndef GROUNDCAP_TEACHER_TEST_UTIL_H_
#define GROUNDCAP_TEACHER_TEST_UTIL_H_

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "sim/sim_server.h"
#include "teacher/teacher.h"

namespace groundcap::testing_util {

/// Collects replies from callbacks and waits for all of them.
class Collector {
 public:
  Teacher::Callback Slot(size_t i) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (replies_.size() <= i) replies_.resize(i + 1);
      ++expected_;
    }
    return [this, i](TeacherReply r) {
      std::lock_guard<std::mutex> lock(mu_);
      replies_[i] = std::move(r);
      ++done_;
      cv_.notify_all();
    };
  }
  std::vector<TeacherReply> Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_ == expected_; });
    return replies_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<TeacherReply> replies_;
  size_t expected_ = 0;
  size_t done_ = 0;
};

/// Request number `i`: sample id "s<i>", prompt "p<i>".
/// A successful reply with `text`, as a step's Continue receives it.
inline TeacherReply Reply(std::string text) {
  TeacherReply r;
  r.text = std::move(text);
  r.finish = FinishReason::kStop;
  return r;
}

/// The same, cut at the token limit (finish_reason length / MAX_TOKENS).
inline TeacherReply CutReply(std::string text) {
  TeacherReply r = Reply(std::move(text));
  r.finish = FinishReason::kLength;
  return r;
}

inline TeacherRequest Req(int i) {
  TeacherRequest r;
  r.sample_id = "s" + std::to_string(i);
  r.prompt = "p" + std::to_string(i);
  return r;
}

/// Echoes the prompt, so each reply can be matched to its request.
inline SimReply Echo(const SimRequest& r) {
  SimReply reply;
  reply.text = "echo:" + r.prompt;
  return reply;
}

}  // namespace groundcap::testing_util

#endif  // GROUNDCAP_TEACHER_TEST_UTIL_H_
