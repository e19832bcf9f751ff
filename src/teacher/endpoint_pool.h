// A pool of teacher endpoints (several servers, or several keys of one API):
// which endpoint the next request goes to (fewest outstanding requests
// relative to capacity), a circuit breaker per endpoint (closed -> open ->
// half-open probe -> closed), a 429 cool-down per endpoint, and per-endpoint
// counters. Pure logic with an injected clock (seconds on any monotonic
// scale), no I/O: teacher_client.cc drives it from the network thread.
#ifndef GROUNDCAP_ENDPOINT_POOL_H_
#define GROUNDCAP_ENDPOINT_POOL_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace groundcap {

/// When an endpoint is taken out and for how long.
struct BreakerPolicy {
  /// Consecutive server-side failures (5xx, timeouts, broken transfers) that
  /// open the breaker. A refused connection (kConnect) opens it at once: the
  /// server is not there.
  int failures_to_open = 3;
  double open_s = 2;       ///< first open period; doubles with each reopening
  double max_open_s = 60;  ///< cap on the open period
};

/// What the pool shows of one endpoint in run_summary.json.
struct EndpointCounters {
  std::string name;               ///< URL without credentials (or "url (key k)")
  int max_in_flight = 0;
  int64_t requests = 0;           ///< HTTP attempts sent here
  int64_t ok = 0;                 ///< attempts answered with a usable reply
  std::map<std::string, int64_t> errors;  ///< failed attempts by ErrorKindName
  int64_t rate_limited = 0;       ///< 429 / RESOURCE_EXHAUSTED answers
  int64_t breaker_openings = 0;   ///< times taken out of the pool
  double latency_sum_s = 0;       ///< of answered attempts (ok or not)
  int64_t answered = 0;
  int in_flight_peak = 0;
  std::string retired;            ///< why it was taken out for good (its key's quota, a refused key)
  nlohmann::json ToJson() const;
};

/// The pool. Not thread-safe: one owner (the network thread).
class EndpointPool {
 public:
  /// One endpoint's capacity; max_in_flight >= 1.
  struct Spec {
    std::string name;
    int max_in_flight = 1;
  };
  EndpointPool(std::vector<Spec> endpoints, BreakerPolicy policy);

  /// Where the next request may go at `now`.
  struct Choice {
    int index = -1;      ///< >= 0: send there (then call Begin)
    /// index < 0: seconds until one may be free (cool-down or open period
    /// ends); 0 when only a completion can free one.
    double wait_s = 0;
    /// index < 0 and every endpoint is open, has failed its probe too
    /// (opened at least twice in a row) and could not be reached the last
    /// time (kConnect): the pool is gone, not busy or erring (a server that
    /// answers 5xx keeps its requests waiting and retried, as one URL does).
    bool all_down = false;
  };
  /// The usable endpoint with the lowest outstanding/max_in_flight (ties:
  /// the larger capacity, then the lower index), skipping `avoid` (the one a
  /// retry just failed on) unless it is the only usable one. Usable: closed,
  /// or open past its period (then the request is its half-open probe, and
  /// no other request goes there until the probe is answered); below its
  /// capacity; not cooling down after a 429.
  Choice Choose(double now, int avoid = -1) const;
  /// A request was sent to `i`.
  void Begin(int i, double now);
  /// The attempt on `i` got an answer that says the endpoint works (a usable
  /// reply, or an error about the request itself such as a 400).
  /// `error` = the request's own error, counted but not held against `i`.
  void Complete(int i, double now, double latency_s, const Error* error = nullptr);
  /// The attempt on `i` failed because of the endpoint: kConnect, kTimeout,
  /// kTransport, 5xx (kHttp) count toward the breaker; kRateLimited holds
  /// `i` (only) until `retry_at`. `answered`: a response arrived (latency
  /// counts), as opposed to a connection that failed.
  void Fail(int i, const Error& error, double now, double latency_s, double retry_at = 0);
  /// Whether an endpoint other than `i` is in service at `now` (closed or due
  /// for its probe, not cooling down), busy or not: a retry of a request
  /// that failed on `i` can queue for it instead of waiting out i's delay.
  bool OtherInService(int i, double now) const;
  /// Nothing new goes to `i` before `until` (rate-limit headers; extends only).
  void CoolDown(int i, double until);
  /// Takes `i` out for the rest of the run: its key's quota is spent or its
  /// key is refused, which waiting does not cure; other endpoints (other
  /// servers, other keys) carry on.
  void Retire(int i, const std::string& why);
  /// Endpoints not retired.
  int remaining() const;
  /// Auth errors in a row from `i` (Complete with a kAuth error; reset by
  /// any other answer).
  int auth_failures(int i) const { return endpoints_[i].auth_failures; }
  /// Whether a failure of this kind is the endpoint's fault (breaker).
  static bool CountsAgainstEndpoint(const Error& error);

  size_t size() const { return endpoints_.size(); }
  int outstanding(int i) const { return endpoints_[i].outstanding; }
  bool open(int i, double now) const;
  const EndpointCounters& counters(int i) const { return endpoints_[i].counters; }
  std::vector<EndpointCounters> AllCounters() const;
  /// "url: refused (open 3.5s more); ..." for the all-down stop message.
  std::string DownReport(double now) const;

 private:
  enum class State { kClosed, kOpen, kHalfOpen };
  struct Endpoint {
    Spec spec;
    State state = State::kClosed;
    int outstanding = 0;
    int consecutive_failures = 0;
    int consecutive_openings = 0;  ///< reset by a success
    double open_until = 0;
    double cooldown_until = 0;
    std::string last_error;
    bool unreachable = false;      ///< the last failure was kConnect
    bool retired = false;          ///< Retire: out for the rest of the run
    int auth_failures = 0;         ///< kAuth answers in a row
    EndpointCounters counters;
  };
  bool Usable(const Endpoint& e, double now) const;
  void Open(Endpoint& e, double now);

  std::vector<Endpoint> endpoints_;
  BreakerPolicy policy_;
};

}  // namespace groundcap

#endif  // GROUNDCAP_ENDPOINT_POOL_H_
