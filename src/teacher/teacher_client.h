// The Teacher implementation: one network thread drives libcurl's multi
// interface for every request in flight, with a client-side rate limiter,
// retry timers and a shared 429 cool-down. What goes on the wire is decided
// by a Backend (backend.h; openai_backend.h, gemini_backend.h), which is pure.
#ifndef GROUNDCAP_TEACHER_CLIENT_H_
#define GROUNDCAP_TEACHER_CLIENT_H_

#include <cstdint>
#include <memory>

#include "teacher/backend.h"
#include "teacher/retry.h"
#include "teacher/teacher.h"

namespace groundcap {

/// Options of the client loop (vlm.rate_limit.*, vlm.retry.*, timeouts).
struct TeacherClientOptions {
  int max_in_flight = 4;             ///< transfers on the wire at once
  double timeout_s = 120;            ///< per HTTP request
  double connect_timeout_s = 20;
  /// Total wall time per TeacherRequest, retries included; 0 = derived from
  /// timeout and retry policy.
  double deadline_s = 0;
  RetryPolicy retry;
  double requests_per_minute = 0;    ///< 0 = unlimited
  double tokens_per_minute = 0;      ///< 0 = unlimited
  /// Consecutive auth failures after which every queued request fails with
  /// kAuth without being sent (1 = at the first).
  int auth_failures_to_stop = 2;
  uint64_t jitter_seed = 0;          ///< 0 = random
};

/// The endpoint as an error message may name it: no user:password@, no
/// query string (where keys sometimes are).
std::string EndpointForMessage(const std::string& url);

/// Starts the network thread. The client owns the backend.
std::unique_ptr<Teacher> MakeTeacherClient(std::unique_ptr<Backend> backend,
                                           TeacherClientOptions options);

}  // namespace groundcap

#endif  // GROUNDCAP_TEACHER_CLIENT_H_
