// UnmapQuad / FormatBoxAnswer: every family's answer, parsed back with
// ParseBoxes, gives the original boxes; quantisation is the only loss.
#include <cmath>

#include <gtest/gtest.h>

#include "boxes/box_format.h"

namespace groundcap {
namespace {

Box B(double x1, double y1, double x2, double y2, std::string label) {
  Box b;
  b.x1 = x1, b.y1 = y1, b.x2 = x2, b.y2 = y2;
  b.label = std::move(label);
  return b;
}

/// Largest error a format's rounding allows on a side of `extent` pixels.
double Quantum(BoxFormat f, int extent, int input_extent) {
  switch (f) {
    case BoxFormat::kQwen25Vl:
    case BoxFormat::kXyxyPixels:
      return 0.5 * extent / input_extent;
    case BoxFormat::kPaliGemma:
      return 0.5 * extent / 1024.0;
    case BoxFormat::kFlorence2:
      return 0.5 * extent / 1000.0 + 1e-9;  // bin centre
    case BoxFormat::kDeepseekVl2:
      return 0.5 * extent / 999.0;
    case BoxFormat::kMoondream:
    case BoxFormat::kXyxyNorm1:
      return 0.5e-4 * extent;
    default:
      return 0.5 * extent / 1000.0;
  }
}

TEST(BoxWrite, EveryFormatReadsBackItsOwnAnswer) {
  const Size image{1333, 750};
  for (const std::string& name : BoxFormatNames()) {
    BoxFormat f = *BoxFormatFromName(name);
    const Size input = f == BoxFormat::kQwen25Vl ? SmartResize(image) : image;
    std::vector<Box> boxes = {B(12.4, 30, 640.2, 512.7, "a red car"), B(700, 100.5, 1300, 740, "a red car"),
                              B(5, 5, 90, 60, "the man's hat")};
    std::string text = FormatBoxAnswer(boxes, f, image, input);
    ParseBoxesOptions po;
    po.format = f;
    po.image = image;
    po.input = input;
    auto parsed = ParseBoxes(text, po);
    ASSERT_TRUE(parsed) << name << ": " << text;
    ASSERT_EQ(parsed->boxes.size(), boxes.size()) << name << ": " << text;
    const double qx = Quantum(f, image.width, input.width) + 1e-6;
    const double qy = Quantum(f, image.height, input.height) + 1e-6;
    for (size_t i = 0; i < boxes.size(); ++i) {
      const Box& got = parsed->boxes[i];
      EXPECT_NEAR(got.x1, boxes[i].x1, qx) << name << " box " << i << ": " << text;
      EXPECT_NEAR(got.y1, boxes[i].y1, qy) << name << " box " << i;
      EXPECT_NEAR(got.x2, boxes[i].x2, qx) << name << " box " << i;
      EXPECT_NEAR(got.y2, boxes[i].y2, qy) << name << " box " << i;
      EXPECT_EQ(got.label, boxes[i].label) << name << ": " << text;
    }
  }
}

TEST(BoxWrite, FamiliesWriteTheirOwnConventions) {
  const Size image{1000, 500};
  std::vector<Box> one = {B(100, 50, 300, 250, "dog")};
  EXPECT_EQ(FormatBoxAnswer(one, BoxFormat::kGemini, image, image), R"([{"box_2d":[100,100,500,300],"label":"dog"}])");
  EXPECT_EQ(FormatBoxAnswer(one, BoxFormat::kQwen3Vl, image, image), R"([{"bbox_2d":[100,100,300,500],"label":"dog"}])");
  EXPECT_EQ(FormatBoxAnswer(one, BoxFormat::kInternVl, image, image), "<ref>dog</ref><box>[[100, 100, 300, 500]]</box>");
  // Qwen2.5-VL: pixels of the smart-resized input (1000x500 -> 1008x504).
  const Size input = SmartResize(image);
  ASSERT_EQ(input, (Size{1008, 504}));
  EXPECT_EQ(FormatBoxAnswer(one, BoxFormat::kQwen25Vl, image, input), R"([{"bbox_2d":[101,50,302,252],"label":"dog"}])");
  // Two boxes of one phrase share a <ref>.
  std::vector<Box> two = {B(0, 0, 100, 100, "cup"), B(500, 250, 600, 300, "cup")};
  EXPECT_EQ(FormatBoxAnswer(two, BoxFormat::kInternVl, image, image),
            "<ref>cup</ref><box>[[0, 0, 100, 200], [500, 500, 600, 600]]</box>");
}

}  // namespace
}  // namespace groundcap
