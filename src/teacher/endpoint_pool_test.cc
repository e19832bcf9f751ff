#include "teacher/endpoint_pool.h"

#include <gtest/gtest.h>

namespace groundcap {
namespace {

Error Err(ErrorKind kind, int status = 0) {
  Error e = Error::Make(kind, "boom");
  e.http_status = status;
  return e;
}

EndpointPool ThreeEqual(int cap = 2) {
  return EndpointPool({{"a", cap}, {"b", cap}, {"c", cap}}, BreakerPolicy{3, 2, 60});
}

TEST(EndpointPoolTest, SpreadsByOutstandingRelativeToCapacity) {
  EndpointPool pool({{"small", 1}, {"big", 3}}, BreakerPolicy{});
  // Empty: ties go to the larger capacity.
  std::vector<int> picks;
  for (int k = 0; k < 4; ++k) {
    EndpointPool::Choice c = pool.Choose(0);
    ASSERT_GE(c.index, 0);
    picks.push_back(c.index);
    pool.Begin(c.index, 0);
  }
  // big 0/3 -> big 1/3 vs small 0/1 -> small ... every slot filled once.
  EXPECT_EQ(pool.outstanding(0), 1);
  EXPECT_EQ(pool.outstanding(1), 3);
  EXPECT_EQ(picks[0], 1);
  EXPECT_EQ(pool.Choose(0).index, -1) << "all at capacity";
  EXPECT_FALSE(pool.Choose(0).all_down);
  pool.Complete(1, 1, 0.5);
  EXPECT_EQ(pool.Choose(1).index, 1);
}

TEST(EndpointPoolTest, ConnectFailureOpensAtOnceAndRetryGoesElsewhere) {
  EndpointPool pool = ThreeEqual();
  pool.Begin(0, 0);
  pool.Fail(0, Err(ErrorKind::kConnect), 0.1, 0);
  EXPECT_TRUE(pool.open(0, 0.1));
  EXPECT_EQ(pool.counters(0).breaker_openings, 1);
  for (int k = 0; k < 4; ++k) {
    EndpointPool::Choice c = pool.Choose(0.2);
    ASSERT_GE(c.index, 1);
    pool.Begin(c.index, 0.2);
  }
  EXPECT_EQ(pool.Choose(0.2).index, -1);
  EXPECT_NEAR(pool.Choose(0.2).wait_s, 1.9, 1e-9) << "until the open period ends";
}

TEST(EndpointPoolTest, ServerErrorsOpenAfterThresholdAndRequestErrorsDoNot) {
  EndpointPool pool = ThreeEqual();
  for (int k = 0; k < 5; ++k) {
    pool.Begin(0, 0);
    pool.Complete(0, 0, 0.1, nullptr);
    pool.Begin(0, 0);
    Error bad = Err(ErrorKind::kBadRequest, 400);
    pool.Fail(0, bad, 0, 0.1);
  }
  EXPECT_FALSE(pool.open(0, 0));
  pool.Begin(0, 0);
  pool.Fail(0, Err(ErrorKind::kHttp, 503), 0, 0.1);
  pool.Begin(0, 0);
  pool.Fail(0, Err(ErrorKind::kTimeout), 0, 0.1);
  EXPECT_FALSE(pool.open(0, 0));
  pool.Begin(0, 0);
  pool.Fail(0, Err(ErrorKind::kTransport), 1, 0.1);
  EXPECT_TRUE(pool.open(0, 1));
  EXPECT_EQ(pool.counters(0).errors.at("http"), 1);
  EXPECT_EQ(pool.counters(0).errors.at("bad_request"), 5);
  EXPECT_EQ(pool.counters(0).ok, 5);
}

TEST(EndpointPoolTest, HalfOpenProbeClosesOnSuccessAndReopensLongerOnFailure) {
  EndpointPool pool({{"a", 4}}, BreakerPolicy{3, 2, 60});
  pool.Begin(0, 0);
  pool.Fail(0, Err(ErrorKind::kConnect), 0, 0);  // open until 2
  EXPECT_EQ(pool.Choose(1.9).index, -1);
  EXPECT_FALSE(pool.Choose(1.9).all_down) << "one opening: may be a blip";
  EndpointPool::Choice probe = pool.Choose(2.0);
  ASSERT_EQ(probe.index, 0);
  pool.Begin(0, 2.0);
  EXPECT_EQ(pool.Choose(2.0).index, -1) << "only one probe at a time";
  pool.Fail(0, Err(ErrorKind::kConnect), 2.1, 0);  // reopened for 4 s
  EXPECT_TRUE(pool.open(0, 6.0));
  EXPECT_FALSE(pool.open(0, 6.1));
  EXPECT_TRUE(pool.Choose(3).all_down) << "the probe failed too";
  EXPECT_EQ(pool.counters(0).breaker_openings, 2);
  pool.Begin(0, 6.1);
  pool.Complete(0, 6.2, 0.1);
  EXPECT_FALSE(pool.open(0, 6.2));
  // Closed again, full capacity, and the next opening starts at 2 s again.
  for (int k = 0; k < 4; ++k) {
    ASSERT_EQ(pool.Choose(6.3).index, 0);
    pool.Begin(0, 6.3);
  }
  for (int k = 0; k < 4; ++k) pool.Fail(0, Err(ErrorKind::kConnect), 7, 0);
  EXPECT_TRUE(pool.open(0, 8.9));
  EXPECT_FALSE(pool.open(0, 9.0));
}

TEST(EndpointPoolTest, OpenPeriodIsCapped) {
  EndpointPool pool({{"a", 1}}, BreakerPolicy{1, 2, 5});
  double now = 0;
  for (int k = 0; k < 5; ++k) {
    pool.Begin(0, now);
    pool.Fail(0, Err(ErrorKind::kConnect), now, 0);
    now += 100;
  }
  pool.Begin(0, now);
  pool.Fail(0, Err(ErrorKind::kConnect), now, 0);
  EXPECT_TRUE(pool.open(0, now + 4.9));
  EXPECT_FALSE(pool.open(0, now + 5.0));
}

TEST(EndpointPoolTest, RateLimitSlowsOnlyThatEndpoint) {
  EndpointPool pool({{"a", 2}, {"b", 2}}, BreakerPolicy{});
  pool.Begin(0, 0);
  pool.Fail(0, Err(ErrorKind::kRateLimited, 429), 0, 0.05, 10);
  EXPECT_FALSE(pool.open(0, 0));
  EXPECT_EQ(pool.counters(0).rate_limited, 1);
  EXPECT_EQ(pool.counters(0).breaker_openings, 0);
  EXPECT_EQ(pool.Choose(1).index, 1);
  pool.Begin(1, 1);
  pool.Begin(1, 1);
  EndpointPool::Choice c = pool.Choose(1);
  EXPECT_EQ(c.index, -1);
  EXPECT_DOUBLE_EQ(c.wait_s, 9);
  EXPECT_FALSE(c.all_down);
  EXPECT_EQ(pool.Choose(10).index, 0);
  EXPECT_TRUE(pool.OtherInService(0, 1)) << "b is busy but in service";
  EXPECT_FALSE(pool.OtherInService(1, 1)) << "a is cooling down";
}

TEST(EndpointPoolTest, AvoidsTheEndpointARetryFailedOnUnlessItIsTheOnlyOne) {
  EndpointPool pool({{"a", 2}, {"b", 2}}, BreakerPolicy{});
  EXPECT_EQ(pool.Choose(0).index, 0);
  EXPECT_EQ(pool.Choose(0, 0).index, 1);
  pool.Begin(1, 0);
  pool.Begin(1, 0);
  EXPECT_EQ(pool.Choose(0, 0).index, 0);
}

TEST(EndpointPoolTest, AllDownOnlyWhenEveryEndpointFailedItsProbe) {
  EndpointPool pool = ThreeEqual(1);
  for (int i = 0; i < 3; ++i) {
    pool.Begin(i, 0);
    pool.Fail(i, Err(ErrorKind::kConnect), 0, 0);
  }
  EXPECT_FALSE(pool.Choose(1).all_down);
  for (int i = 0; i < 2; ++i) {
    pool.Begin(i, 2);
    pool.Fail(i, Err(ErrorKind::kConnect), 2, 0);
  }
  // c is past its period and usable as a probe.
  EXPECT_EQ(pool.Choose(2).index, 2);
  pool.Begin(2, 2);
  EXPECT_FALSE(pool.Choose(2.5).all_down) << "c's probe is still out";
  pool.Fail(2, Err(ErrorKind::kConnect), 3, 0);
  EndpointPool::Choice c = pool.Choose(3);
  EXPECT_TRUE(c.all_down);
  EXPECT_NEAR(c.wait_s, 3, 1e-9) << "a and b reopened at 2 for 4 s";
  EXPECT_NE(pool.DownReport(3).find("a: boom"), std::string::npos);
}

TEST(EndpointPoolTest, ServerErrorsAloneNeverMakeThePoolDown) {
  EndpointPool pool({{"a", 1}}, BreakerPolicy{1, 2, 60});
  pool.Begin(0, 0);
  pool.Fail(0, Err(ErrorKind::kHttp, 503), 0, 0.1);
  pool.Begin(0, 2);
  pool.Fail(0, Err(ErrorKind::kHttp, 503), 2, 0.1);
  EXPECT_TRUE(pool.open(0, 3));
  EXPECT_FALSE(pool.Choose(3).all_down) << "it answers: its requests wait and retry";
  pool.Begin(0, 6);
  pool.Fail(0, Err(ErrorKind::kConnect), 6, 0);
  EXPECT_TRUE(pool.Choose(7).all_down) << "now it is gone";
}

TEST(EndpointPoolTest, CountersSerialise) {
  EndpointPool pool({{"http://h:1/v1", 3}}, BreakerPolicy{});
  pool.Begin(0, 0);
  pool.Begin(0, 0);
  pool.Complete(0, 1, 1.0);
  pool.Fail(0, Err(ErrorKind::kHttp, 500), 1, 3.0);
  nlohmann::json j = pool.counters(0).ToJson();
  EXPECT_EQ(j["endpoint"], "http://h:1/v1");
  EXPECT_EQ(j["requests"], 2);
  EXPECT_EQ(j["ok"], 1);
  EXPECT_EQ(j["errors"]["http"], 1);
  EXPECT_EQ(j["in_flight_peak"], 2);
  EXPECT_DOUBLE_EQ(j["mean_latency_s"].get<double>(), 2.0);
}

}  // namespace
}  // namespace groundcap
