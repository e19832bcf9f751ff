#include "image/image.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "image/image_spec.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;

/// Quadrants: top-left red, top-right green, bottom-left blue, bottom-right white.
RgbImage Quadrants(int w, int h) {
  RgbImage img;
  img.width = w;
  img.height = h;
  img.pixels.resize(static_cast<size_t>(w) * h * 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      bool right = x >= w / 2, bottom = y >= h / 2;
      uint8_t* p = img.at(x, y);
      p[0] = (!right && !bottom) || (right && bottom) ? 255 : 0;
      p[1] = (right && !bottom) || (right && bottom) ? 255 : 0;
      p[2] = (!right && bottom) || (right && bottom) ? 255 : 0;
    }
  }
  return img;
}

/// Checks the colour at each quadrant's centre (lossy codecs: a tolerance).
void ExpectQuadrants(const RgbImage& img, const std::string& what) {
  const int w = img.width, h = img.height;
  struct Probe {
    int x, y;
    uint8_t rgb[3];
  } probes[] = {{w / 4, h / 4, {255, 0, 0}},
                {3 * w / 4, h / 4, {0, 255, 0}},
                {w / 4, 3 * h / 4, {0, 0, 255}},
                {3 * w / 4, 3 * h / 4, {255, 255, 255}}};
  for (const Probe& p : probes) {
    const uint8_t* got = img.at(p.x, p.y);
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(got[c], p.rgb[c], 40) << what << " at (" << p.x << "," << p.y << ") channel " << c;
    }
  }
}

class ImageTest : public ::testing::Test {
 public:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("groundcap_image_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& bytes) {
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  fs::path dir_;
};

TEST_F(ImageTest, OrientForStorageMapsCorners) {
  RgbImage up;
  up.width = 3;
  up.height = 2;
  for (int i = 0; i < 6; ++i) up.pixels.insert(up.pixels.end(), {uint8_t(i), 0, 0});
  // Orientation 6: the viewer rotates the stored grid 90 degrees clockwise,
  // so the stored top-left is the upright top-right pixel.
  RgbImage s6 = OrientForStorage(up, 6);
  EXPECT_EQ(s6.width, 2);
  EXPECT_EQ(s6.height, 3);
  EXPECT_EQ(s6.at(0, 0)[0], 2);  // upright (2,0)
  EXPECT_EQ(s6.at(1, 0)[0], 5);  // upright (2,1)
  EXPECT_EQ(s6.at(0, 2)[0], 0);  // upright (0,0)
  RgbImage s8 = OrientForStorage(up, 8);
  EXPECT_EQ(s8.at(0, 0)[0], 3);  // upright (0,1)
  RgbImage s2 = OrientForStorage(up, 2);
  EXPECT_EQ(s2.at(0, 0)[0], 2);
  RgbImage s4 = OrientForStorage(up, 4);
  EXPECT_EQ(s4.at(0, 0)[0], 3);
}

void CheckAllOrientations(ImageTest* t, const std::string& format) {
  const RgbImage upright = Quadrants(64, 48);
  for (int o = 1; o <= 8; ++o) {
    SCOPED_TRACE(format + " orientation " + std::to_string(o));
    auto bytes = EncodeImage(upright, format, 95, o);
    ASSERT_TRUE(bytes) << bytes.error().message;
    std::string path = t->Write("o" + std::to_string(o) + "." + format, *bytes);
    auto info = ProbeImage(path);
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->orientation, o);
    EXPECT_EQ(info->format, format);
    EXPECT_EQ(info->upright, (Size{64, 48}));
    EXPECT_EQ(info->stored, o >= 5 ? (Size{48, 64}) : (Size{64, 48}));
    ImageInfo loaded_info;
    auto loaded = LoadImage(path, {}, &loaded_info);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->width, 64);
    EXPECT_EQ(loaded->height, 48);
    EXPECT_EQ(loaded_info.orientation, o);
    ExpectQuadrants(*loaded, "file");
    auto decoded = DecodeImage(*bytes);
    ASSERT_TRUE(decoded) << decoded.error().message;
    ExpectQuadrants(*decoded, "memory");
  }
}

TEST_F(ImageTest, JpegEveryExifOrientationLoadsUpright) { CheckAllOrientations(this, "jpeg"); }
TEST_F(ImageTest, WebpEveryExifOrientationLoadsUpright) { CheckAllOrientations(this, "webp"); }
TEST_F(ImageTest, PngEveryExifOrientationLoadsUpright) { CheckAllOrientations(this, "png"); }

// Regression (issue 14.4): a FIFO given as an image blocked a worker in
// open() for good. Every way in (probe, load, prepare) now refuses anything
// but a regular file at once, naming the path and what it is.
TEST_F(ImageTest, FifoAndDirectoryAreRefusedWithoutBlocking) {
  const std::string fifo = (dir_ / "pipe.jpg").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto loaded = LoadImage(fifo);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().kind, ErrorKind::kImage);
  EXPECT_EQ(loaded.error().message, "not a regular file '" + fifo + "': a FIFO");
  EXPECT_FALSE(ProbeImage(fifo).has_value());
  EXPECT_FALSE(PrepareForTeacher(fifo, PrepareOptions{}).has_value());
  auto dir = LoadImage(dir_.string());
  ASSERT_FALSE(dir.has_value());
  EXPECT_EQ(dir.error().message, "not a regular file '" + dir_.string() + "': a directory");
}

TEST_F(ImageTest, PngRoundTripIsLossless) {
  RgbImage img = Quadrants(20, 10);
  img.at(3, 7)[1] = 123;
  auto bytes = EncodeImage(img, "png");
  ASSERT_TRUE(bytes);
  auto back = DecodeImage(*bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->pixels, img.pixels);
}

TEST(PreparedSizeTest, PixelBudgetNeverUpscalesUnlessAsked) {
  PrepareOptions o;  // pixel budget 1003520
  EXPECT_EQ(PreparedSize({4000, 3000}, o), (Size{1156, 867}));
  EXPECT_EQ(PreparedSize({640, 480}, o), (Size{640, 480}));
  o.allow_upscale = true;
  EXPECT_EQ(PreparedSize({640, 480}, o), (Size{1156, 867}));
  o.max_pixels = 240000;
  EXPECT_EQ(PreparedSize({1200, 800}, o), (Size{600, 400}));
  // A side never drops to 0, and the budget still holds.
  EXPECT_EQ(PreparedSize({1000000, 1}, o), (Size{240000, 1}));
  o.resize = PrepareOptions::Resize::kNone;
  EXPECT_EQ(PreparedSize({4000, 3000}, o), (Size{4000, 3000}));
}

TEST(PreparedSizeTest, SmartResizeMatchesQwenReference) {
  // Expected values from qwen_vl_utils.smart_resize (factor 28, min 3136,
  // max 1003520), computed with the Python reference.
  PrepareOptions o;
  o.resize = PrepareOptions::Resize::kSmartResize;
  struct Case {
    Size in, out;
  } cases[] = {
      {{1536, 832}, {1344, 728}},  // over max: floor to factor after scaling
      {{98, 70}, {112, 56}},       // 3.5 -> 4 and 2.5 -> 2: round half to even
      {{1022, 994}, {1008, 980}},  // halves round to even, then over max
      {{10, 10}, {56, 56}},        // under min: ceil to factor
      {{28, 28}, {56, 56}},        // exactly one factor: still under min
      {{50, 30}, {84, 56}},
      {{2000, 50}, {1988, 56}},    // extreme aspect
      {{3000, 20}, {2996, 28}},    // short side clamped to one factor
      {{1008, 980}, {1008, 980}},  // already conforming, within max
      {{1036, 980}, {1008, 952}},  // just over max
      {{1000, 1000}, {980, 980}},
      {{4032, 3024}, {1148, 840}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(PreparedSize(c.in, o), c.out) << c.in.width << "x" << c.in.height;
  }
}

TEST_F(ImageTest, PrepareRotatesAndDownscalesToBudget) {
  auto bytes = EncodeImage(Quadrants(1200, 800), "jpeg", 92, 6);
  ASSERT_TRUE(bytes);
  std::string path = Write("big.jpg", *bytes);
  PrepareOptions o;
  o.max_pixels = 240000;
  auto prepared = PrepareForTeacher(path, o);
  ASSERT_TRUE(prepared) << prepared.error().message;
  EXPECT_EQ(prepared->original.upright, (Size{1200, 800}));
  EXPECT_EQ(prepared->original.orientation, 6);
  EXPECT_EQ(prepared->sent, (Size{600, 400}));
  EXPECT_EQ(prepared->mime, "image/jpeg");
  ImageInfo sent_info;
  auto sent = DecodeImage(prepared->bytes, {}, &sent_info);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent_info.orientation, 1);  // pixels are upright, no tag left
  EXPECT_EQ(sent->width, 600);
  EXPECT_EQ(sent->height, 400);
  ExpectQuadrants(*sent, "prepared");
}

TEST_F(ImageTest, PrepareEveryOrientationWithAndWithoutResize) {
  // Every path (JPEG through libjpeg-turbo, PNG and WebP through libvips;
  // each with no resize and with a shrink) must send the upright view for
  // every EXIF orientation.
  for (const char* format : {"jpeg", "png", "webp"}) {
    for (int orientation = 1; orientation <= 8; ++orientation) {
      auto bytes = EncodeImage(Quadrants(640, 400), format, 92, orientation);
      ASSERT_TRUE(bytes);
      std::string path =
          Write("o" + std::to_string(orientation) + "." + std::string(format), *bytes);
      for (int64_t budget : {int64_t{1000000}, int64_t{16000}}) {
        std::string what = std::string(format) + " orientation " + std::to_string(orientation) +
                           " budget " + std::to_string(budget);
        PrepareOptions o;
        o.max_pixels = budget;
        auto prepared = PrepareForTeacher(path, o);
        ASSERT_TRUE(prepared) << prepared.error().message;
        Size want = budget >= 640 * 400 ? Size{640, 400} : Size{160, 100};
        EXPECT_EQ(prepared->sent, want) << what;
        auto sent = DecodeImage(prepared->bytes);
        ASSERT_TRUE(sent);
        EXPECT_EQ((Size{sent->width, sent->height}), want) << what;
        ExpectQuadrants(*sent, what);
      }
    }
  }
}

TEST_F(ImageTest, PrepareSmartResizeGivesExactModelSize) {
  auto bytes = EncodeImage(Quadrants(1536, 832), "jpeg", 90, 8);
  ASSERT_TRUE(bytes);
  std::string path = Write("sr.jpg", *bytes);
  PrepareOptions o;
  o.resize = PrepareOptions::Resize::kSmartResize;
  o.encoding = "png";
  auto prepared = PrepareForTeacher(path, o);
  ASSERT_TRUE(prepared) << prepared.error().message;
  EXPECT_EQ(prepared->sent, (Size{1344, 728}));
  EXPECT_EQ(prepared->mime, "image/png");
  auto sent = DecodeImage(prepared->bytes);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->width, 1344);
  EXPECT_EQ(sent->height, 728);
  ExpectQuadrants(*sent, "smart_resize");
}

TEST_F(ImageTest, PrepareFromPixelsAndNoResize) {
  RgbImage img = Quadrants(300, 200);
  PrepareOptions o;
  o.resize = PrepareOptions::Resize::kNone;
  auto prepared = PrepareForTeacher(img, o);
  ASSERT_TRUE(prepared);
  EXPECT_EQ(prepared->sent, (Size{300, 200}));
  o.resize = PrepareOptions::Resize::kPixelBudget;
  o.max_pixels = 15000;
  prepared = PrepareForTeacher(img, o);
  ASSERT_TRUE(prepared);
  EXPECT_EQ(prepared->sent, (Size{150, 100}));
  auto sent = DecodeImage(prepared->bytes);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->width, 150);
  ExpectQuadrants(*sent, "from pixels");
}

TEST_F(ImageTest, RefusesMissingEmptyGarbageAndTruncated) {
  std::string missing = (dir_ / "nope.jpg").string();
  auto r = LoadImage(missing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kImage);
  EXPECT_NE(r.error().message.find(missing), std::string::npos);
  EXPECT_FALSE(PrepareForTeacher(missing, PrepareOptions{}));

  std::string empty = Write("empty.jpg", "");
  auto e = ProbeImage(empty);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().kind, ErrorKind::kImage);
  EXPECT_NE(e.error().message.find("empty.jpg"), std::string::npos);

  std::string text = Write("text.png", "hello, I am not an image at all");
  auto g = LoadImage(text);
  ASSERT_FALSE(g);
  EXPECT_NE(g.error().message.find("text.png"), std::string::npos);

  // A noisy JPEG cut in half: the header reads, the pixels do not.
  RgbImage noise;
  noise.width = noise.height = 256;
  std::mt19937 rng(7);
  for (int i = 0; i < 256 * 256 * 3; ++i) noise.pixels.push_back(static_cast<uint8_t>(rng()));
  for (const std::string format : {"jpeg", "png", "webp"}) {
    SCOPED_TRACE(format);
    auto whole = EncodeImage(noise, format, 90);
    ASSERT_TRUE(whole);
    std::string cut = Write("cut." + format, whole->substr(0, whole->size() / 2));
    auto t = LoadImage(cut);
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().kind, ErrorKind::kImage);
    EXPECT_NE(t.error().message.find("cut." + format), std::string::npos);
    EXPECT_FALSE(PrepareForTeacher(cut, PrepareOptions{}));
    EXPECT_FALSE(DecodeImage(whole->substr(0, whole->size() / 2)));
  }
}

uint32_t Crc32(const unsigned char* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

TEST_F(ImageTest, RefusesDecompressionBombFromHeader) {
  // A real 8x8 PNG whose IHDR claims 60000x60000 (3.6 gigapixels).
  auto png = EncodeImage(Quadrants(8, 8), "png");
  ASSERT_TRUE(png);
  std::string bytes = *png;
  auto* b = reinterpret_cast<unsigned char*>(bytes.data());
  ASSERT_EQ(std::memcmp(b + 12, "IHDR", 4), 0);
  const uint32_t side = 60000;
  for (int k = 0; k < 2; ++k) {
    b[16 + 4 * k] = side >> 24;
    b[17 + 4 * k] = (side >> 16) & 0xFF;
    b[18 + 4 * k] = (side >> 8) & 0xFF;
    b[19 + 4 * k] = side & 0xFF;
  }
  uint32_t crc = Crc32(b + 12, 17);
  b[29] = crc >> 24;
  b[30] = (crc >> 16) & 0xFF;
  b[31] = (crc >> 8) & 0xFF;
  b[32] = crc & 0xFF;
  std::string path = Write("bomb.png", bytes);
  for (auto r : {LoadImage(path).map([](const RgbImage&) { return 0; }),
                 ProbeImage(path).map([](const ImageInfo&) { return 0; }),
                 PrepareForTeacher(path, PrepareOptions{}).map([](const PreparedImage&) {
                   return 0;
                 })}) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kImage);
    EXPECT_NE(r.error().message.find("bomb.png"), std::string::npos);
  }
  // A configurable limit applies to ordinary images too.
  std::string small = Write("small.png", *png);
  ImageLimits limits;
  limits.max_pixels = 63;
  EXPECT_FALSE(ProbeImage(small, limits));
  limits.max_pixels = 64;
  EXPECT_TRUE(ProbeImage(small, limits));
}

void PutBig32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

/// A PNG of one row of 8-bit samples with `channels` per pixel (colour type
/// 4 = grey+alpha, 6 = RGBA), deflated as one stored block: no zlib needed.
std::string PngRow(const std::vector<uint8_t>& samples, int channels, int colour_type) {
  auto chunk = [](std::string* out, const std::string& type, const std::string& data) {
    PutBig32(out, static_cast<uint32_t>(data.size()));
    std::string body = type + data;
    out->append(body);
    PutBig32(out, Crc32(reinterpret_cast<const unsigned char*>(body.data()), body.size()));
  };
  std::string ihdr;
  PutBig32(&ihdr, static_cast<uint32_t>(samples.size() / channels));
  PutBig32(&ihdr, 1);
  ihdr += {8, static_cast<char>(colour_type), 0, 0, 0};
  std::string raw(1, '\0');  // filter type 0
  raw.append(samples.begin(), samples.end());
  uint32_t a = 1, b = 0;  // Adler-32 of the raw scanline
  for (unsigned char c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  const uint16_t len = static_cast<uint16_t>(raw.size());
  std::string idat = {0x78, 0x01, 0x01, static_cast<char>(len & 0xFF), static_cast<char>(len >> 8),
                      static_cast<char>(~len & 0xFF), static_cast<char>((~len >> 8) & 0xFF)};
  idat += raw;
  PutBig32(&idat, (b << 16) | a);
  std::string png = "\x89PNG\r\n\x1a\n";
  chunk(&png, "IHDR", ihdr);
  chunk(&png, "IDAT", idat);
  chunk(&png, "IEND", "");
  return png;
}

TEST_F(ImageTest, AlphaIsFlattenedOntoWhite) {
  // Transparent red, opaque red, half-transparent blue.
  std::string rgba = Write("rgba.png", PngRow({255, 0, 0, 0, 255, 0, 0, 255, 0, 0, 255, 128}, 4, 6));
  // Transparent black, opaque black, half-transparent black.
  std::string ga = Write("ga.png", PngRow({0, 0, 0, 255, 0, 128}, 2, 4));
  const uint8_t want[3][3] = {{255, 255, 255}, {255, 0, 0}, {127, 127, 255}};
  const uint8_t want_grey[3] = {255, 0, 127};
  PrepareOptions keep;
  keep.resize = PrepareOptions::Resize::kNone;
  keep.encoding = "png";
  for (const std::string& path : {rgba, ga}) {
    SCOPED_TRACE(path);
    auto loaded = LoadImage(path);
    ASSERT_TRUE(loaded) << loaded.error().message;
    auto prepared = PrepareForTeacher(path, keep);
    ASSERT_TRUE(prepared) << prepared.error().message;
    auto sent = DecodeImage(prepared->bytes);
    ASSERT_TRUE(sent) << sent.error().message;
    for (const RgbImage* img : {&*loaded, &*sent}) {
      ASSERT_EQ(img->width, 3);
      ASSERT_EQ(img->height, 1);
      for (int x = 0; x < 3; ++x) {
        for (int c = 0; c < 3; ++c) {
          const int expected = path == rgba ? want[x][c] : want_grey[x];
          EXPECT_NEAR(img->at(x, 0)[c], expected, 1) << "pixel " << x << " channel " << c;
        }
      }
    }
  }
}

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    auto back = Base64Decode(encoded);
    ASSERT_TRUE(back) << encoded;
    EXPECT_EQ(*back, plain);
  }
}

TEST(Base64Test, BinaryRoundTripAndStrictDecode) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= all.size(); n += 37) {
    auto back = Base64Decode(Base64Encode(all.substr(0, n)));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, all.substr(0, n));
  }
  for (const char* bad : {"Zg=", "Zm9v!A==", "Zh==", "Zg==Zg==", "Zm 9v", "Zm9v\n", "-_8="}) {
    EXPECT_FALSE(Base64Decode(bad)) << bad;
  }
}

TEST(ImageSpecTest, DefaultsMatchPrepareOptions) {
  std::vector<SpecField> fields = ImagePrepSpecFields();
  auto find = [&](const std::string& key) -> const SpecField* {
    for (const SpecField& f : fields) {
      if (f.key == key) return &f;
    }
    return nullptr;
  };
  PrepareOptions defaults;
  ImageLimits limits;
  ASSERT_NE(find("image.resize"), nullptr);
  EXPECT_EQ(find("image.resize")->default_yaml, "\"pixel_budget\"");
  ASSERT_NE(find("image.max_pixels"), nullptr);
  EXPECT_EQ(find("image.max_pixels")->default_yaml, std::to_string(defaults.max_pixels));
  EXPECT_EQ(find("image.min_pixels")->default_yaml, std::to_string(defaults.min_pixels));
  EXPECT_EQ(find("image.jpeg_quality")->default_yaml, std::to_string(defaults.jpeg_quality));
  EXPECT_EQ(find("image.max_source_pixels")->default_yaml, std::to_string(limits.max_pixels));
  ASSERT_NE(find("image.encoding"), nullptr);
  ASSERT_NE(find("image.allow_upscale"), nullptr);
}

}  // namespace
}  // namespace groundcap
