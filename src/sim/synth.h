// Synthetic scenes with ground truth: coloured shapes on plain or mildly
// noisy backgrounds, a spoken-style caption per image, and every object's
// upright box. Used by `groundcap synth`, `groundcap demo`, the simulated
// teacher's vocabulary (sim_vision.cc) and the end-to-end tests.
// See docs/formats.md "Synthetic scenes and ground truth".
#ifndef GROUNDCAP_SYNTH_H_
#define GROUNDCAP_SYNTH_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "image/image.h"
#include "util/geometry.h"

namespace groundcap {

/// The shapes a scene can hold. The simulated teacher classifies the same set.
enum class ShapeKind { kCircle, kSquare, kTriangle, kStar, kDiamond, kCross };
inline constexpr int kShapeKindCount = 6;
/// "circle", "square", ...; the word used in captions and truth.
const char* ShapeName(ShapeKind kind);
/// Inverse of ShapeName (also accepts the plural); false when unknown.
bool ShapeFromName(std::string_view name, ShapeKind* kind);

/// A named, well-separated object colour. None is near black, white, grey or
/// the pure green of DataFlow marks, so marks never pass for objects.
struct PaletteColor {
  const char* name;
  uint8_t rgb[3];
};
/// The object palette (red, orange, yellow, green, blue, purple, pink).
const std::vector<PaletteColor>& ObjectPalette();
/// Index of the palette colour nearest to `rgb` (squared RGB distance), and
/// that distance through `dist2` when given.
int NearestPaletteColor(const uint8_t rgb[3], int* dist2 = nullptr);
/// Palette index by name, -1 when unknown.
int PaletteIndex(std::string_view name);

/// One object of a scene, in upright pixels.
struct SceneObject {
  ShapeKind shape = ShapeKind::kCircle;
  int color = 0;             ///< ObjectPalette() index
  std::string size_word;     ///< "small", "" (medium) or "large"
  double cx = 0, cy = 0;     ///< centre
  double extent = 0;         ///< side of the square the shape is inscribed in
  Box box;                   ///< exact bbox of the rendered pixels (x2/y2 exclusive)
  std::string expression;    ///< "a small red circle": how the caption names it
};

/// A generated scene: upright pixels, objects, caption and how it is stored.
struct Scene {
  RgbImage image;                   ///< upright
  std::vector<SceneObject> objects;
  std::string caption;              ///< spoken style, names every object once
  std::string format = "jpeg";      ///< "jpeg" or "png"
  int orientation = 1;              ///< EXIF tag written with the file (jpeg only)
  std::string background;           ///< "plain" or "noisy"
};

/// True when pixel centre (px, py) lies inside a shape of `kind` centred at
/// (cx, cy) inscribed in a square of side `extent` (pure geometry).
bool ShapeContains(ShapeKind kind, double cx, double cy, double extent, double px, double py);

/// Generates scene number `index` of the dataset with `seed`: the same
/// (seed, index) always gives the same scene, whatever the count.
Scene MakeScene(uint64_t seed, int index);

/// The truth.jsonl record of a scene stored at `image_path`.
nlohmann::ordered_json SceneTruth(const Scene& scene, const std::string& image_path);

/// Writes `count` scenes under `out_dir`: images/NNNNNN.{jpg,png},
/// input.jsonl ({"image_path", "caption"}), truth.jsonl and regions.jsonl
/// ({"image", "bbox": [[x,y,w,h]...]} in reading order, DataFlow's
/// region-caption input).
/// Error kImage when an image cannot be encoded or a file written.
Result<int> WriteSynthDataset(const std::string& out_dir, int count, uint64_t seed);

}  // namespace groundcap

#endif  // GROUNDCAP_SYNTH_H_
