// Region marks drawn straight into RGB pixels (pure: no codecs, no fonts).
//
// Labels use a small built-in stroke font (digits and brackets, drawn like
// OpenCV's Hershey simplex), so output is deterministic and tests can check
// exact geometry.
#include "image/draw.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

namespace groundcap {
namespace {

/// A glyph on a grid `grid_w` wide and 10 high (y down); strokes are polylines.
struct Glyph {
  char c;
  float grid_w;
  std::vector<std::vector<std::pair<float, float>>> strokes;
};

const std::vector<Glyph>& Font() {
  static const std::vector<Glyph> font = {
      {'0', 6, {{{1, 0}, {5, 0}, {6, 1.5}, {6, 8.5}, {5, 10}, {1, 10}, {0, 8.5}, {0, 1.5}, {1, 0}}}},
      {'1', 6, {{{1, 2}, {3.5, 0}, {3.5, 10}}}},
      {'2', 6, {{{0, 2}, {1, 0}, {5, 0}, {6, 2}, {6, 4}, {0, 10}, {6, 10}}}},
      {'3', 6, {{{0, 0}, {6, 0}, {2, 4}, {4, 4}, {6, 6}, {6, 8}, {4, 10}, {1, 10}, {0, 9}}}},
      {'4', 6, {{{4.5, 10}, {4.5, 0}, {0, 7}, {6, 7}}}},
      {'5', 6, {{{6, 0}, {1, 0}, {0, 4.5}, {4, 4}, {6, 6}, {6, 8}, {4, 10}, {1, 10}, {0, 9}}}},
      {'6', 6,
       {{{5, 0}, {2, 0}, {0, 3}, {0, 8}, {2, 10}, {4, 10}, {6, 8}, {6, 6}, {4, 4}, {2, 4}, {0, 6}}}},
      {'7', 6, {{{0, 0}, {6, 0}, {2, 10}}}},
      {'8', 6,
       {{{1, 0}, {5, 0}, {6, 1}, {6, 3.5}, {5, 4.5}, {1, 4.5}, {0, 3.5}, {0, 1}, {1, 0}},
        {{1, 4.5}, {0, 6}, {0, 9}, {1, 10}, {5, 10}, {6, 9}, {6, 6}, {5, 4.5}}}},
      {'9', 6,
       {{{6, 4}, {4, 6}, {2, 6}, {0, 4}, {0, 2}, {2, 0}, {4, 0}, {6, 2}, {6, 7}, {4, 10}, {1, 10}}}},
      {'[', 4, {{{4, 0}, {1, 0}, {1, 10}, {4, 10}}}},
      {']', 4, {{{0, 0}, {3, 0}, {3, 10}, {0, 10}}}},
  };
  return font;
}

const Glyph* FindGlyph(char c) {
  for (const Glyph& g : Font()) {
    if (g.c == c) return &g;
  }
  return nullptr;
}

int GlyphWidth(const Glyph& g, int height) {
  return std::max(1, static_cast<int>(std::lround(height * g.grid_w / 10.0 * 0.95)));
}
int GlyphGap(int height) { return std::max(1, static_cast<int>(std::lround(height * 0.3))); }
int StrokeWidth(int height) { return std::max(1, static_cast<int>(std::lround(height / 7.0))); }

int TextWidth(const std::string& text, int height) {
  int w = 0;
  for (char c : text) {
    const Glyph* g = FindGlyph(c);
    if (!g) continue;
    if (w > 0) w += GlyphGap(height);
    w += GlyphWidth(*g, height);
  }
  return w;
}

void FillRect(RgbImage& img, int x1, int y1, int x2, int y2, const uint8_t rgb[3]) {
  x1 = std::max(x1, 0);
  y1 = std::max(y1, 0);
  x2 = std::min(x2, img.width);
  y2 = std::min(y2, img.height);
  for (int y = y1; y < y2; ++y) {
    for (int x = x1; x < x2; ++x) {
      uint8_t* p = img.at(x, y);
      p[0] = rgb[0];
      p[1] = rgb[1];
      p[2] = rgb[2];
    }
  }
}

/// Draws `text` with its cell's top-left at (x, y), glyphs `height` high.
void DrawText(RgbImage& img, int x, int y, int height, const std::string& text,
              const uint8_t rgb[3]) {
  const int stroke = StrokeWidth(height);
  const double half = stroke / 2.0;
  for (char c : text) {
    const Glyph* g = FindGlyph(c);
    if (!g) continue;
    const int cell_w = GlyphWidth(*g, height);
    auto map = [&](std::pair<float, float> p) {
      double px = x + half + p.first / g->grid_w * std::max(0, cell_w - stroke);
      double py = y + half + p.second / 10.0 * std::max(0, height - stroke);
      return std::pair<double, double>(px, py);
    };
    for (const auto& polyline : g->strokes) {
      for (size_t i = 0; i + 1 < polyline.size(); ++i) {
        auto [ax, ay] = map(polyline[i]);
        auto [bx, by] = map(polyline[i + 1]);
        int steps = std::max(1, static_cast<int>(std::ceil(std::hypot(bx - ax, by - ay) * 2)));
        for (int s = 0; s <= steps; ++s) {
          double t = static_cast<double>(s) / steps;
          int cx = static_cast<int>(std::floor(ax + (bx - ax) * t - half + 0.5));
          int cy = static_cast<int>(std::floor(ay + (by - ay) * t - half + 0.5));
          FillRect(img, cx, cy, cx + stroke, cy + stroke, rgb);
        }
      }
    }
    x += cell_w + GlyphGap(height);
  }
}

/// Integer box edges: DataFlow truncates like Python int(); the numbered
/// style covers every pixel the box touches.
struct IntBox {
  int x1, y1, x2, y2;
};
IntBox ToIntBox(const Box& b, MarkStyle style, Size size) {
  if (style == MarkStyle::kDataflow) {
    return {static_cast<int>(b.x1), static_cast<int>(b.y1), static_cast<int>(b.x2),
            static_cast<int>(b.y2)};
  }
  IntBox r{static_cast<int>(std::floor(std::min(b.x1, b.x2))),
           static_cast<int>(std::floor(std::min(b.y1, b.y2))),
           static_cast<int>(std::ceil(std::max(b.x1, b.x2))),
           static_cast<int>(std::ceil(std::max(b.y1, b.y2)))};
  r.x1 = std::clamp(r.x1, 0, size.width);
  r.x2 = std::clamp(r.x2, 0, size.width);
  r.y1 = std::clamp(r.y1, 0, size.height);
  r.y2 = std::clamp(r.y2, 0, size.height);
  return r;
}

bool Overlaps(const LabelRect& a, const LabelRect& b) {
  return a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
}

LabelRect ClampInto(LabelRect r, Size size) {
  int w = r.x2 - r.x1, h = r.y2 - r.y1;
  r.x1 = std::clamp(r.x1, 0, std::max(0, size.width - w));
  r.y1 = std::clamp(r.y1, 0, std::max(0, size.height - h));
  r.x2 = r.x1 + w;
  r.y2 = r.y1 + h;
  return r;
}

/// kNumbered label placement: the first free spot among positions around
/// the box (outside above, inside top, below, ...), else the free grid
/// position nearest the box's corner, else overlap as a last resort.
LabelRect PlaceLabel(const IntBox& b, int w, int h, Size size,
                     const std::vector<LabelRect>& placed) {
  auto free = [&](const LabelRect& r) {
    return std::none_of(placed.begin(), placed.end(),
                        [&](const LabelRect& p) { return Overlaps(r, p); });
  };
  const std::pair<int, int> candidates[] = {
      {b.x1, b.y1 - h}, {b.x1, b.y1},     {b.x1, b.y2},     {b.x1, b.y2 - h},
      {b.x2 - w, b.y1 - h}, {b.x2 - w, b.y2}, {b.x1 - w, b.y1}, {b.x2, b.y1},
  };
  for (auto [x, y] : candidates) {
    LabelRect r = ClampInto({x, y, x + w, y + h}, size);
    if (free(r)) return r;
  }
  const int step = std::max(1, std::min(w, h) / 2);
  LabelRect best = ClampInto({b.x1, b.y1 - h, b.x1 + w, b.y1}, size);
  int64_t best_d = -1;
  for (int y = 0; y + h <= size.height; y += step) {
    for (int x = 0; x + w <= size.width; x += step) {
      LabelRect r{x, y, x + w, y + h};
      if (!free(r)) continue;
      int64_t dx = x - b.x1, dy = y - (b.y1 - h);
      int64_t d = dx * dx + dy * dy;
      if (best_d < 0 || d < best_d) {
        best_d = d;
        best = r;
      }
    }
  }
  return best;
}

void DrawOutline(RgbImage& img, const IntBox& b, int t, const uint8_t rgb[3]) {
  FillRect(img, b.x1, b.y1, b.x2, std::min(b.y2, b.y1 + t), rgb);
  FillRect(img, b.x1, std::max(b.y1, b.y2 - t), b.x2, b.y2, rgb);
  FillRect(img, b.x1, b.y1, std::min(b.x2, b.x1 + t), b.y2, rgb);
  FillRect(img, std::max(b.x1, b.x2 - t), b.y1, b.x2, b.y2, rgb);
}

/// OpenCV's rectangle() at thickness 2, as DataFlow draws its boxes: 3 px
/// lines centred on each edge (c-1..c+1) whose round caps leave the four
/// outer corner pixels unpainted (checked against cv2 4.6 on boxes from 1 px
/// up, and by the parity test against tests/dataflow_reference.py).
void DrawCvRectangle2(RgbImage& img, const IntBox& b, const uint8_t rgb[3]) {
  auto put = [&](int x, int y) {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    if ((x == b.x1 - 1 || x == b.x2 + 1) && (y == b.y1 - 1 || y == b.y2 + 1)) return;  // caps
    std::copy(rgb, rgb + 3, img.at(x, y));
  };
  for (int y = std::max(b.y1 - 1, 0); y <= std::min(b.y2 + 1, img.height - 1); ++y) {
    const bool horizontal = std::abs(y - b.y1) <= 1 || std::abs(y - b.y2) <= 1;
    for (int x = b.x1 - 1; x <= b.x2 + 1; ++x) {
      if (horizontal || std::abs(x - b.x1) <= 1 || std::abs(x - b.x2) <= 1) {
        put(x, y);
      } else {
        x = std::max(x, b.x2 - 2);  // skip the inside of the box
      }
    }
  }
}

// DataFlow-MM geometry (OpenCV HERSHEY_SIMPLEX, scale 0.65, thickness 2):
// digits 14 px high, text origin (x+4, y+20), patch from the text's top
// minus the 7 px baseline to the baseline below it.
constexpr int kDfGlyph = 14;
constexpr int kDfBaseline = 7;

/// Top-left of the DataFlow digits' cell for a box starting at (x, y): 2 px
/// right of the text origin (x+4, y+20), one glyph height above it.
std::pair<int, int> DfTextCell(int x, int y) { return {x + 4 + 2, y + 20 - kDfGlyph}; }

}  // namespace

Box CropRect(const Box& box, double margin, Size image) {
  const double mx = box.width() * margin;
  const double my = box.height() * margin;
  const int x1 = std::clamp(static_cast<int>(std::floor(box.x1 - mx)), 0, image.width - 1);
  const int y1 = std::clamp(static_cast<int>(std::floor(box.y1 - my)), 0, image.height - 1);
  const int x2 = std::clamp(static_cast<int>(std::ceil(box.x2 + mx)), x1 + 1, image.width);
  const int y2 = std::clamp(static_cast<int>(std::ceil(box.y2 + my)), y1 + 1, image.height);
  return Box{static_cast<double>(x1), static_cast<double>(y1), static_cast<double>(x2), static_cast<double>(y2)};
}

RgbImage CropAround(const RgbImage& image, const Box& box, double margin, Box* rect) {
  const Box r = CropRect(box, margin, Size{image.width, image.height});
  if (rect) *rect = r;
  const int x1 = static_cast<int>(r.x1), y1 = static_cast<int>(r.y1);
  const int x2 = static_cast<int>(r.x2), y2 = static_cast<int>(r.y2);
  RgbImage out;
  out.width = x2 - x1;
  out.height = y2 - y1;
  out.pixels.resize(static_cast<size_t>(out.width) * out.height * 3);
  for (int y = 0; y < out.height; ++y) {
    std::copy_n(image.at(x1, y1 + y), static_cast<size_t>(out.width) * 3, out.at(0, y));
  }
  return out;
}

std::string RegionLabel(MarkStyle style, int number) {
  std::string digits = std::to_string(number);
  if (style != MarkStyle::kNumbered) return digits;
  std::string label = "[";
  label += digits;
  label += ']';
  return label;
}

void MarkColor(int number, uint8_t rgb[3]) {
  // High-contrast palette (after Sasha Trubetskoy's 20 distinct colours).
  static const uint8_t kPalette[][3] = {
      {230, 25, 75},  {60, 180, 75},  {0, 130, 200},   {255, 225, 25}, {245, 130, 48},
      {145, 30, 180}, {70, 240, 240}, {240, 50, 230},  {210, 245, 60}, {0, 128, 128},
      {170, 110, 40}, {128, 0, 0},    {170, 255, 195}, {0, 0, 128},    {128, 128, 0},
  };
  constexpr int kCount = sizeof(kPalette) / sizeof(kPalette[0]);
  if (number >= 1 && number <= kCount) {
    std::copy(kPalette[number - 1], kPalette[number - 1] + 3, rgb);
    return;
  }
  // Beyond the palette: golden-ratio hue steps, full saturation.
  double h = std::fmod(std::abs(number) * 0.618033988749895, 1.0) * 6.0;
  double x = 1.0 - std::abs(std::fmod(h, 2.0) - 1.0);
  double r = 0, g = 0, b = 0;
  switch (static_cast<int>(h)) {
    case 0: r = 1; g = x; break;
    case 1: r = x; g = 1; break;
    case 2: g = 1; b = x; break;
    case 3: g = x; b = 1; break;
    case 4: r = x; b = 1; break;
    default: r = 1; b = x; break;
  }
  rgb[0] = static_cast<uint8_t>(std::lround(r * 220));
  rgb[1] = static_cast<uint8_t>(std::lround(g * 220));
  rgb[2] = static_cast<uint8_t>(std::lround(b * 220));
}

MarkLayout LayoutMarks(Size size, const std::vector<Box>& boxes, MarkStyle style) {
  MarkLayout layout;
  if (style == MarkStyle::kDataflow) {
    layout.line_width = 2;
    layout.glyph_height = kDfGlyph;
    for (size_t i = 0; i < boxes.size(); ++i) {
      IntBox b = ToIntBox(boxes[i], style, size);
      // getTextSize width: 13 px advance per digit plus the 2 px thickness.
      int tw = 13 * static_cast<int>(RegionLabel(style, static_cast<int>(i + 1)).size()) + 2;
      int ox = b.x1 + 4, oy = b.y1 + 20;
      layout.labels.push_back({ox, oy - kDfGlyph - 1 - kDfBaseline, ox + tw + 1, oy + kDfBaseline + 1});
    }
    return layout;
  }
  const double scale = std::sqrt(static_cast<double>(size.width) * size.height);
  layout.line_width = std::clamp(static_cast<int>(std::lround(scale / 320)), 2, 16);
  int glyph = std::clamp(static_cast<int>(std::lround(scale / 42)), 10, 120);
  glyph = std::max(6, std::min(glyph, size.height / 4));
  layout.glyph_height = glyph;
  const int pad = std::max(2, glyph / 5);
  for (size_t i = 0; i < boxes.size(); ++i) {
    IntBox b = ToIntBox(boxes[i], style, size);
    int w = TextWidth(RegionLabel(style, static_cast<int>(i + 1)), glyph) + 2 * pad;
    int h = glyph + 2 * pad;
    layout.labels.push_back(PlaceLabel(b, w, h, size, layout.labels));
  }
  return layout;
}

RgbImage DrawMarks(const RgbImage& image, const std::vector<Box>& boxes, MarkStyle style) {
  RgbImage out = image;
  Size size{image.width, image.height};
  MarkLayout layout = LayoutMarks(size, boxes, style);
  if (style == MarkStyle::kDataflow) {
    // addWeighted(img, 0.8, zeros, 0.2, 0): round(0.8 v), never a tie.
    for (uint8_t& v : out.pixels) v = static_cast<uint8_t>((4 * v + 2) / 5);
    const uint8_t green[3] = {0, 255, 0}, black[3] = {0, 0, 0}, white[3] = {255, 255, 255};
    for (size_t i = 0; i < boxes.size(); ++i) {
      IntBox b = ToIntBox(boxes[i], style, size);
      DrawCvRectangle2(out, b, green);
      const LabelRect& l = layout.labels[i];
      FillRect(out, l.x1, l.y1, l.x2, l.y2, black);
      const auto [tx, ty] = DfTextCell(b.x1, b.y1);
      DrawText(out, tx, ty, kDfGlyph,
               RegionLabel(style, static_cast<int>(i + 1)), white);
    }
    return out;
  }
  for (size_t i = 0; i < boxes.size(); ++i) {
    uint8_t colour[3];
    MarkColor(static_cast<int>(i + 1), colour);
    DrawOutline(out, ToIntBox(boxes[i], style, size), layout.line_width, colour);
  }
  // Labels after all outlines, so no outline crosses a label.
  const int pad = std::max(2, layout.glyph_height / 5);
  for (size_t i = 0; i < boxes.size(); ++i) {
    uint8_t colour[3];
    MarkColor(static_cast<int>(i + 1), colour);
    const LabelRect& l = layout.labels[i];
    FillRect(out, l.x1, l.y1, l.x2, l.y2, colour);
    double luma = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2];
    const uint8_t ink_dark[3] = {0, 0, 0}, ink_light[3] = {255, 255, 255};
    DrawText(out, l.x1 + pad, l.y1 + pad, layout.glyph_height,
             RegionLabel(style, static_cast<int>(i + 1)), luma > 140 ? ink_dark : ink_light);
  }
  return out;
}

int ReadDataflowLabel(const RgbImage& image, int x, int y, int max_number) {
  // Candidates are compared at offsets of up to kSlack px from where
  // DrawMarks puts the digits, each over its own width plus one more digit
  // to the right, so "1" does not match the first digit of "12".
  constexpr int kSlack = 2;
  const int h = kDfGlyph + 2 * kSlack;
  const int widest = 13 * static_cast<int>(std::to_string(max_number).size() + 1) + 2;
  // Ink: DrawMarks writes white (255) on black and dims everything else to
  // at most 204, so ink is what is clearly brighter than that. Computed once
  // for the whole area any candidate looks at.
  const auto [cx, cy] = DfTextCell(x, y);
  const int mx = cx - 2 * kSlack, my = cy - 2 * kSlack;
  const int mw = widest + 2 * kSlack, mh = h + 2 * kSlack;
  std::vector<uint8_t> ink(static_cast<size_t>(mw) * mh, 0);
  for (int j = 0; j < mh; ++j) {
    for (int i = 0; i < mw; ++i) {
      const int px = mx + i, py = my + j;
      if (px < 0 || py < 0 || px >= image.width || py >= image.height) continue;
      const uint8_t* p = image.at(px, py);
      ink[static_cast<size_t>(j) * mw + i] = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2] >= 215;
    }
  }
  const uint8_t white[3] = {255, 255, 255};
  int best = 0;
  double best_iou = 0.4;  // below this, nothing legible is there
  for (int n = 1; n <= max_number; ++n) {
    const std::string text = RegionLabel(MarkStyle::kDataflow, n);
    const int w = 13 * static_cast<int>(text.size() + 1) + 2;
    RgbImage glyphs = RgbImage::Filled(w, h, 0);
    DrawText(glyphs, kSlack, kSlack, kDfGlyph, text, white);
    for (int oy = 0; oy <= 2 * kSlack; ++oy) {
      for (int ox = 0; ox <= 2 * kSlack; ++ox) {
        int both = 0, either = 0;
        for (int gy = 0; gy < h; ++gy) {
          const uint8_t* seen = &ink[static_cast<size_t>(oy + gy) * mw + ox];
          for (int gx = 0; gx < w; ++gx) {
            const bool drawn = glyphs.at(gx, gy)[0] != 0;
            both += drawn && seen[gx];
            either += drawn || seen[gx];
          }
        }
        const double iou = either ? static_cast<double>(both) / either : 0;
        if (iou > best_iou) best_iou = iou, best = n;
      }
    }
  }
  return best;
}

}  // namespace groundcap
