// Test helpers shared by the region-caption step's tests: a teacher that is
// never called and a fixture with a scratch folder and a scene image.
#ifndef GROUNDCAP_REGION_CAPTION_TEST_UTIL_H_
#define GROUNDCAP_REGION_CAPTION_TEST_UTIL_H_

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image/image.h"
#include "region_caption/region_caption.h"
#include "teacher/teacher_test_util.h"

namespace groundcap {
namespace testing_util {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

/// A teacher that is never called: the step only reads its identity.
class IdleTeacher : public Teacher {
 public:
  void Submit(TeacherRequest, Callback done) override {
    TeacherReply r;
    r.error = Error::Make(ErrorKind::kCancelled, "idle");
    done(std::move(r));
  }
  void Stop() override {}
  TeacherStats Stats() const override { return {}; }
  std::string ModelName() const override { return "test-model"; }
  std::string Fingerprint() const override { return "test/test-model"; }
  bool SupportsSchema() const override { return true; }
};


class RegionCaptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("groundcap_region_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    options_.results_dir = (dir_ / "results").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// A 200x100 grey image with a red block, written as PNG.
  std::string WriteSceneImage() {
    RgbImage img;
    img.width = 200;
    img.height = 100;
    img.pixels.assign(200 * 100 * 3, 128);
    for (int y = 20; y < 60; ++y) {
      for (int x = 100; x < 150; ++x) {
        uint8_t* p = img.at(x, y);
        p[0] = 220;
        p[1] = 30;
        p[2] = 30;
      }
    }
    auto bytes = EncodeImage(img, "png");
    EXPECT_TRUE(bytes.has_value());
    const std::string path = (dir_ / "scene.png").string();
    std::ofstream(path, std::ios::binary) << *bytes;
    return path;
  }

  SampleJob Job(ordered_json record, std::string id = "s1") {
    SampleJob job;
    job.sample_id = std::move(id);
    job.line = 1;
    job.record = std::move(record);
    return job;
  }

  fs::path dir_;
  RegionCaptionOptions options_;
  IdleTeacher teacher_;
};

}  // namespace testing_util
}  // namespace groundcap

#endif  // GROUNDCAP_REGION_CAPTION_TEST_UTIL_H_
