#include "teacher/endpoint_pool.h"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>

namespace groundcap {

nlohmann::json EndpointCounters::ToJson() const {
  nlohmann::json errs = nlohmann::json::object();
  for (const auto& [kind, n] : errors) errs[kind] = n;
  nlohmann::json j = {{"endpoint", name},
                      {"max_in_flight", max_in_flight},
                      {"requests", requests},
                      {"ok", ok},
                      {"errors", errs},
                      {"rate_limited", rate_limited},
                      {"breaker_openings", breaker_openings},
                      {"mean_latency_s", answered > 0 ? latency_sum_s / static_cast<double>(answered) : 0.0},
                      {"in_flight_peak", in_flight_peak}};
  if (!retired.empty()) j["retired"] = retired;
  return j;
}

EndpointPool::EndpointPool(std::vector<Spec> endpoints, BreakerPolicy policy) : policy_(policy) {
  policy_.failures_to_open = std::max(1, policy_.failures_to_open);
  for (Spec& s : endpoints) {
    Endpoint e;
    s.max_in_flight = std::max(1, s.max_in_flight);
    e.counters.name = s.name;
    e.counters.max_in_flight = s.max_in_flight;
    e.spec = std::move(s);
    endpoints_.push_back(std::move(e));
  }
}

bool EndpointPool::CountsAgainstEndpoint(const Error& error) {
  switch (error.kind) {
    case ErrorKind::kConnect:
    case ErrorKind::kTimeout:
    case ErrorKind::kTransport:
      return true;
    case ErrorKind::kHttp:
      return error.http_status >= 500 || error.http_status == 0;
    default:
      return false;
  }
}

bool EndpointPool::open(int i, double now) const {
  const Endpoint& e = endpoints_[i];
  return e.state == State::kOpen && now < e.open_until;
}

bool EndpointPool::Usable(const Endpoint& e, double now) const {
  if (e.retired || now < e.cooldown_until) return false;
  switch (e.state) {
    case State::kClosed: return e.outstanding < e.spec.max_in_flight;
    case State::kOpen: return now >= e.open_until;  // the half-open probe
    case State::kHalfOpen: return false;            // its probe is out
  }
  return false;
}

EndpointPool::Choice EndpointPool::Choose(double now, int avoid) const {
  Choice c;
  auto better = [&](int a, int b) {  // is a better than b?
    const Endpoint& x = endpoints_[a];
    const Endpoint& y = endpoints_[b];
    // Compare outstanding/cap without division: x.o * y.cap vs y.o * x.cap.
    const int64_t lx = static_cast<int64_t>(x.outstanding) * y.spec.max_in_flight;
    const int64_t ly = static_cast<int64_t>(y.outstanding) * x.spec.max_in_flight;
    if (lx != ly) return lx < ly;
    if (x.spec.max_in_flight != y.spec.max_in_flight) return x.spec.max_in_flight > y.spec.max_in_flight;
    return a < b;
  };
  for (int i = 0; i < static_cast<int>(endpoints_.size()); ++i) {
    if (i == avoid || !Usable(endpoints_[i], now)) continue;
    if (c.index < 0 || better(i, c.index)) c.index = i;
  }
  if (c.index < 0 && avoid >= 0 && avoid < static_cast<int>(endpoints_.size()) &&
      Usable(endpoints_[avoid], now)) {
    c.index = avoid;
  }
  if (c.index >= 0) return c;
  bool all_down = !endpoints_.empty();
  double wait = -1;
  for (const Endpoint& e : endpoints_) {
    const bool down = e.retired || (e.state == State::kOpen && now < e.open_until &&
                                    e.consecutive_openings >= 2 && e.unreachable);
    all_down = all_down && down;
    double until = std::max(e.cooldown_until, e.state == State::kOpen ? e.open_until : 0.0);
    if (until > now && (wait < 0 || until - now < wait)) wait = until - now;
  }
  c.all_down = all_down;
  c.wait_s = std::max(0.0, wait);
  return c;
}

void EndpointPool::Begin(int i, double now) {
  Endpoint& e = endpoints_[i];
  if (e.state == State::kOpen && now >= e.open_until) e.state = State::kHalfOpen;
  e.outstanding++;
  e.counters.requests++;
  e.counters.in_flight_peak = std::max(e.counters.in_flight_peak, e.outstanding);
}

void EndpointPool::Complete(int i, double /*now*/, double latency_s, const Error* error) {
  Endpoint& e = endpoints_[i];
  e.outstanding = std::max(0, e.outstanding - 1);
  e.counters.latency_sum_s += latency_s;
  e.counters.answered++;
  if (error) {
    e.counters.errors[ErrorKindName(error->kind)]++;
  } else {
    e.counters.ok++;
  }
  e.auth_failures = error && error->kind == ErrorKind::kAuth ? e.auth_failures + 1 : 0;
  // It answered: whatever was wrong with it is over.
  e.state = State::kClosed;
  e.consecutive_failures = 0;
  e.consecutive_openings = 0;
}

void EndpointPool::Fail(int i, const Error& error, double now, double latency_s, double retry_at) {
  Endpoint& e = endpoints_[i];
  e.outstanding = std::max(0, e.outstanding - 1);
  if (error.kind == ErrorKind::kCancelled) return;
  e.counters.errors[ErrorKindName(error.kind)]++;
  if (error.http_status > 0) {
    e.counters.latency_sum_s += latency_s;
    e.counters.answered++;
  }
  e.last_error = error.message;
  e.unreachable = error.kind == ErrorKind::kConnect;
  if (error.kind == ErrorKind::kRateLimited) {
    e.counters.rate_limited++;
    e.cooldown_until = std::max(e.cooldown_until, retry_at);
    // Busy is alive: a probe answered with 429 closes the breaker.
    if (e.state == State::kHalfOpen) e.state = State::kClosed;
    e.consecutive_failures = 0;
    return;
  }
  if (!CountsAgainstEndpoint(error)) {
    if (e.state == State::kHalfOpen) e.state = State::kClosed;
    return;
  }
  switch (e.state) {
    case State::kHalfOpen:
      Open(e, now);  // the probe failed: out again, for longer
      break;
    case State::kOpen:
      break;  // a request sent before it opened
    case State::kClosed:
      if (error.kind == ErrorKind::kConnect || ++e.consecutive_failures >= policy_.failures_to_open) Open(e, now);
      break;
  }
}

bool EndpointPool::OtherInService(int i, double now) const {
  for (int j = 0; j < static_cast<int>(endpoints_.size()); ++j) {
    const Endpoint& e = endpoints_[j];
    if (j == i || e.retired || now < e.cooldown_until) continue;
    if (e.state == State::kClosed || (e.state == State::kOpen && now >= e.open_until)) return true;
  }
  return false;
}

void EndpointPool::CoolDown(int i, double until) {
  endpoints_[i].cooldown_until = std::max(endpoints_[i].cooldown_until, until);
}

void EndpointPool::Open(Endpoint& e, double now) {
  const double period =
      std::min(policy_.max_open_s, policy_.open_s * std::pow(2.0, std::min(e.consecutive_openings, 30)));
  e.state = State::kOpen;
  e.open_until = now + period;
  e.consecutive_openings++;
  e.consecutive_failures = 0;
  e.counters.breaker_openings++;
}

std::vector<EndpointCounters> EndpointPool::AllCounters() const {
  std::vector<EndpointCounters> out;
  for (const Endpoint& e : endpoints_) out.push_back(e.counters);
  return out;
}

void EndpointPool::Retire(int i, const std::string& why) {
  endpoints_[i].retired = true;
  endpoints_[i].counters.retired = why;
}

int EndpointPool::remaining() const {
  int n = 0;
  for (const Endpoint& e : endpoints_) n += e.retired ? 0 : 1;
  return n;
}

std::string EndpointPool::DownReport(double now) const {
  std::string out;
  for (const Endpoint& e : endpoints_) {
    if (!out.empty()) out += "; ";
    out += fmt::format("{}: {}", e.spec.name, e.last_error.empty() ? "failing" : e.last_error);
    if (e.state == State::kOpen && now < e.open_until) out += fmt::format(" (out for {:.1f}s more)", e.open_until - now);
  }
  return out;
}

}  // namespace groundcap
