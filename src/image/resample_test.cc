#include "image/resample.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <algorithm>
#include <string>


namespace groundcap {
namespace {

RgbImage Coloured(int w, int h, uint8_t r, uint8_t g, uint8_t b) {
  RgbImage img = RgbImage::Filled(w, h);
  for (size_t i = 0; i < img.pixels.size(); i += 3) {
    img.pixels[i] = r;
    img.pixels[i + 1] = g;
    img.pixels[i + 2] = b;
  }
  return img;
}

/// Noise plus hard edges: every tap weight, the clamps at 0 and 255 and the
/// negative lobes all matter.
RgbImage Busy(int w, int h, uint64_t seed) {
  RgbImage img = RgbImage::Filled(w, h);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      s ^= s << 13;
      s ^= s >> 7;
      s ^= s << 17;
      uint8_t* p = img.at(x, y);
      bool block = ((x / 5) + (y / 3)) % 2 == 0;
      p[0] = block ? 255 : 0;
      p[1] = static_cast<uint8_t>(s);
      p[2] = static_cast<uint8_t>((x * 7 + y * 3) & 255);
    }
  }
  return img;
}

TEST(ResampleTest, SimdGivesTheSameBytesAsPlainCode) {
  struct Case {
    Size from, to;
  } cases[] = {
      {{2000, 1500}, {1156, 867}},  // the common 12 MP -> 1 MP after a 1/2 DCT decode
      {{333, 250}, {97, 61}},       // odd sizes, 3.4x
      {{64, 48}, {63, 47}},         // barely shrinking
      {{40, 30}, {121, 77}},        // upscaling
      {{7, 5}, {3, 2}},             // window as wide as the image
      {{5, 9}, {1, 1}},
      {{1, 17}, {1, 5}},
      {{300, 1}, {31, 1}},
      {{19, 19}, {19, 7}},          // one axis only
  };
  uint64_t seed = 1;
  for (const Case& c : cases) {
    RgbImage in = Busy(c.from.width, c.from.height, seed++);
    RgbImage fast = ResizeLanczos3(in, c.to);
    RgbImage plain = ResizeLanczos3Reference(in, c.to);
    std::string what = std::to_string(c.from.width) + "x" + std::to_string(c.from.height) +
                       " -> " + std::to_string(c.to.width) + "x" + std::to_string(c.to.height);
    ASSERT_EQ(fast.width, c.to.width) << what;
    ASSERT_EQ(fast.height, c.to.height) << what;
    ASSERT_EQ(fast.pixels.size(), static_cast<size_t>(c.to.width) * c.to.height * 3) << what;
    EXPECT_TRUE(fast.pixels == plain.pixels) << what;
  }
}

TEST(ResampleTest, FlatColourStaysExactlyFlat) {
  for (Size to : {Size{31, 17}, Size{200, 90}, Size{1, 1}}) {
    RgbImage out = ResizeLanczos3(Coloured(123, 45, 200, 17, 255), to);
    for (int y = 0; y < out.height; ++y) {
      for (int x = 0; x < out.width; ++x) {
        const uint8_t* p = out.at(x, y);
        ASSERT_EQ(p[0], 200);
        ASSERT_EQ(p[1], 17);
        ASSERT_EQ(p[2], 255);
      }
    }
  }
}

TEST(ResampleTest, RampStaysARampAwayFromTheEdges) {
  // value = x / 2 over 512 columns; halving the width averages pixel pairs
  // 2i and 2i+1, so output i should be (4i + 1) / 4 = i + 0.25, rounded: i.
  RgbImage ramp = RgbImage::Filled(512, 8);
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 512; ++x) ramp.at(x, y)[0] = static_cast<uint8_t>(x / 2);
  }
  RgbImage out = ResizeLanczos3(ramp, Size{256, 4});
  for (int x = 8; x < 248; ++x) EXPECT_NEAR(out.at(x, 2)[0], x, 1) << "x=" << x;
}

TEST(ResampleTest, ShrinkingAveragesInsteadOfAliasing) {
  // A one-pixel checkerboard shrunk 3.25x is mid grey everywhere; a filter
  // whose kernel is not stretched by the scale samples a few neighbours at
  // a drifting phase and gives bands of light and dark.
  RgbImage board = RgbImage::Filled(400, 400);
  for (int y = 0; y < 400; ++y) {
    for (int x = 0; x < 400; ++x) {
      if ((x + y) % 2) std::fill_n(board.at(x, y), 3, 255);
    }
  }
  RgbImage out = ResizeLanczos3(board, Size{123, 123});
  for (int y = 0; y < 123; ++y) {
    for (int x = 0; x < 123; ++x) ASSERT_NEAR(out.at(x, y)[0], 128, 3) << x << "," << y;
  }
}

TEST(ResampleTest, UnchangedSizeIsACopy) {
  RgbImage in = Busy(21, 13, 9);
  RgbImage out = ResizeLanczos3(in, Size{21, 13});
  EXPECT_TRUE(out.pixels == in.pixels);
}

}  // namespace
}  // namespace groundcap
