#include "sim/synth.h"

#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace groundcap {
namespace {

namespace fs = std::filesystem;

TEST(SynthTest, SameSeedSameScene) {
  Scene a = MakeScene(7, 3), b = MakeScene(7, 3);
  EXPECT_EQ(a.image.pixels, b.image.pixels);
  EXPECT_EQ(a.caption, b.caption);
  EXPECT_EQ(SceneTruth(a, "x").dump(), SceneTruth(b, "x").dump());
  Scene c = MakeScene(8, 3);
  EXPECT_NE(SceneTruth(a, "x").dump(), SceneTruth(c, "x").dump());
}

TEST(SynthTest, TruthBoxesAreExactRenderedExtents) {
  for (int i = 0; i < 12; ++i) {
    Scene s = MakeScene(1, i);
    ASSERT_GE(s.objects.size(), 2u) << i;
    std::set<std::pair<int, int>> combos;
    for (size_t k = 0; k < s.objects.size(); ++k) {
      const SceneObject& o = s.objects[k];
      EXPECT_TRUE(combos.insert({static_cast<int>(o.shape), o.color}).second) << "colour+shape unique";
      // Recompute the extent from the pixels of exactly the object colour
      // around the object (backgrounds never hold palette colours).
      const uint8_t* rgb = ObjectPalette()[o.color].rgb;
      int x1 = 1 << 30, y1 = 1 << 30, x2 = -1, y2 = -1;
      int r = static_cast<int>(o.extent / 2) + 3;
      for (int y = std::max(0, static_cast<int>(o.cy) - r); y < std::min(s.image.height, static_cast<int>(o.cy) + r); ++y) {
        for (int x = std::max(0, static_cast<int>(o.cx) - r); x < std::min(s.image.width, static_cast<int>(o.cx) + r); ++x) {
          const uint8_t* p = s.image.at(x, y);
          if (p[0] == rgb[0] && p[1] == rgb[1] && p[2] == rgb[2]) {
            x1 = std::min(x1, x), y1 = std::min(y1, y), x2 = std::max(x2, x + 1), y2 = std::max(y2, y + 1);
          }
        }
      }
      EXPECT_EQ(o.box.x1, x1);
      EXPECT_EQ(o.box.y1, y1);
      EXPECT_EQ(o.box.x2, x2);
      EXPECT_EQ(o.box.y2, y2);
      EXPECT_GE(o.box.width(), 40) << "objects are big enough to box within a pixel";
      // No overlap between objects.
      for (size_t m = 0; m < k; ++m) EXPECT_EQ(IoU(o.box, s.objects[m].box), 0.0);
      // The caption names the object by its expression, once.
      size_t pos = s.caption.find(o.expression);
      ASSERT_NE(pos, std::string::npos) << s.caption << " / " << o.expression;
    }
  }
}

TEST(SynthTest, ShapeNamesRoundTrip) {
  for (int i = 0; i < kShapeKindCount; ++i) {
    ShapeKind k;
    ASSERT_TRUE(ShapeFromName(ShapeName(static_cast<ShapeKind>(i)), &k));
    EXPECT_EQ(static_cast<int>(k), i);
  }
  ShapeKind k;
  EXPECT_TRUE(ShapeFromName("crosses", &k));
  EXPECT_EQ(k, ShapeKind::kCross);
  EXPECT_TRUE(ShapeFromName("stars", &k));
  EXPECT_EQ(k, ShapeKind::kStar);
  EXPECT_FALSE(ShapeFromName("dog", &k));
}

TEST(SynthTest, DatasetOnDiskIsUprightAndConsistent) {
  fs::path dir = fs::temp_directory_path() / ("groundcap_synth_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Result<int> n = WriteSynthDataset(dir.string(), 10, 5);
  ASSERT_TRUE(n) << n.error().message;
  std::ifstream input(dir / "input.jsonl"), truth(dir / "truth.jsonl"), regions(dir / "regions.jsonl");
  std::string in_line, gt_line, reg_line;
  int lines = 0, rotated = 0, png = 0;
  while (std::getline(input, in_line) && std::getline(truth, gt_line) && std::getline(regions, reg_line)) {
    auto in = nlohmann::json::parse(in_line);
    auto gt = nlohmann::json::parse(gt_line);
    auto reg = nlohmann::json::parse(reg_line);
    Scene scene = MakeScene(5, lines);
    EXPECT_EQ(in["image_path"], gt["image_path"]);
    EXPECT_EQ(reg["image"], gt["image_path"]);
    EXPECT_EQ(in["caption"], scene.caption);
    EXPECT_EQ(reg["bbox"].size(), gt["objects"].size());
    ImageInfo info;
    Result<RgbImage> img = LoadImage((dir / in["image_path"].get<std::string>()).string(), {}, &info);
    ASSERT_TRUE(img) << img.error().message;
    EXPECT_EQ(img->width, gt["width"].get<int>());
    EXPECT_EQ(img->height, gt["height"].get<int>());
    EXPECT_EQ(info.orientation, gt["orientation"].get<int>());
    if (info.orientation != 1) ++rotated;
    if (info.format == "png") ++png;
    // Upright pixels: each object's centre has its colour after decoding.
    for (const auto& o : gt["objects"]) {
      int cx = (o["bbox"][0].get<int>() + o["bbox"][2].get<int>()) / 2;
      int cy = (o["bbox"][1].get<int>() + o["bbox"][3].get<int>()) / 2;
      int idx = NearestPaletteColor(img->at(cx, cy));
      EXPECT_EQ(ObjectPalette()[idx].name, o["color"].get<std::string>()) << in["image_path"] << " " << o.dump();
    }
    ++lines;
  }
  EXPECT_EQ(lines, 10);
  EXPECT_GT(rotated, 0) << "some images carry an EXIF orientation";
  EXPECT_GT(png, 0) << "both codecs are used";
  fs::remove_all(dir);
}

}  // namespace
}  // namespace groundcap
