// The simulated teacher's eyes: segmentation, shape classification and
// text matching. The reply side (tasks, families, noise) is sim_reply.cc.
#include "sim/sim_vision.h"
#include "util/text_util.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

namespace groundcap {
namespace {

constexpr int kForegroundDiff = 60;       ///< max channel difference from the background
constexpr int kPaletteDist2 = 3 * 55 * 55;  ///< a pixel "is" a palette colour within this

struct Background {
  double rgb[3] = {0, 0, 0};
};

/// Median colour of the image border (two-pixel frame).
Background EstimateBackground(const RgbImage& img) {
  std::vector<uint8_t> ch[3];
  auto add = [&](int x, int y) {
    const uint8_t* p = img.at(x, y);
    for (int c = 0; c < 3; ++c) ch[c].push_back(p[c]);
  };
  for (int x = 0; x < img.width; ++x) {
    for (int d = 0; d < std::min(2, img.height); ++d) {
      add(x, d);
      add(x, img.height - 1 - d);
    }
  }
  for (int y = 0; y < img.height; ++y) {
    for (int d = 0; d < std::min(2, img.width); ++d) {
      add(d, y);
      add(img.width - 1 - d, y);
    }
  }
  Background bg;
  for (int c = 0; c < 3; ++c) {
    if (ch[c].empty()) continue;
    std::nth_element(ch[c].begin(), ch[c].begin() + ch[c].size() / 2, ch[c].end());
    bg.rgb[c] = ch[c][ch[c].size() / 2];
  }
  return bg;
}

int MaxDiff(const uint8_t* p, const Background& bg) {
  double d = 0;
  for (int c = 0; c < 3; ++c) d = std::max(d, std::abs(p[c] - bg.rgb[c]));
  return static_cast<int>(d);
}

/// 4-connected components of pixels where `member` is true, inside the
/// rectangle [x0,x1) x [y0,y1) of a w-wide grid; `key` splits touching
/// pixels of different keys. Returns the pixel index lists.
template <class Member, class Key>
std::vector<std::vector<int>> Components(int w, int x0, int y0, int x1, int y1, Member member, Key key) {
  std::vector<std::vector<int>> out;
  int cw = x1 - x0, chh = y1 - y0;
  if (cw <= 0 || chh <= 0) return out;
  std::vector<uint8_t> seen(static_cast<size_t>(cw) * chh, 0);
  std::vector<int> stack;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) {
      size_t s = static_cast<size_t>(y - y0) * cw + (x - x0);
      if (seen[s] || !member(x, y)) continue;
      int k = key(x, y);
      std::vector<int> comp;
      seen[s] = 1;
      stack.push_back(y * w + x);
      while (!stack.empty()) {
        int idx = stack.back();
        stack.pop_back();
        comp.push_back(idx);
        int px = idx % w, py = idx / w;
        const int nx[4] = {px - 1, px + 1, px, px};
        const int ny[4] = {py, py, py - 1, py + 1};
        for (int i = 0; i < 4; ++i) {
          if (nx[i] < x0 || nx[i] >= x1 || ny[i] < y0 || ny[i] >= y1) continue;
          size_t ns = static_cast<size_t>(ny[i] - y0) * cw + (nx[i] - x0);
          if (seen[ns] || !member(nx[i], ny[i]) || key(nx[i], ny[i]) != k) continue;
          seen[ns] = 1;
          stack.push_back(ny[i] * w + nx[i]);
        }
      }
      out.push_back(std::move(comp));
    }
  }
  return out;
}

/// Shape of a component given as pixel indices of a w-wide image.
FoundShape ShapeOfPixels(const std::vector<int>& pixels, int w, int color) {
  int bx1 = 1 << 30, by1 = 1 << 30, bx2 = -1, by2 = -1;
  for (int idx : pixels) {
    bx1 = std::min(bx1, idx % w);
    bx2 = std::max(bx2, idx % w);
    by1 = std::min(by1, idx / w);
    by2 = std::max(by2, idx / w);
  }
  int mw = bx2 - bx1 + 1, mh = by2 - by1 + 1;
  std::vector<uint8_t> mask(static_cast<size_t>(mw) * mh, 0);
  for (int idx : pixels) mask[static_cast<size_t>(idx / w - by1) * mw + (idx % w - bx1)] = 1;
  FoundShape f;
  f.box.x1 = bx1;
  f.box.y1 = by1;
  f.box.x2 = bx2 + 1;
  f.box.y2 = by2 + 1;
  f.color = color;
  f.shape = ClassifyMask(mask, mw, mh);
  f.area = static_cast<int64_t>(pixels.size());
  return f;
}

double Cross(double ox, double oy, double ax, double ay, double bx, double by) {
  return (ax - ox) * (by - oy) - (ay - oy) * (bx - ox);
}

/// Area of the convex hull of the mask (from each row's extreme pixel edges).
double HullArea(const std::vector<uint8_t>& mask, int w, int h) {
  std::vector<std::pair<double, double>> pts;
  for (int y = 0; y < h; ++y) {
    int l = -1, r = -1;
    for (int x = 0; x < w; ++x) {
      if (mask[static_cast<size_t>(y) * w + x]) {
        if (l < 0) l = x;
        r = x;
      }
    }
    if (l < 0) continue;
    pts.push_back({l, y});
    pts.push_back({r + 1.0, y});
    pts.push_back({l, y + 1.0});
    pts.push_back({r + 1.0, y + 1.0});
  }
  std::sort(pts.begin(), pts.end());
  pts.erase(std::unique(pts.begin(), pts.end()), pts.end());
  if (pts.size() < 3) return 0;
  std::vector<std::pair<double, double>> hull(2 * pts.size());
  size_t k = 0;
  for (size_t i = 0; i < pts.size(); ++i) {
    while (k >= 2 && Cross(hull[k - 2].first, hull[k - 2].second, hull[k - 1].first, hull[k - 1].second,
                           pts[i].first, pts[i].second) <= 0) {
      --k;
    }
    hull[k++] = pts[i];
  }
  for (size_t i = pts.size() - 1, t = k + 1; i > 0; --i) {
    while (k >= t && Cross(hull[k - 2].first, hull[k - 2].second, hull[k - 1].first, hull[k - 1].second,
                           pts[i - 1].first, pts[i - 1].second) <= 0) {
      --k;
    }
    hull[k++] = pts[i - 1];
  }
  hull.resize(k - 1);
  double area = 0;
  for (size_t i = 0; i < hull.size(); ++i) {
    const auto& a = hull[i];
    const auto& b = hull[(i + 1) % hull.size()];
    area += a.first * b.second - b.first * a.second;
  }
  return std::abs(area) / 2;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }


}  // namespace

ShapeKind ClassifyMask(const std::vector<uint8_t>& mask, int w, int h) {
  if (w <= 0 || h <= 0) return ShapeKind::kSquare;
  auto at = [&](int x, int y) { return mask[static_cast<size_t>(y) * w + x] != 0; };
  auto row_cov = [&](int y) {
    int n = 0;
    for (int x = 0; x < w; ++x) n += at(x, y) ? 1 : 0;
    return static_cast<double>(n) / w;
  };
  auto col_cov = [&](int x) {
    int n = 0;
    for (int y = 0; y < h; ++y) n += at(x, y) ? 1 : 0;
    return static_cast<double>(n) / h;
  };
  int64_t area = 0;
  for (uint8_t m : mask) area += m ? 1 : 0;
  double fill = static_cast<double>(area) / (static_cast<double>(w) * h);
  double hull = HullArea(mask, w, h);
  double solidity = hull > 0 ? area / hull : 1.0;
  if (solidity < 0.86) {
    // A cross spans its whole box through the centre both ways, even when a
    // mark clips its arms; a star does not.
    double centre = std::min(row_cov(h / 2), col_cov(w / 2));
    return centre >= 0.93 && solidity >= 0.6 ? ShapeKind::kCross : ShapeKind::kStar;
  }
  if (fill >= 0.66) {
    // A square fills its corners; a circle never does, even when clipped.
    int cx = std::max(0, static_cast<int>(0.03 * w)), cy = std::max(0, static_cast<int>(0.03 * h));
    int corners = at(cx, cy) + at(w - 1 - cx, cy) + at(cx, h - 1 - cy) + at(w - 1 - cx, h - 1 - cy);
    return corners >= 3 ? ShapeKind::kSquare : ShapeKind::kCircle;
  }
  // Convex with fill about one half: a triangle has one full side, a diamond none.
  int ri = std::clamp(static_cast<int>(std::lround(0.05 * h)), 0, h - 1);
  int ci = std::clamp(static_cast<int>(std::lround(0.05 * w)), 0, w - 1);
  double side = std::max({row_cov(ri), row_cov(h - 1 - ri), col_cov(ci), col_cov(w - 1 - ci)});
  return side >= 0.6 ? ShapeKind::kTriangle : ShapeKind::kDiamond;
}

std::vector<FoundShape> FindShapes(const RgbImage& image) {
  std::vector<FoundShape> found;
  if (image.width < 3 || image.height < 3) return found;
  const int w = image.width, h = image.height;
  Background bg = EstimateBackground(image);
  auto fg = [&](int x, int y) { return MaxDiff(image.at(x, y), bg) > kForegroundDiff; };
  auto comps = Components(w, 0, 0, w, h, fg, [](int, int) { return 0; });
  const size_t min_area = std::max<size_t>(24, static_cast<size_t>(w) * h / 8000);
  for (const std::vector<int>& comp : comps) {
    if (comp.size() < min_area) continue;
    // Object colour: mean of the component's most contrasted pixels (edges
    // blend with the background).
    int max_diff = 0;
    for (int idx : comp) max_diff = std::max(max_diff, MaxDiff(&image.pixels[static_cast<size_t>(idx) * 3], bg));
    double sum[3] = {0, 0, 0};
    int n = 0;
    for (int idx : comp) {
      const uint8_t* p = &image.pixels[static_cast<size_t>(idx) * 3];
      if (MaxDiff(p, bg) < 0.7 * max_diff) continue;
      for (int c = 0; c < 3; ++c) sum[c] += p[c];
      ++n;
    }
    uint8_t mean[3];
    for (int c = 0; c < 3; ++c) mean[c] = static_cast<uint8_t>(std::lround(sum[c] / std::max(1, n)));
    int color = NearestPaletteColor(mean);
    // Refine: a pixel belongs to the object when it is at least 30% of the way
    // from the background to the object colour on the most contrasted channel.
    int cc = 0;
    for (int c = 1; c < 3; ++c) {
      if (std::abs(mean[c] - bg.rgb[c]) > std::abs(mean[cc] - bg.rgb[cc])) cc = c;
    }
    double contrast = mean[cc] - bg.rgb[cc];
    int bx1 = w, by1 = h, bx2 = 0, by2 = 0;
    for (int idx : comp) {
      bx1 = std::min(bx1, idx % w);
      bx2 = std::max(bx2, idx % w + 1);
      by1 = std::min(by1, idx / w);
      by2 = std::max(by2, idx / w + 1);
    }
    std::vector<int> refined;
    for (int y = std::max(0, by1 - 2); y < std::min(h, by2 + 2); ++y) {
      for (int x = std::max(0, bx1 - 2); x < std::min(w, bx2 + 2); ++x) {
        double t = (image.at(x, y)[cc] - bg.rgb[cc]) / contrast;
        if (t >= 0.3) refined.push_back(y * w + x);
      }
    }
    if (refined.size() < min_area / 2) continue;
    found.push_back(ShapeOfPixels(refined, w, color));
  }
  return found;
}

std::optional<FoundShape> DescribeRegion(const RgbImage& image, const Box& region, int margin,
                                        const std::vector<Box>& hidden) {
  if (image.width < 3 || image.height < 3) return std::nullopt;
  Background bg = EstimateBackground(image);
  int x0 = std::clamp(static_cast<int>(std::lround(region.x1)) + margin, 0, image.width);
  int y0 = std::clamp(static_cast<int>(std::lround(region.y1)) + margin, 0, image.height);
  int x1 = std::clamp(static_cast<int>(std::lround(region.x2)) - margin, 0, image.width);
  int y1 = std::clamp(static_cast<int>(std::lround(region.y2)) - margin, 0, image.height);
  auto is_hidden = [&](int x, int y) {
    for (const Box& b : hidden) {
      if (x >= b.x1 && x < b.x2 && y >= b.y1 && y < b.y2) return true;
    }
    return false;
  };
  auto palette_of = [&](int x, int y) {
    const uint8_t* p = image.at(x, y);
    if (MaxDiff(p, bg) <= kForegroundDiff || is_hidden(x, y)) return -1;
    int d2 = 0;
    int idx = NearestPaletteColor(p, &d2);
    return d2 <= kPaletteDist2 ? idx : -1;
  };
  auto comps = Components(image.width, x0, y0, x1, y1, [&](int x, int y) { return palette_of(x, y) >= 0; },
                          palette_of);
  const std::vector<int>* best = nullptr;
  for (const auto& c : comps) {
    if (best == nullptr || c.size() > best->size()) best = &c;
  }
  if (best == nullptr || best->size() < 20) return std::nullopt;
  const int w = image.width;
  int color = palette_of(best->front() % w, best->front() / w);
  if (hidden.empty()) return ShapeOfPixels(*best, w, color);
  // Labels drawn over the object: every synthetic shape is left-right
  // symmetric about the region's centre line, so a hidden pixel is set when
  // its mirror image is set, or is hidden too and lies within the row's
  // mirrored extent.
  const int axis2 = static_cast<int>(std::lround(region.x1 + region.x2)) - 1;  // x + mirror(x)
  std::vector<uint8_t> member(static_cast<size_t>(w) * image.height, 0);
  for (int idx : *best) member[idx] = 1;
  std::vector<int> pixels = *best;
  for (int y = y0; y < y1; ++y) {
    int right = -1;
    for (int x = x0; x < x1; ++x) {
      if (member[static_cast<size_t>(y) * w + x]) right = x;
    }
    if (right < 0) continue;
    int left = axis2 - right;
    for (int x = std::max(x0, left); x <= right && x < x1; ++x) {
      if (!is_hidden(x, y) || member[static_cast<size_t>(y) * w + x]) continue;
      int mx = axis2 - x;
      bool mirror_in = mx >= 0 && mx < w && (member[static_cast<size_t>(y) * w + mx] || is_hidden(mx, y));
      if (mirror_in) pixels.push_back(y * w + x);
    }
  }
  return ShapeOfPixels(pixels, w, color);
}

SimTask DetectTask(std::string_view prompt) {
  if (prompt.find("Describe the content of each marked region") != std::string_view::npos) {
    return SimTask::kRegionDataflow;
  }
  bool region = false, expr = false, caption = false, verify = false;
  size_t pos = 0;
  while (pos <= prompt.size()) {
    size_t nl = prompt.find('\n', pos);
    std::string_view line = prompt.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t' || line.front() == '-')) {
      line.remove_prefix(1);
    }
    if (line.starts_with("Region [")) region = true;
    if (line.size() > 3 && line[0] == 'E' && std::isdigit(static_cast<unsigned char>(line[1]))) {
      size_t i = 1;
      while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
      if (i < line.size() && line[i] == ':') expr = true;
    }
    if (line.starts_with("Caption: ")) caption = true;
    if (line.starts_with("Crop ") && line.size() > 5 && std::isdigit(static_cast<unsigned char>(line[5]))) {
      size_t i = 5;
      while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
      if (line.substr(i).starts_with(": box ")) verify = true;
    }
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  if (verify) return SimTask::kVerify;
  if (region) return SimTask::kRegionStructured;
  if (expr) return SimTask::kGrounding;
  if (caption) return SimTask::kExtraction;
  return SimTask::kUnknown;
}

std::vector<Mention> FindMentions(std::string_view text) {
  struct Word {
    size_t begin, end;
    std::string lower;
  };
  std::vector<Word> words;
  for (size_t i = 0; i < text.size();) {
    if (!IsWordChar(text[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && IsWordChar(text[j])) ++j;
    words.push_back({i, j, AsciiLower(text.substr(i, j - i))});
    i = j;
  }
  std::vector<Mention> out;
  for (size_t k = 0; k < words.size(); ++k) {
    ShapeKind shape;
    if (!ShapeFromName(words[k].lower, &shape)) continue;
    Mention m;
    m.shape = shape;
    m.end = words[k].end;
    size_t first = k;
    // Adjacent words only: "a small red circle", "the blue square".
    auto adjacent = [&](size_t a) { return text.substr(words[a].end, words[a + 1].begin - words[a].end) == " "; };
    if (first > 0 && adjacent(first - 1) && PaletteIndex(words[first - 1].lower) >= 0) {
      m.color = PaletteIndex(words[first - 1].lower);
      --first;
    }
    static const char* kSizes[] = {"small", "large", "big", "tiny", "medium"};
    if (first > 0 && adjacent(first - 1) &&
        std::find(std::begin(kSizes), std::end(kSizes), words[first - 1].lower) != std::end(kSizes)) {
      --first;
    }
    if (first > 0 && adjacent(first - 1) &&
        (words[first - 1].lower == "a" || words[first - 1].lower == "an" || words[first - 1].lower == "the")) {
      --first;
    }
    m.begin = words[first].begin;
    out.push_back(m);
  }
  return out;
}

std::string CleanCaption(std::string_view caption) {
  static const char* kArtefacts[] = {
      "in this image we can see", "in this picture we can see", "in this image there is",
      "in this image there are", "here we can see", "we can also see", "we can see",
      "there is also", "there are also", "there is", "there are", "in this image", "in this picture"};
  std::string text(caption);
  std::string lower = AsciiLower(text);
  for (const char* a : kArtefacts) {
    std::string_view art(a);
    size_t pos = 0;
    while ((pos = lower.find(art, pos)) != std::string::npos) {
      bool left_ok = pos == 0 || !IsWordChar(lower[pos - 1]);
      size_t end = pos + art.size();
      bool right_ok = end >= lower.size() || !IsWordChar(lower[end]);
      if (!left_ok || !right_ok) {
        pos = end;
        continue;
      }
      text.erase(pos, art.size());
      lower.erase(pos, art.size());
    }
  }
  // Collapse spaces, drop spaces before punctuation, capitalise sentences.
  std::string out;
  bool sentence_start = true;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n') {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    if ((c == '.' || c == ',') && !out.empty() && out.back() == ' ') out.pop_back();
    if (sentence_start && std::isalpha(static_cast<unsigned char>(c))) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      sentence_start = false;
    }
    if (c == '.' || c == '!' || c == '?') sentence_start = true;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace groundcap
