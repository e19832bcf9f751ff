#include "util/error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace groundcap {
namespace {

TEST(ErrorTest, KindNamesRoundTrip) {
  for (ErrorKind k : {ErrorKind::kTransport, ErrorKind::kRateLimited, ErrorKind::kQuotaExhausted,
                      ErrorKind::kParse, ErrorKind::kDeadline}) {
    EXPECT_EQ(ErrorKindFromName(ErrorKindName(k)), k);
  }
}

TEST(ErrorTest, RetryableOnlyForTransientFailures) {
  Error e = Error::Make(ErrorKind::kHttp, "x");
  e.http_status = 503;
  EXPECT_TRUE(e.retryable());
  e.http_status = 404;
  EXPECT_FALSE(e.retryable());
  EXPECT_FALSE(Error::Make(ErrorKind::kBadRequest, "x").retryable());
  EXPECT_TRUE(Error::Make(ErrorKind::kRateLimited, "x").retryable());
  EXPECT_TRUE(Error::Make(ErrorKind::kQuotaExhausted, "x").fatal_for_run());
  EXPECT_FALSE(Error::Make(ErrorKind::kRateLimited, "x").fatal_for_run());
}

TEST(ErrorTest, JsonRoundTrip) {
  Error e = Error::Make(ErrorKind::kRateLimited, "slow down");
  e.http_status = 429;
  e.retry_after_s = 3;
  e.attempts = 4;
  Error back = Error::FromJson(e.ToJson());
  EXPECT_EQ(back.kind, e.kind);
  EXPECT_EQ(back.message, e.message);
  EXPECT_EQ(back.http_status, 429);
  EXPECT_EQ(back.attempts, 4);
  EXPECT_DOUBLE_EQ(back.retry_after_s, 3);
}

}  // namespace
}  // namespace groundcap
