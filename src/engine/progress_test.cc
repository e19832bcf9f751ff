#include "engine/progress.h"

#include <gtest/gtest.h>

namespace groundcap {
namespace {

TEST(ProgressTest, EstimatesTotalFromBytesRead) {
  ProgressCounts c;
  c.records_read = 100;
  c.bytes_read = 1000;
  c.file_size = 10000;
  EXPECT_EQ(EstimateTotal(c), 1000);
  c.input_done = true;
  EXPECT_EQ(EstimateTotal(c), 100);  // exact once the input is read
}

TEST(ProgressTest, FormatsLine) {
  ProgressCounts c;
  c.done = 60;
  c.skipped = 20;
  c.failed = 3;
  c.in_flight = 8;
  c.records_read = 100;
  c.bytes_read = 500;
  c.file_size = 1000;
  // 40 processed in 10 s = 4/s; 200 estimated - 60 done = 140 left = 35 s.
  EXPECT_EQ(FormatProgress("step_0_x", c, 10), "step_0_x 60/~200 failed 3 in flight 8 4.0/s ETA 35s");
}

}  // namespace
}  // namespace groundcap
