// Synthetic scenes: see synth.h.
#include "sim/synth.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>

#include "util/error.h"
#include "util/jsonl.h"
#include "util/rng.h"

namespace groundcap {
namespace {


constexpr std::array<const char*, kShapeKindCount> kShapeNames = {
    "circle", "square", "triangle", "star", "diamond", "cross"};

struct Background {
  const char* name;
  uint8_t rgb[3];
};
constexpr Background kBackgrounds[] = {
    {"white", {250, 250, 250}},
    {"light grey", {222, 222, 222}},
    {"beige", {240, 232, 208}},
    {"light blue", {214, 228, 244}},
};

constexpr Size kSizes[] = {{640, 480}, {800, 600}, {480, 640}, {1024, 768},
                           {600, 600}, {960, 540}, {540, 960}, {720, 480}};

/// Even-odd point-in-polygon test.
bool InPolygon(const double* xs, const double* ys, int n, double px, double py) {
  bool inside = false;
  for (int i = 0, j = n - 1; i < n; j = i++) {
    if ((ys[i] > py) != (ys[j] > py) &&
        px < (xs[j] - xs[i]) * (py - ys[i]) / (ys[j] - ys[i]) + xs[i]) {
      inside = !inside;
    }
  }
  return inside;
}

/// Renders one object into `image` and sets its exact pixel bbox.
void RenderObject(RgbImage& image, SceneObject& obj) {
  const uint8_t* rgb = ObjectPalette()[obj.color].rgb;
  int x0 = std::max(0, static_cast<int>(std::floor(obj.cx - obj.extent / 2)) - 1);
  int y0 = std::max(0, static_cast<int>(std::floor(obj.cy - obj.extent / 2)) - 1);
  int x1 = std::min(image.width, static_cast<int>(std::ceil(obj.cx + obj.extent / 2)) + 1);
  int y1 = std::min(image.height, static_cast<int>(std::ceil(obj.cy + obj.extent / 2)) + 1);
  int bx1 = image.width, by1 = image.height, bx2 = -1, by2 = -1;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      if (!ShapeContains(obj.shape, obj.cx, obj.cy, obj.extent, x + 0.5, y + 0.5)) continue;
      uint8_t* p = image.at(x, y);
      p[0] = rgb[0];
      p[1] = rgb[1];
      p[2] = rgb[2];
      bx1 = std::min(bx1, x);
      by1 = std::min(by1, y);
      bx2 = std::max(bx2, x);
      by2 = std::max(by2, y);
    }
  }
  obj.box.x1 = bx1;
  obj.box.y1 = by1;
  obj.box.x2 = bx2 + 1;
  obj.box.y2 = by2 + 1;
}

std::string Article(const std::string& next_word) {
  return (!next_word.empty() && std::string_view("aeiou").find(next_word[0]) != std::string_view::npos)
             ? "an"
             : "a";
}

/// Spatial relation of a to b as seen upright ("to the left of", ...).
std::string Relation(const SceneObject& a, const SceneObject& b) {
  double dx = a.cx - b.cx, dy = a.cy - b.cy;
  if (std::abs(dx) >= std::abs(dy)) return dx < 0 ? "to the left of" : "to the right of";
  return dy < 0 ? "above" : "below";
}

std::string MakeCaption(const std::vector<SceneObject>& objects, const Background& bg, Rng& rng) {
  static const char* kOpenings[] = {"in this image we can see ", "in this picture we can see ",
                                    "here we can see ", "we can see "};
  static const char* kMore[] = {" there is also ", " we can also see ", " there are also "};
  std::string caption = kOpenings[rng.Below(4)];
  caption += objects[0].expression;
  size_t next = 1;
  if (objects.size() >= 2) {
    if (rng.Uniform() < 0.5) {
      caption += " " + Relation(objects[0], objects[1]) + " " + objects[1].expression;
    } else {
      caption += " and " + objects[1].expression;
    }
    next = 2;
  }
  if (rng.Uniform() < 0.4) caption += std::string(" on a ") + bg.name + " background";
  caption += ".";
  if (next < objects.size()) {
    caption += kMore[rng.Below(3)];
    for (size_t i = next; i < objects.size(); ++i) {
      if (i > next) caption += (i + 1 == objects.size()) ? " and " : ", ";
      caption += objects[i].expression;
    }
    caption += ".";
  }
  return caption;
}

std::string FileName(int index, const std::string& format) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%06d.%s", index, format == "png" ? "png" : "jpg");
  return buf;
}

}  // namespace

const char* ShapeName(ShapeKind kind) { return kShapeNames[static_cast<int>(kind)]; }

bool ShapeFromName(std::string_view name, ShapeKind* kind) {
  // Singular, or plural with -s (circles) or -es (crosses).
  for (std::string_view stem : {name, name.ends_with("s") ? name.substr(0, name.size() - 1) : std::string_view(),
                                name.ends_with("es") ? name.substr(0, name.size() - 2) : std::string_view()}) {
    if (stem.empty()) continue;
    for (int i = 0; i < kShapeKindCount; ++i) {
      if (stem == kShapeNames[i]) {
        *kind = static_cast<ShapeKind>(i);
        return true;
      }
    }
  }
  return false;
}

const std::vector<PaletteColor>& ObjectPalette() {
  static const std::vector<PaletteColor> kPalette = {
      {"red", {214, 36, 36}},    {"orange", {245, 140, 20}}, {"yellow", {238, 206, 24}},
      {"green", {34, 140, 60}},  {"blue", {36, 80, 214}},    {"purple", {130, 50, 170}},
      {"pink", {240, 120, 190}},
  };
  return kPalette;
}

int NearestPaletteColor(const uint8_t rgb[3], int* dist2) {
  const auto& pal = ObjectPalette();
  int best = 0, best_d = 1 << 30;
  for (size_t i = 0; i < pal.size(); ++i) {
    int d = 0;
    for (int c = 0; c < 3; ++c) {
      int diff = static_cast<int>(rgb[c]) - pal[i].rgb[c];
      d += diff * diff;
    }
    if (d < best_d) {
      best_d = d;
      best = static_cast<int>(i);
    }
  }
  if (dist2 != nullptr) *dist2 = best_d;
  return best;
}

int PaletteIndex(std::string_view name) {
  const auto& pal = ObjectPalette();
  for (size_t i = 0; i < pal.size(); ++i) {
    if (name == pal[i].name) return static_cast<int>(i);
  }
  return -1;
}

bool ShapeContains(ShapeKind kind, double cx, double cy, double extent, double px, double py) {
  double r = extent / 2;
  double dx = px - cx, dy = py - cy;
  switch (kind) {
    case ShapeKind::kCircle:
      return dx * dx + dy * dy <= r * r;
    case ShapeKind::kSquare:
      return std::abs(dx) <= r && std::abs(dy) <= r;
    case ShapeKind::kDiamond:
      // narrower than tall so that it never looks like a rotated square
      return std::abs(dx) / (0.8 * r) + std::abs(dy) / r <= 1.0;
    case ShapeKind::kCross: {
      double arm = 0.34 * r;
      return (std::abs(dx) <= r && std::abs(dy) <= arm) || (std::abs(dx) <= arm && std::abs(dy) <= r);
    }
    case ShapeKind::kTriangle: {
      double h = 0.9 * extent;
      double xs[3] = {cx, cx - r, cx + r};
      double ys[3] = {cy - h / 2, cy + h / 2, cy + h / 2};
      return InPolygon(xs, ys, 3, px, py);
    }
    case ShapeKind::kStar: {
      double xs[10], ys[10];
      for (int i = 0; i < 10; ++i) {
        double rad = (i % 2 == 0) ? r : 0.42 * r;
        double a = -std::numbers::pi / 2 + i * std::numbers::pi / 5;
        xs[i] = cx + rad * std::cos(a);
        ys[i] = cy + rad * std::sin(a) + 0.1 * r;  // centre the star's bbox vertically
      }
      return InPolygon(xs, ys, 10, px, py);
    }
  }
  return false;
}

Scene MakeScene(uint64_t seed, int index) {
  // Hash (seed, index) into the start state: neighbouring indices must not
  // give shifted copies of one sequence.
  Rng rng(Rng(Rng(seed).Next() + static_cast<uint64_t>(index)).Next());
  Scene scene;
  Size size = kSizes[rng.Below(std::size(kSizes))];
  scene.format = rng.Uniform() < 0.65 ? "jpeg" : "png";
  if (scene.format == "jpeg" && rng.Uniform() < 0.45) scene.orientation = 2 + rng.Below(7);
  const Background& bg = kBackgrounds[rng.Below(std::size(kBackgrounds))];
  bool noisy = rng.Uniform() < 0.5;
  scene.background = noisy ? "noisy" : "plain";

  RgbImage& img = scene.image;
  img.width = size.width;
  img.height = size.height;
  img.pixels.resize(static_cast<size_t>(size.width) * size.height * 3);
  for (int y = 0; y < img.height; ++y) {
    for (int x = 0; x < img.width; ++x) {
      uint8_t* p = img.at(x, y);
      int n = noisy ? rng.Below(25) - 12 : 0;
      for (int c = 0; c < 3; ++c) p[c] = static_cast<uint8_t>(std::clamp(bg.rgb[c] + n, 0, 255));
    }
  }

  int want = 2 + rng.Below(4);  // 2..5 objects
  int min_side = std::min(size.width, size.height);
  std::vector<int> used_combos;
  for (int attempt = 0; attempt < 400 && static_cast<int>(scene.objects.size()) < want; ++attempt) {
    SceneObject obj;
    obj.shape = static_cast<ShapeKind>(rng.Below(kShapeKindCount));
    obj.color = rng.Below(static_cast<int>(ObjectPalette().size()));
    int combo = static_cast<int>(obj.shape) * 16 + obj.color;
    if (std::find(used_combos.begin(), used_combos.end(), combo) != used_combos.end()) continue;
    int size_class = rng.Below(3);
    static const double kLo[] = {0.12, 0.17, 0.25}, kHi[] = {0.15, 0.22, 0.31};
    obj.extent = std::round(min_side * rng.Uniform(kLo[size_class], kHi[size_class]));
    obj.size_word = size_class == 0 ? "small" : size_class == 2 ? "large" : "";
    double margin = obj.extent / 2 + 6;
    obj.cx = std::round(rng.Uniform(margin, size.width - margin)) + 0.5;
    obj.cy = std::round(rng.Uniform(margin, size.height - margin)) + 0.5;
    bool clear = true;
    for (const SceneObject& o : scene.objects) {
      double gap = (o.extent + obj.extent) / 2 + 12;
      if (std::abs(o.cx - obj.cx) < gap && std::abs(o.cy - obj.cy) < gap) clear = false;
    }
    if (!clear) continue;
    used_combos.push_back(combo);
    std::string color = ObjectPalette()[obj.color].name;
    std::string words = (obj.size_word.empty() ? "" : obj.size_word + " ") + color + " " + ShapeName(obj.shape);
    obj.expression = Article(words) + " " + words;
    RenderObject(img, obj);
    scene.objects.push_back(std::move(obj));
  }
  scene.caption = MakeCaption(scene.objects, bg, rng);
  return scene;
}

nlohmann::ordered_json SceneTruth(const Scene& scene, const std::string& image_path) {
  nlohmann::ordered_json j;
  j["image_path"] = image_path;
  j["width"] = scene.image.width;
  j["height"] = scene.image.height;
  j["orientation"] = scene.orientation;
  j["caption"] = scene.caption;
  nlohmann::ordered_json objects = nlohmann::ordered_json::array();
  for (size_t i = 0; i < scene.objects.size(); ++i) {
    const SceneObject& o = scene.objects[i];
    nlohmann::ordered_json oj;
    oj["object_id"] = static_cast<int>(i);
    oj["bbox"] = {static_cast<int>(o.box.x1), static_cast<int>(o.box.y1), static_cast<int>(o.box.x2),
                  static_cast<int>(o.box.y2)};
    oj["color"] = ObjectPalette()[o.color].name;
    oj["shape"] = ShapeName(o.shape);
    oj["size"] = o.size_word.empty() ? "medium" : o.size_word;
    oj["expression"] = o.expression;
    objects.push_back(std::move(oj));
  }
  j["objects"] = std::move(objects);
  return j;
}

Result<int> WriteSynthDataset(const std::string& out_dir, int count, uint64_t seed) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(fs::path(out_dir) / "images", ec);
  if (ec) return Fail(ErrorKind::kImage, "cannot create " + out_dir + "/images: " + ec.message());
  std::string input, truth, regions;
  for (int i = 0; i < count; ++i) {
    Scene scene = MakeScene(seed, i);
    std::string rel = "images/" + FileName(i, scene.format);
    Result<std::string> bytes = EncodeImage(scene.image, scene.format, 92, scene.orientation);
    if (!bytes) return tl::unexpected(bytes.error());
    Result<bool> written = WriteFileAtomic((fs::path(out_dir) / rel).string(), *bytes);
    if (!written) return tl::unexpected(written.error());
    nlohmann::ordered_json in;
    in["image_path"] = rel;
    in["caption"] = scene.caption;
    input += in.dump() + "\n";
    truth += SceneTruth(scene, rel).dump() + "\n";
    nlohmann::ordered_json reg;
    reg["image"] = rel;
    // Reading order (top to bottom, then left to right), the order in which
    // the simulated teacher numbers DataFlow marks it cannot read.
    std::vector<SceneObject> ordered = scene.objects;
    std::stable_sort(ordered.begin(), ordered.end(), [](const SceneObject& a, const SceneObject& b) {
      return a.box.y1 != b.box.y1 ? a.box.y1 < b.box.y1 : a.box.x1 < b.box.x1;
    });
    nlohmann::ordered_json boxes = nlohmann::ordered_json::array();
    for (const SceneObject& o : ordered) {
      boxes.push_back({static_cast<int>(o.box.x1), static_cast<int>(o.box.y1),
                       static_cast<int>(o.box.width()), static_cast<int>(o.box.height())});
    }
    reg["bbox"] = std::move(boxes);
    regions += reg.dump() + "\n";
  }
  for (auto [name, text] : {std::pair{"input.jsonl", &input}, std::pair{"truth.jsonl", &truth},
                            std::pair{"regions.jsonl", &regions}}) {
    Result<bool> written = WriteFileAtomic((fs::path(out_dir) / name).string(), *text);
    if (!written) return tl::unexpected(written.error());
  }
  return count;
}

}  // namespace groundcap
