// Client-side rate limits for the teacher: token buckets for requests per
// minute and tokens per minute, plus a shared cool-down that a 429 imposes on
// every worker. Pure logic with an injected clock (times are seconds on any
// monotonic scale), so tests drive it deterministically.
#ifndef GROUNDCAP_RATE_LIMIT_H_
#define GROUNDCAP_RATE_LIMIT_H_

#include <mutex>

namespace groundcap {

/// A token bucket refilled continuously at `per_minute / 60` per second.
/// The level may go negative (a large request borrows from the future), so a
/// request bigger than the bucket still starts once the bucket is full.
class TokenBucket {
 public:
  /// `per_minute` <= 0 means unlimited. `burst_s`: seconds of refill the bucket
  /// holds (its capacity), at least one unit.
  TokenBucket(double per_minute, double burst_s, double now_s);
  bool unlimited() const { return rate_per_s_ <= 0; }
  /// Seconds until `cost` may be taken (0 = now). Does not take.
  double WaitFor(double cost, double now_s);
  /// Takes `cost` (the level may go negative).
  void Take(double cost, double now_s);
  /// Adds back `amount` (negative to charge more), e.g. when actual usage
  /// differs from the estimate. Capped at capacity.
  void Adjust(double amount, double now_s);
  double level(double now_s);

 private:
  void Refill(double now_s);
  double rate_per_s_;
  double capacity_;
  double level_;
  double last_s_;
};

/// Requests/min and tokens/min buckets and the shared 429 cool-down.
/// Thread-safe; normally used by the single network thread only.
class RateLimiter {
 public:
  /// Limits <= 0 mean unlimited.
  RateLimiter(double requests_per_minute, double tokens_per_minute, double now_s);
  /// Seconds until a request estimated at `tokens` may start; 0 = start now,
  /// in which case the request and its tokens have been taken.
  double TryAcquire(double tokens, double now_s);
  /// Corrects the token charge once the server reported real usage.
  /// `actual_tokens` <= 0 means the server reported none: the estimate stays.
  void Settle(double estimated_tokens, double actual_tokens, double now_s);
  /// A rate-limit answer: nothing starts before `until_s` (extends only).
  void CoolDown(double until_s);
  double cooldown_until() const;

 private:
  mutable std::mutex mu_;
  TokenBucket requests_;
  TokenBucket tokens_;
  double cooldown_until_s_ = 0;
};

}  // namespace groundcap

#endif  // GROUNDCAP_RATE_LIMIT_H_
