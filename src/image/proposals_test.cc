#include "image/proposals.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "util/test_util.h"

namespace groundcap {
namespace {

const std::string kFixtureDir = std::string(GROUNDCAP_SHARED_DIR) + "/fixtures/dataflow_regioncap";

// On DataFlow-MM's own demo photo; region_caption_test.cc checks proposals
// on generated images against tests/dataflow_reference.py as well.
TEST(ProposalsTest, ReproducesDataflowFixtureExactly) {
  GROUNDCAP_REQUIRE_SHARED_FIXTURE(std::filesystem::path(kFixtureDir));
  std::ifstream in(kFixtureDir + "/expected.jsonl");
  ASSERT_TRUE(in) << "cannot read " << kFixtureDir << "/expected.jsonl";
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  nlohmann::json row = nlohmann::json::parse(line);
  ASSERT_EQ(row["type"], "without_bbox");
  std::vector<std::array<int, 4>> expected = row["bbox"].get<std::vector<std::array<int, 4>>>();
  ASSERT_EQ(expected.size(), 6u);

  auto image = LoadImage(kFixtureDir + "/20.png");
  ASSERT_TRUE(image) << image.error().message;
  ASSERT_EQ(image->width, 1536);
  ASSERT_EQ(image->height, 832);
  EXPECT_EQ(ProposeRegions(*image), expected);
}

RgbImage Canvas(int w, int h, uint8_t v) {
  RgbImage img;
  img.width = w;
  img.height = h;
  img.pixels.assign(static_cast<size_t>(w) * h * 3, v);
  return img;
}

void FillOutline(RgbImage& img, int x1, int y1, int x2, int y2, uint8_t v) {
  for (int y = y1; y < y2; ++y) {
    for (int x = x1; x < x2; ++x) {
      if (x < x1 + 3 || x >= x2 - 3 || y < y1 + 3 || y >= y2 - 3) {
        uint8_t* p = img.at(x, y);
        p[0] = p[1] = p[2] = v;
      }
    }
  }
}

TEST(ProposalsTest, FindsDrawnRectanglesLargestFirstAndSuppressesContained) {
  RgbImage img = Canvas(400, 300, 230);
  FillOutline(img, 40, 40, 200, 200, 20);    // big square outline
  FillOutline(img, 60, 60, 120, 120, 20);    // inside the big one: suppressed
  FillOutline(img, 250, 100, 330, 260, 20);  // separate, smaller
  auto boxes = ProposeRegions(img);
  ASSERT_GE(boxes.size(), 2u);
  // Largest first; each box encloses its outline to within the blur.
  EXPECT_NEAR(boxes[0][0], 40, 3);
  EXPECT_NEAR(boxes[0][1], 40, 3);
  EXPECT_NEAR(boxes[0][0] + boxes[0][2], 200, 3);
  EXPECT_NEAR(boxes[1][0], 250, 3);
  EXPECT_NEAR(boxes[1][1] + boxes[1][3], 260, 3);
  for (size_t i = 1; i < boxes.size(); ++i) {
    EXPECT_GE(boxes[i - 1][2] * boxes[i - 1][3], boxes[i][2] * boxes[i][3]);
  }
  for (const auto& b : boxes) {
    bool inside_big = b[0] >= 40 && b[1] >= 40 && b[0] + b[2] <= 200 && b[1] + b[3] <= 200;
    EXPECT_FALSE(inside_big && b[2] < 150) << "contained box survived: " << b[0] << "," << b[1];
  }
}

TEST(ProposalsTest, FlatImageHasNoProposals) {
  EXPECT_TRUE(ProposeRegions(Canvas(200, 100, 128)).empty());
  EXPECT_TRUE(ProposeRegions(RgbImage{}).empty());
}

}  // namespace
}  // namespace groundcap
