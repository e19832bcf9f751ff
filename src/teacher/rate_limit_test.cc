#include "teacher/rate_limit.h"

#include <gtest/gtest.h>

namespace groundcap {
namespace {

TEST(RateLimit, UnlimitedNeverWaits) {
  RateLimiter r(0, 0, 0);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(r.TryAcquire(1e6, 0), 0);
}

TEST(RateLimit, RequestsPerMinuteBurstThenSteadyRate) {
  RateLimiter r(60, 0, 0);  // 1 per second, burst 5
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.TryAcquire(0, 0), 0) << i;
  double wait = r.TryAcquire(0, 0);
  EXPECT_NEAR(wait, 1.0, 1e-9);
  EXPECT_GT(r.TryAcquire(0, 0.5), 0);
  EXPECT_EQ(r.TryAcquire(0, 1.0), 0);
  EXPECT_NEAR(r.TryAcquire(0, 1.0), 1.0, 1e-9);
}

TEST(RateLimit, TokensPerMinuteAndOversizeRequests) {
  RateLimiter r(0, 6000, 0);  // 100 tokens/s, capacity 6000
  EXPECT_EQ(r.TryAcquire(5000, 0), 0);
  EXPECT_NEAR(r.TryAcquire(2000, 0), 10.0, 1e-9);  // level 1000, need 2000
  // A request bigger than the bucket waits for a full bucket, then borrows.
  EXPECT_NEAR(r.TryAcquire(10000, 0), 50.0, 1e-9);
  EXPECT_EQ(r.TryAcquire(10000, 50), 0);
  EXPECT_GT(r.TryAcquire(1, 50), 0);  // in debt now
}

TEST(RateLimit, SettleRefundsOverestimates) {
  RateLimiter r(0, 600, 0);  // 10 tokens/s, capacity 600
  EXPECT_EQ(r.TryAcquire(600, 0), 0);
  EXPECT_GT(r.TryAcquire(100, 0), 0);
  r.Settle(600, 100, 0);  // used only 100
  EXPECT_EQ(r.TryAcquire(100, 0), 0);
}

TEST(RateLimit, SettleWithoutReportedUsageKeepsTheEstimate) {
  RateLimiter r(0, 600, 0);  // 10 tokens/s, capacity 600
  EXPECT_EQ(r.TryAcquire(600, 0), 0);
  r.Settle(600, 0, 0);  // the server sent no usage: nothing is refunded
  EXPECT_NEAR(r.TryAcquire(100, 0), 10.0, 1e-9);
}

TEST(RateLimit, CoolDownBlocksEveryoneUntilItEnds) {
  RateLimiter r(0, 0, 0);
  r.CoolDown(10);
  r.CoolDown(5);  // never shortens
  EXPECT_DOUBLE_EQ(r.TryAcquire(1, 2), 8);
  EXPECT_DOUBLE_EQ(r.cooldown_until(), 10);
  EXPECT_EQ(r.TryAcquire(1, 10), 0);
}

}  // namespace
}  // namespace groundcap
