#include "image/jpeg_codec.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <jpeglib.h>

namespace groundcap {
namespace {

const int64_t kLimit = ImageLimits{}.max_pixels;

/// Smooth colours and a few hard edges; lossy coding keeps it close.
RgbImage Scene(int w, int h) {
  RgbImage img = RgbImage::Filled(w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = img.at(x, y);
      bool box = x > w / 3 && x < w / 2 && y > h / 4 && y < h / 2;
      p[0] = box ? 250 : static_cast<uint8_t>(255 * x / w);
      p[1] = box ? 20 : static_cast<uint8_t>(255 * y / h);
      p[2] = box ? 20 : 128;
    }
  }
  return img;
}

double MeanAbsDiff(const RgbImage& a, const RgbImage& b) {
  double sum = 0;
  for (size_t i = 0; i < a.pixels.size(); ++i) sum += std::abs(a.pixels[i] - b.pixels[i]);
  return sum / a.pixels.size();
}

/// Writes a JPEG that EncodeJpeg never produces (greyscale or CMYK) with
/// libjpeg's defaults; errors abort the test binary, which is fine here.
std::string EncodeRaw(int w, int h, int components, J_COLOR_SPACE space) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_width = w;
  c.image_height = h;
  c.input_components = components;
  c.in_color_space = space;
  jpeg_set_defaults(&c);
  jpeg_start_compress(&c, TRUE);
  std::vector<unsigned char> row(static_cast<size_t>(w) * components);
  while (c.next_scanline < c.image_height) {
    for (size_t i = 0; i < row.size(); ++i) row[i] = static_cast<unsigned char>(i + c.next_scanline);
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::string out(reinterpret_cast<char*>(buf), size);
  std::free(buf);
  return out;
}

TEST(JpegCodecTest, RoundTripKeepsSizeAndPixels) {
  RgbImage img = Scene(301, 199);
  auto bytes = EncodeJpeg(img, 95);
  ASSERT_TRUE(bytes) << bytes.error().message;
  EXPECT_EQ(bytes->substr(0, 3), "\xFF\xD8\xFF");
  auto back = DecodeJpeg(*bytes, 1, "scene", kLimit);
  ASSERT_TRUE(back) << back.error().message;
  ASSERT_EQ(back->width, 301);
  ASSERT_EQ(back->height, 199);
  EXPECT_LT(MeanAbsDiff(img, *back), 3.0);
}

TEST(JpegCodecTest, ShrinkOnLoadRoundsSidesUp) {
  auto bytes = EncodeJpeg(Scene(1001, 601), 90);
  ASSERT_TRUE(bytes);
  for (int shrink : {2, 4, 8}) {
    auto img = DecodeJpeg(*bytes, shrink, "scene", kLimit);
    ASSERT_TRUE(img) << img.error().message;
    EXPECT_EQ(img->width, (1001 + shrink - 1) / shrink) << shrink;
    EXPECT_EQ(img->height, (601 + shrink - 1) / shrink) << shrink;
  }
  auto bad = DecodeJpeg(*bytes, 3, "scene", kLimit);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::kInternal);
}

TEST(JpegCodecTest, TruncatedAndGarbageAreErrorsNamingTheInput) {
  auto bytes = EncodeJpeg(Scene(320, 240), 90);
  ASSERT_TRUE(bytes);
  for (size_t keep : {bytes->size() / 2, bytes->size() - 3, size_t{200}, size_t{3}}) {
    auto cut = DecodeJpeg(bytes->substr(0, keep), 1, "photos/cut.jpg", kLimit);
    ASSERT_FALSE(cut) << "kept " << keep << " of " << bytes->size() << " bytes";
    EXPECT_EQ(cut.error().kind, ErrorKind::kImage);
    EXPECT_NE(cut.error().message.find("photos/cut.jpg"), std::string::npos)
        << cut.error().message;
  }
  std::string garbage = "\xFF\xD8\xFF" + std::string(500, '\x13');
  EXPECT_FALSE(DecodeJpeg(garbage, 2, "junk", kLimit));
}

TEST(JpegCodecTest, PixelLimitIsCheckedAtFullSizeBeforeDecoding) {
  auto bytes = EncodeJpeg(Scene(400, 300), 90);
  ASSERT_TRUE(bytes);
  EXPECT_TRUE(DecodeJpeg(*bytes, 8, "big.jpg", 400 * 300));
  auto refused = DecodeJpeg(*bytes, 8, "big.jpg", 400 * 300 - 1);  // 1/8 scale would fit
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kImage);
  EXPECT_NE(refused.error().message.find("400x300 is over the limit"), std::string::npos)
      << refused.error().message;
}

TEST(JpegCodecTest, GreyscaleDecodesToEqualChannels) {
  auto img = DecodeJpeg(EncodeRaw(64, 32, 1, JCS_GRAYSCALE), 2, "grey", kLimit);
  ASSERT_TRUE(img) << img.error().message;
  ASSERT_EQ(img->width, 32);
  for (int x = 0; x < img->width; ++x) {
    const uint8_t* p = img->at(x, 5);
    EXPECT_EQ(p[0], p[1]);
    EXPECT_EQ(p[1], p[2]);
  }
}

TEST(JpegCodecTest, CmykIsReportedAsUnsupported) {
  bool unsupported = false;
  auto img = DecodeJpeg(EncodeRaw(40, 30, 4, JCS_CMYK), 1, "print.jpg", kLimit, &unsupported);
  ASSERT_FALSE(img);
  EXPECT_TRUE(unsupported);
  EXPECT_NE(img.error().message.find("CMYK"), std::string::npos);
  // An ordinary failure does not claim to be an unsupported colour space.
  EXPECT_FALSE(DecodeJpeg("\xFF\xD8\xFF", 1, "x", kLimit, &unsupported));
  EXPECT_FALSE(unsupported);
}

TEST(JpegCodecTest, PrepareFallsBackToLibvipsForCmyk) {
  std::string path = ::testing::TempDir() + "groundcap_cmyk_" + std::to_string(::getpid()) + ".jpg";
  {
    std::ofstream out(path, std::ios::binary);
    out << EncodeRaw(400, 300, 4, JCS_CMYK);
  }
  PrepareOptions o;
  o.max_pixels = 100 * 75;
  auto prepared = PrepareForTeacher(path, o);
  std::remove(path.c_str());
  ASSERT_TRUE(prepared) << prepared.error().message;
  EXPECT_EQ(prepared->sent, (Size{100, 75}));
  auto sent = DecodeJpeg(prepared->bytes, 1, "sent", kLimit);
  ASSERT_TRUE(sent) << sent.error().message;
  EXPECT_EQ(sent->width, 100);
}

TEST(JpegCodecTest, CmykIsConvertedNotPassedThroughAndGreyPasses) {
  const std::string stem = ::testing::TempDir() + "groundcap_pass_" + std::to_string(::getpid());
  const std::string cmyk = EncodeRaw(64, 48, 4, JCS_CMYK), grey = EncodeRaw(64, 48, 1, JCS_GRAYSCALE);
  std::ofstream(stem + "_cmyk.jpg", std::ios::binary) << cmyk;
  std::ofstream(stem + "_grey.jpg", std::ios::binary) << grey;
  PrepareOptions o;  // 64x48 fits the default budget: only the colours decide
  ASSERT_TRUE(o.pass_through);
  auto c = PrepareForTeacher(stem + "_cmyk.jpg", o);
  auto g = PrepareForTeacher(stem + "_grey.jpg", o);
  std::remove((stem + "_cmyk.jpg").c_str());
  std::remove((stem + "_grey.jpg").c_str());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->passed_through);
  EXPECT_NE(c->bytes, cmyk);
  EXPECT_TRUE(DecodeJpeg(c->bytes, 1, "sent", kLimit));  // RGB now: our decoder reads it
  EXPECT_EQ(c->sent, (Size{64, 48}));
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_TRUE(g->passed_through);
  EXPECT_EQ(g->bytes, grey);
}

TEST(JpegCodecTest, EncodeRefusesAnInconsistentBuffer) {
  RgbImage img = Scene(10, 10);
  img.pixels.pop_back();
  EXPECT_FALSE(EncodeJpeg(img, 90));
  EXPECT_FALSE(EncodeJpeg(RgbImage{}, 90));
}

}  // namespace
}  // namespace groundcap
