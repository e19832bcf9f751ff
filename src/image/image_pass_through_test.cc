// Pass-through: which files are sent byte for byte and which are prepared,
// on real files written by the encoders, plus golden PNG header cases.
// CMYK and greyscale JPEGs (written with libjpeg) are in jpeg_codec_test.cc.
#include "image/png_chunks.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "image/image.h"
#include "util/test_util.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;
using testing_util::WriteFile;

RgbImage Gradient(int w, int h) {
  RgbImage img = RgbImage::Filled(w, h);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      uint8_t* p = img.at(x, y);
      p[0] = static_cast<uint8_t>(x);
      p[1] = static_cast<uint8_t>(y);
      p[2] = static_cast<uint8_t>(x + y);
    }
  return img;
}

class PassThroughTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("groundcap_pass_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  /// Writes `bytes` as `name` and returns the path.
  std::string Put(const std::string& name, const std::string& bytes) {
    WriteFile(dir_ / name, bytes);
    return (dir_ / name).string();
  }
  std::string Encoded(int w, int h, const std::string& format, int orientation = 1) {
    Result<std::string> bytes = EncodeImage(Gradient(w, h), format, 90, orientation);
    EXPECT_TRUE(bytes) << (bytes ? "" : bytes.error().message);
    return bytes ? *bytes : "";
  }
  static PrepareOptions Options(bool pass) {
    PrepareOptions o;
    o.pass_through = pass;
    return o;
  }
  fs::path dir_;
};

TEST_F(PassThroughTest, FittingJpegPngWebpAreSentAsTheyAre) {
  for (const char* format : {"jpeg", "png", "webp"}) {
    const std::string bytes = Encoded(640, 480, format);
    const std::string path = Put(std::string("a.") + format, bytes);
    Result<PreparedImage> p = PrepareForTeacher(path, Options(true));
    ASSERT_TRUE(p) << p.error().message;
    EXPECT_TRUE(p->passed_through) << format;
    EXPECT_EQ(p->bytes, bytes) << format;
    EXPECT_EQ(p->mime, std::string("image/") + format);
    EXPECT_EQ(p->sent, (Size{640, 480}));
    EXPECT_EQ(p->original.upright, (Size{640, 480}));
  }
}

TEST_F(PassThroughTest, GeometryIsTheSameWithAndWithout) {
  // 672 x 476 are multiples of 28, so smart_resize keeps them too.
  for (PrepareOptions::Resize mode : {PrepareOptions::Resize::kPixelBudget,
                                      PrepareOptions::Resize::kSmartResize,
                                      PrepareOptions::Resize::kNone}) {
    const std::string path = Put("g.jpg", Encoded(672, 476, "jpeg"));
    PrepareOptions on = Options(true), off = Options(false);
    on.resize = off.resize = mode;
    Result<PreparedImage> a = PrepareForTeacher(path, on);
    Result<PreparedImage> b = PrepareForTeacher(path, off);
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(a->passed_through);
    EXPECT_FALSE(b->passed_through);
    EXPECT_EQ(a->sent, b->sent);
    EXPECT_EQ(a->original.upright, b->original.upright);
    EXPECT_EQ(a->original.stored, b->original.stored);
    EXPECT_EQ(a->original.orientation, b->original.orientation);
    Result<RgbImage> decoded = DecodeImage(b->bytes);
    ASSERT_TRUE(decoded);
    EXPECT_EQ((Size{decoded->width, decoded->height}), a->sent);  // what the teacher sees
  }
}

TEST_F(PassThroughTest, RotatedOversizedAndOffGridImagesArePrepared) {
  // EXIF orientation 6: stored 480x640, upright 640x480.
  const std::string rotated = Put("r.jpg", Encoded(640, 480, "jpeg", 6));
  Result<PreparedImage> r = PrepareForTeacher(rotated, Options(true));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->passed_through);
  EXPECT_EQ(r->sent, (Size{640, 480}));
  EXPECT_EQ(r->mime, "image/jpeg");

  // Over the pixel budget: downscaled.
  PrepareOptions budget = Options(true);
  budget.max_pixels = 100000;
  const std::string big = Put("big.jpg", Encoded(640, 480, "jpeg"));
  Result<PreparedImage> b = PrepareForTeacher(big, budget);
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->passed_through);
  EXPECT_LE(static_cast<int64_t>(b->sent.width) * b->sent.height, 100000);

  // smart_resize moves 640x480 to the 28-grid (644x476): prepared.
  PrepareOptions smart = Options(true);
  smart.resize = PrepareOptions::Resize::kSmartResize;
  Result<PreparedImage> s = PrepareForTeacher(big, smart);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->passed_through);
  EXPECT_EQ(s->sent, (Size{644, 476}));

  // pass_through off: always prepared.
  Result<PreparedImage> off = PrepareForTeacher(big, Options(false));
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->passed_through);
}

TEST_F(PassThroughTest, AlphaPngIsFlattenedNotPassed) {
  const std::string rgb = Encoded(32, 32, "png");
  // Same pixels with a tRNS chunk (a transparent colour) after IHDR.
  std::string with_trns = rgb.substr(0, 33);
  const std::string chunk = std::string("\0\0\0\x06tRNS\0\0\0\0\0\0", 14) + std::string("\0\0\0\0", 4);
  with_trns += chunk;
  with_trns += rgb.substr(33);
  EXPECT_TRUE(PngIsPlain8Bit(rgb));
  EXPECT_FALSE(PngIsPlain8Bit(with_trns));
}

TEST_F(PassThroughTest, OnlyCompleteFilesLookComplete) {
  for (const char* format : {"jpeg", "png", "webp"}) {
    const std::string bytes = Encoded(64, 48, format);
    EXPECT_TRUE(EncodedLooksComplete(bytes, format)) << format;
    EXPECT_FALSE(EncodedLooksComplete(bytes.substr(0, bytes.size() - 5), format)) << format;
    EXPECT_FALSE(EncodedLooksComplete(bytes.substr(0, bytes.size() / 2), format)) << format;
  }
  EXPECT_TRUE(EncodedLooksComplete(Encoded(64, 48, "jpeg") + std::string(3, '\0'), "jpeg"));
}

TEST(PngIsPlain8Bit, GoldenHeaders) {
  // Signature, IHDR (13 bytes: w, h, depth, colour, compression, filter,
  // interlace), CRC (not checked here), then an IDAT header.
  auto png = [](int depth, int colour) {
    std::string s("\x89PNG\r\n\x1a\n", 8);
    s += std::string("\0\0\0\x0dIHDR", 8);
    s += std::string("\0\0\0\x10\0\0\0\x10", 8);
    s += static_cast<char>(depth);
    s += static_cast<char>(colour);
    s += std::string("\0\0\0", 3);
    s += std::string("CRC!", 4);
    s += std::string("\0\0\0\0IDAT", 8);
    return s;
  };
  EXPECT_TRUE(PngIsPlain8Bit(png(8, 2)));   // RGB
  EXPECT_TRUE(PngIsPlain8Bit(png(8, 0)));   // grey
  EXPECT_FALSE(PngIsPlain8Bit(png(8, 3)));  // palette
  EXPECT_FALSE(PngIsPlain8Bit(png(8, 6)));  // RGBA
  EXPECT_FALSE(PngIsPlain8Bit(png(8, 4)));  // grey + alpha
  EXPECT_FALSE(PngIsPlain8Bit(png(16, 2))); // 16-bit
  EXPECT_FALSE(PngIsPlain8Bit(png(8, 2).substr(0, 33)));  // no image data
  EXPECT_FALSE(PngIsPlain8Bit("\xff\xd8\xff"));
}

}  // namespace
}  // namespace groundcap
