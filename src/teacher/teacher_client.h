// The Teacher implementation: one network thread drives libcurl's multi
// interface for every request in flight, with a client-side rate limiter,
// retry timers and a shared 429 cool-down. What goes on the wire is decided
// by a Backend (backend.h; openai_backend.h, gemini_backend.h), which is pure.
#ifndef GROUNDCAP_TEACHER_CLIENT_H_
#define GROUNDCAP_TEACHER_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "teacher/backend.h"
#include "teacher/endpoint_pool.h"
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
  /// When an endpoint of a pool is taken out, and for how long.
  BreakerPolicy breaker;
};

/// One server (or one key of an API) of a teacher pool.
struct TeacherEndpoint {
  /// Builds requests for this endpoint. Every endpoint of a pool has the same
  /// wire format, model and options; only the URL and credentials differ.
  std::unique_ptr<Backend> backend;
  std::string name;       ///< for counters and messages: no credentials
  int max_in_flight = 0;  ///< requests at once here; 0 = the client's max_in_flight
};

/// Starts the network thread. The client owns the backend.
std::unique_ptr<Teacher> MakeTeacherClient(std::unique_ptr<Backend> backend,
                                           TeacherClientOptions options);

/// A client over a pool of endpoints (at least one): each request goes to the
/// endpoint with the fewest requests outstanding relative to its capacity;
/// endpoints failing with connection errors or 5xx are taken out for a while
/// (circuit breaker) and their retries go elsewhere; a 429 holds only the
/// endpoint that sent it (endpoint_pool.h). When every endpoint is out and
/// has failed its probe too, queued requests fail with kConnect at once
/// ("all teacher endpoints are down"), which stops the run resumably.
std::unique_ptr<Teacher> MakeTeacherClient(std::vector<TeacherEndpoint> endpoints,
                                           TeacherClientOptions options);

}  // namespace groundcap

#endif  // GROUNDCAP_TEACHER_CLIENT_H_
