#include "image/draw.h"

#include <gtest/gtest.h>

#include <string>

namespace groundcap {
namespace {

RgbImage Flat(int w, int h, uint8_t v) {
  RgbImage img;
  img.width = w;
  img.height = h;
  img.pixels.assign(static_cast<size_t>(w) * h * 3, v);
  return img;
}

bool Is(const RgbImage& img, int x, int y, uint8_t r, uint8_t g, uint8_t b) {
  const uint8_t* p = img.at(x, y);
  return p[0] == r && p[1] == g && p[2] == b;
}

Box MakeBox(double x1, double y1, double x2, double y2) {
  Box b;
  b.x1 = x1;
  b.y1 = y1;
  b.x2 = x2;
  b.y2 = y2;
  return b;
}

bool Overlap(const LabelRect& a, const LabelRect& b) {
  return a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
}

TEST(DrawTest, RegionLabelsMatchStyles) {
  EXPECT_EQ(RegionLabel(MarkStyle::kNumbered, 3), "[3]");
  EXPECT_EQ(RegionLabel(MarkStyle::kDataflow, 12), "12");
}

TEST(DrawTest, DataflowDimsDrawsGreenBoxAndLabelAtFixedOffset) {
  RgbImage img = Flat(200, 150, 100);
  RgbImage out = DrawMarks(img, {MakeBox(20, 30, 120, 100)}, MarkStyle::kDataflow);
  EXPECT_TRUE(Is(out, 180, 5, 80, 80, 80));   // dimmed to 80% outside
  EXPECT_TRUE(Is(out, 70, 70, 80, 80, 80));   // and inside the region
  // OpenCV's thickness 2: 3 px centred on each edge, outer corners left out.
  for (auto [x, y] : {std::pair{19, 60}, {20, 60}, {21, 60}, {119, 60}, {120, 60}, {121, 60},
                      {70, 29}, {70, 30}, {70, 31}, {70, 101}, {19, 100}, {121, 100}}) {
    EXPECT_TRUE(Is(out, x, y, 0, 255, 0)) << x << "," << y;
  }
  for (auto [x, y] : {std::pair{22, 60}, {118, 60}, {70, 28}, {70, 102}, {19, 101}, {121, 29}}) {
    EXPECT_TRUE(Is(out, x, y, 80, 80, 80)) << x << "," << y;
  }
  // Black patch from (x+4, y-2) to (x+4+15, y+27) with white digits in it.
  MarkLayout layout = LayoutMarks({200, 150}, {MakeBox(20, 30, 120, 100)}, MarkStyle::kDataflow);
  ASSERT_EQ(layout.labels.size(), 1u);
  const LabelRect& l = layout.labels[0];
  EXPECT_EQ(l.x1, 24);
  EXPECT_EQ(l.y1, 28);
  EXPECT_EQ(l.x2, 40);
  EXPECT_EQ(l.y2, 58);
  int white = 0, black = 0;
  for (int y = l.y1; y < l.y2; ++y) {
    for (int x = l.x1; x < l.x2; ++x) {
      white += Is(out, x, y, 255, 255, 255);
      black += Is(out, x, y, 0, 0, 0);
    }
  }
  EXPECT_GT(white, 10);
  EXPECT_GT(black, 200);
  // DataFlow keeps its offset even when the label falls off the image.
  MarkLayout low = LayoutMarks({200, 150}, {MakeBox(20, 140, 60, 149)}, MarkStyle::kDataflow);
  EXPECT_GT(low.labels[0].y2, 150);
  DrawMarks(img, {MakeBox(20, 140, 60, 149)}, MarkStyle::kDataflow);  // clipped, no crash
}

TEST(DrawTest, NumberedMarksOutlineInColourWithoutDimming) {
  RgbImage img = Flat(640, 480, 128);
  std::vector<Box> boxes = {MakeBox(100, 120, 300, 300), MakeBox(350, 50, 600, 400)};
  RgbImage out = DrawMarks(img, boxes, MarkStyle::kNumbered);
  MarkLayout layout = LayoutMarks({640, 480}, boxes, MarkStyle::kNumbered);
  ASSERT_EQ(layout.labels.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    uint8_t c[3];
    MarkColor(i + 1, c);
    const Box& b = boxes[i];
    int mid_y = static_cast<int>((b.y1 + b.y2) / 2);
    int mid_x = static_cast<int>((b.x1 + b.x2) / 2);
    // The outline lies on the box, inside its edges.
    EXPECT_TRUE(Is(out, static_cast<int>(b.x1), mid_y, c[0], c[1], c[2]));
    EXPECT_TRUE(Is(out, static_cast<int>(b.x2) - 1, mid_y, c[0], c[1], c[2]));
    EXPECT_TRUE(Is(out, static_cast<int>(b.x1) + layout.line_width - 1, mid_y, c[0], c[1], c[2]));
    EXPECT_TRUE(Is(out, static_cast<int>(b.x1) + layout.line_width, mid_y, 128, 128, 128));
    EXPECT_TRUE(Is(out, static_cast<int>(b.x1) - 1, mid_y, 128, 128, 128));
    EXPECT_TRUE(Is(out, mid_x, static_cast<int>(b.y2) - 1, c[0], c[1], c[2]));
    EXPECT_TRUE(Is(out, mid_x, mid_y, 128, 128, 128));  // not dimmed
    // The label patch is in the region colour, with ink on it.
    const LabelRect& l = layout.labels[i];
    EXPECT_TRUE(Is(out, l.x1, l.y1, c[0], c[1], c[2]));
    int ink = 0;
    for (int y = l.y1; y < l.y2; ++y) {
      for (int x = l.x1; x < l.x2; ++x) ink += !Is(out, x, y, c[0], c[1], c[2]);
    }
    EXPECT_GT(ink, 20);
  }
  EXPECT_TRUE(Is(out, 5, 470, 128, 128, 128));
  uint8_t a[3], b[3];
  MarkColor(1, a);
  MarkColor(2, b);
  EXPECT_FALSE(a[0] == b[0] && a[1] == b[1] && a[2] == b[2]);
}

TEST(DrawTest, NumberedLabelsStayInsideAndApart) {
  const Size size{320, 240};
  std::vector<Box> boxes = {
      MakeBox(0, 0, 60, 60),        // top-left corner: no room above
      MakeBox(2, 2, 58, 58),        // same place: labels would collide
      MakeBox(4, 4, 62, 62),
      MakeBox(270, 200, 320, 240),  // bottom-right corner
      MakeBox(280, 210, 320, 240),
      MakeBox(-30, 100, 20, 400),   // partly outside the image
  };
  for (int i = 0; i < 8; ++i) boxes.push_back(MakeBox(100 + 10 * i, 100, 140 + 10 * i, 140));
  MarkLayout layout = LayoutMarks(size, boxes, MarkStyle::kNumbered);
  ASSERT_EQ(layout.labels.size(), boxes.size());
  for (size_t i = 0; i < layout.labels.size(); ++i) {
    const LabelRect& l = layout.labels[i];
    EXPECT_GE(l.x1, 0) << i;
    EXPECT_GE(l.y1, 0) << i;
    EXPECT_LE(l.x2, size.width) << i;
    EXPECT_LE(l.y2, size.height) << i;
    EXPECT_GT(l.x2 - l.x1, layout.glyph_height) << i;  // room for "[n]"
    for (size_t j = 0; j < i; ++j) {
      EXPECT_FALSE(Overlap(l, layout.labels[j])) << i << " overlaps " << j;
    }
  }
  RgbImage out = DrawMarks(Flat(size.width, size.height, 200), boxes, MarkStyle::kNumbered);
  EXPECT_EQ(out.width, size.width);
}

TEST(DrawTest, NumberedScalesWithImageSize) {
  std::vector<Box> one = {MakeBox(10, 10, 100, 100)};
  MarkLayout small = LayoutMarks({640, 480}, one, MarkStyle::kNumbered);
  MarkLayout large = LayoutMarks({4000, 3000}, one, MarkStyle::kNumbered);
  EXPECT_GT(large.line_width, small.line_width);
  EXPECT_GT(large.glyph_height, 2 * small.glyph_height);
  EXPECT_GT(large.labels[0].y2 - large.labels[0].y1, large.glyph_height);
}

TEST(DrawTest, DataflowLabelsReadBackAsTheirNumbers) {
  // 36 regions on a grid over stripes of white (dimmed to 204, the
  // brightest background there is) and grey, read back as drawn and after a
  // JPEG round trip, as the teacher receives them.
  RgbImage img = Flat(720, 480, 40);
  for (int y = 0; y < img.height; ++y) {
    for (int x = 0; x < img.width; ++x) {
      if ((x / 7 + y / 5) % 3 == 0) std::fill(img.at(x, y), img.at(x, y) + 3, 255);
    }
  }
  std::vector<Box> boxes;
  for (int i = 0; i < 36; ++i) {
    const double x = 10 + (i % 9) * 78, y = 12 + (i / 9) * 115;
    boxes.push_back(MakeBox(x + i % 3, y + i % 2, x + 70, y + 100));
  }
  RgbImage drawn = DrawMarks(img, boxes, MarkStyle::kDataflow);
  auto jpeg = EncodeImage(drawn, "jpeg", 90);
  ASSERT_TRUE(jpeg);
  auto received = DecodeImage(*jpeg);
  ASSERT_TRUE(received);
  for (const RgbImage* image : {&drawn, &*received}) {
    SCOPED_TRACE(image == &drawn ? "as drawn" : "after JPEG q90");
    for (size_t i = 0; i < boxes.size(); ++i) {
      EXPECT_EQ(ReadDataflowLabel(*image, static_cast<int>(boxes[i].x1),
                                  static_cast<int>(boxes[i].y1), 99),
                static_cast<int>(i + 1));
    }
    // Inside a box, away from any label, nothing reads as a number.
    EXPECT_EQ(ReadDataflowLabel(*image, 40, 60, 99), 0);
  }
}

}  // namespace
}  // namespace groundcap
