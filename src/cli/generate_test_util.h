// Shared by the `generate` tests against loopback teachers (connect, pool,
// preflight): a directory named after the running test, a tiny dataset of
// one grey JPEG and numbered captions, and a step-0 reply with no
// expressions, so step 1 needs no request and every sample costs one.
#ifndef GROUNDCAP_GENERATE_TEST_UTIL_H_
#define GROUNDCAP_GENERATE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "image/image.h"
#include "sim/sim_server.h"
#include "util/test_util.h"

namespace groundcap::testing_util {

/// The step-0 answer "no expressions".
inline SimReply NoExpressions(const SimRequest&) {
  SimReply r;
  r.text = R"({"cleaned_caption": "A wall.", "expressions": []})";
  return r;
}

/// temp/<prefix>_<test name>_<pid>, emptied.
inline std::filesystem::path FreshTestDir(const std::string& prefix) {
  std::filesystem::path dir =
      UniqueTempDir(prefix + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  return dir;
}

/// dir/images/a.jpg (64x48 grey) and dir/input.jsonl with `samples` records
/// "a wall number <i>" on it.
inline void WriteWallDataset(const std::filesystem::path& dir, int samples) {
  Result<std::string> jpeg = EncodeImage(RgbImage::Filled(64, 48, 120), "jpeg", 90, 1);
  ASSERT_TRUE(jpeg);
  WriteFile(dir / "images/a.jpg", *jpeg);
  std::string lines;
  for (int i = 0; i < samples; ++i)
    lines += R"({"image_path": "a.jpg", "caption": "a wall number )" + std::to_string(i) + "\"}\n";
  WriteFile(dir / "input.jsonl", lines);
}

}  // namespace groundcap::testing_util

#endif  // GROUNDCAP_GENERATE_TEST_UTIL_H_
