// Shared fixture of the export tests: tests/data/export/mixed.jsonl in a
// results directory, with the image files it names (all but the one it
// names as missing) under a data root. Only tests include this.
#ifndef GROUNDCAP_EXPORT_TEST_UTIL_H_
#define GROUNDCAP_EXPORT_TEST_UTIL_H_

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "util/test_util.h"

namespace groundcap {
namespace export_test {

namespace fs = std::filesystem;

inline const fs::path kData = fs::path(GROUNDCAP_SOURCE_DIR) / "tests" / "data" / "export";

/// Code points [start, end) of UTF-8 `s`, as Python's s[start:end].
inline std::string SliceCodePoints(const std::string& s, int64_t start, int64_t end) {
  std::string out;
  int64_t cp = -1;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++cp;
    if (cp >= start && cp < end) out.push_back(static_cast<char>(c));
  }
  return out;
}

/// A temporary directory with results/annotations.jsonl (mixed.jsonl) and
/// data/images/{street,rotated}.jpg; images/not_there.jpg stays missing.
/// rotated.jpg stands for a photo stored 1200x900 with EXIF orientation 6:
/// its records carry the upright 900x1200, which is all an export reads.
class MixedResults : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gc_export_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "results");
    fs::create_directories(dir_ / "data" / "images");
    fs::create_directories(dir_ / "out");
    fs::copy_file(kData / "mixed.jsonl", dir_ / "results" / "annotations.jsonl");
    testing_util::WriteFile(dir_ / "data" / "images" / "street.jpg", "jpeg bytes");
    testing_util::WriteFile(dir_ / "data" / "images" / "rotated.jpg", "jpeg bytes");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path results() const { return dir_ / "results"; }
  fs::path data() const { return dir_ / "data"; }
  fs::path out(const std::string& name) const { return dir_ / "out" / name; }

  fs::path dir_;
};

}  // namespace export_test
}  // namespace groundcap

#endif  // GROUNDCAP_EXPORT_TEST_UTIL_H_
