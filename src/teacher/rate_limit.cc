#include "teacher/rate_limit.h"

#include <algorithm>

namespace groundcap {

TokenBucket::TokenBucket(double per_minute, double burst_s, double now_s)
    : rate_per_s_(per_minute > 0 ? per_minute / 60.0 : 0),
      capacity_(std::max(1.0, rate_per_s_ * burst_s)),
      level_(capacity_),
      last_s_(now_s) {}

void TokenBucket::Refill(double now_s) {
  if (now_s > last_s_) {
    level_ = std::min(capacity_, level_ + (now_s - last_s_) * rate_per_s_);
    last_s_ = now_s;
  }
}

double TokenBucket::level(double now_s) {
  Refill(now_s);
  return level_;
}

double TokenBucket::WaitFor(double cost, double now_s) {
  if (unlimited()) return 0;
  Refill(now_s);
  double need = std::min(cost, capacity_);  // oversize requests wait for a full bucket
  if (level_ >= need) return 0;
  return (need - level_) / rate_per_s_;
}

void TokenBucket::Take(double cost, double now_s) {
  if (unlimited()) return;
  Refill(now_s);
  level_ -= cost;
}

void TokenBucket::Adjust(double amount, double now_s) {
  if (unlimited()) return;
  Refill(now_s);
  level_ = std::min(capacity_, level_ + amount);
}

// Requests may burst 5 s worth; tokens a full minute (requests are large and
// few, and servers count tokens per minute).
RateLimiter::RateLimiter(double requests_per_minute, double tokens_per_minute, double now_s)
    : requests_(requests_per_minute, 5.0, now_s), tokens_(tokens_per_minute, 60.0, now_s) {}

double RateLimiter::TryAcquire(double tokens, double now_s) {
  std::lock_guard<std::mutex> lock(mu_);
  if (now_s < cooldown_until_s_) return cooldown_until_s_ - now_s;
  double wait = std::max(requests_.WaitFor(1, now_s), tokens_.WaitFor(tokens, now_s));
  if (wait > 0) return wait;
  requests_.Take(1, now_s);
  tokens_.Take(tokens, now_s);
  return 0;
}

void RateLimiter::Settle(double estimated_tokens, double actual_tokens, double now_s) {
  if (actual_tokens <= 0) return;  // no usage reported: refunding all would lift the limit
  std::lock_guard<std::mutex> lock(mu_);
  tokens_.Adjust(estimated_tokens - actual_tokens, now_s);
}

void RateLimiter::CoolDown(double until_s) {
  std::lock_guard<std::mutex> lock(mu_);
  cooldown_until_s_ = std::max(cooldown_until_s_, until_s);
}

double RateLimiter::cooldown_until() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cooldown_until_s_;
}

}  // namespace groundcap
