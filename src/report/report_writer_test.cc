// The streaming writer without a browser: what goes into the page's data
// and summary blocks, --limit, unreadable lines, and thumbnails of an
// EXIF-rotated image (upright, downscaled, reused on the next run).
#include "report/report_writer.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image/image.h"
#include "report/report_page.h"
#include "util/error.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using testing_util::ReadFile;
using testing_util::WriteFile;

/// The JSON text of the page's data block `id`.
Json Block(const std::string& page, const std::string& id) {
  const std::string open = "<script type=\"application/json\" id=\"" + id + "\">";
  const size_t begin = page.find(open);
  EXPECT_NE(begin, std::string::npos) << id;
  const size_t end = page.find("</script>", begin);
  return Json::parse(page.substr(begin + open.size(), end - begin - open.size()));
}

class ReportWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("groundcap_report_writer_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "images");
    // A 300x200 upright image stored rotated (EXIF orientation 6): left half red.
    RgbImage upright = RgbImage::Filled(300, 200, 255);
    for (int y = 0; y < 200; ++y) {
      for (int x = 0; x < 150; ++x) upright.at(x, y)[1] = upright.at(x, y)[2] = 0;
    }
    Result<std::string> jpeg = EncodeImage(upright, "jpeg", 95, 6);
    ASSERT_TRUE(jpeg.has_value());
    WriteFile(dir_ / "images" / "rot.jpg", *jpeg);
    WriteFile(dir_ / "annotations.jsonl",
              R"({"image_path": "images/rot.jpg", "cleaned_caption": "A red half.", "status": "ok", "sample_id": "s1",
                  "image_width": 300, "image_height": 200,
                  "expressions": [{"text": "A red half", "char_span": [0, 10], "instances": [{"bbox": [0, 0, 150, 200], "score": 0.9}]}]}
not json
{"image_path": "images/missing.jpg", "caption": "</script><!-- x", "status": "failed", "sample_id": "s2",
 "error": {"kind": "image", "message": "missing"}}
{"image_path": "images/rot.jpg", "caption": "third", "status": "failed", "sample_id": "s3", "error": {"kind": "parse", "message": "m"}}
)");
    // Each record on one line (the literal above wraps them).
    std::string text = ReadFile(dir_ / "annotations.jsonl"), joined;
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n' && i + 1 < text.size() && text[i + 1] == ' ') continue;
      joined += text[i];
    }
    WriteFile(dir_ / "annotations.jsonl", joined);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ReportRequest Request() const {
    ReportRequest r;
    r.annotations = (dir_ / "annotations.jsonl").string();
    r.out = (dir_ / "page.html").string();
    r.image_root = dir_.string();
    r.title = "t";
    r.threads = 2;
    return r;
  }
  fs::path dir_;
};

TEST_F(ReportWriterTest, StreamsRecordsSkipsUnreadableLinesAndMakesUprightThumbnails) {
  ReportCounts counts = WriteReport(Request());
  EXPECT_EQ(counts.samples, 3);
  EXPECT_EQ(counts.unreadable, 1);
  EXPECT_EQ(counts.unreadable_lines, std::vector<int64_t>{2});
  EXPECT_EQ(counts.thumbnails.written, 1) << "one image named twice, one missing (not requested): "
                                          << counts.thumbnails.first_error;
  EXPECT_EQ(counts.thumbnails.failed, 0);
  const std::string page = ReadFile(dir_ / "page.html");
  EXPECT_FALSE(fs::exists(dir_ / "page.html.tmp"));
  EXPECT_NE(page.find("content=\"" + ReportContentSecurityPolicy() + "\""), std::string::npos);
  EXPECT_EQ(page.find("</script><!--"), std::string::npos) << "a caption ended the data block";
  Json samples = Block(page, "gc-samples");
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(samples[1]["cap"], "</script><!-- x");
  EXPECT_EQ(samples[0]["ln"], 1);
  EXPECT_EQ(samples[1]["ln"], 3);
  EXPECT_FALSE(samples[1].contains("th")) << "a missing image gets no thumbnail";
  EXPECT_EQ(samples[0]["th"], samples[2]["th"]);
  EXPECT_EQ(samples[2]["w"], 300) << "a failed record's size is read from the image header";
  EXPECT_EQ(samples[0]["src"], "images/rot.jpg");
  Json summary = Block(page, "gc-summary");
  EXPECT_EQ(summary["kind"], "image_grounding");
  EXPECT_EQ(summary["stats"]["failed_by_kind"], Json::parse(R"({"image": 1, "parse": 1})"));
  EXPECT_EQ(summary["notes"].size(), 1u) << summary["notes"].dump();

  // The thumbnail is upright (300x200 shown as stored 200x300), at most 480
  // wide, red on the left.
  Result<RgbImage> thumb = LoadImage((dir_ / samples[0]["th"].get<std::string>()).string());
  ASSERT_TRUE(thumb.has_value());
  EXPECT_EQ(thumb->width, 300);
  EXPECT_EQ(thumb->height, 200);
  EXPECT_GT(thumb->at(40, 100)[0], 200);
  EXPECT_LT(thumb->at(40, 100)[1], 60);
  EXPECT_GT(thumb->at(260, 100)[1], 200);

  // A second run reuses it.
  counts = WriteReport(Request());
  EXPECT_EQ(counts.thumbnails.written, 0);
  EXPECT_EQ(counts.thumbnails.reused, 1);
}

TEST_F(ReportWriterTest, LimitAndNoThumbnails) {
  ReportRequest request = Request();
  request.limit = 2;
  request.thumbnails = false;
  ReportCounts counts = WriteReport(request);
  EXPECT_EQ(counts.samples, 2);
  EXPECT_TRUE(counts.thumbs_dir.empty());
  const std::string page = ReadFile(dir_ / "page.html");
  Json samples = Block(page, "gc-samples");
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_FALSE(samples[0].contains("th"));
  EXPECT_FALSE(fs::exists(dir_ / "page_thumbs"));
  Json notes = Block(page, "gc-summary")["notes"];
  EXPECT_NE(notes.dump().find("Only the first 2 records"), std::string::npos) << notes.dump();
}

TEST_F(ReportWriterTest, MissingInputIsASetupErrorAndWritesNothing) {
  ReportRequest request = Request();
  request.annotations = (dir_ / "nope.jsonl").string();
  EXPECT_THROW(WriteReport(request), SetupError);
  EXPECT_FALSE(fs::exists(dir_ / "page.html"));
}

}  // namespace
}  // namespace groundcap
