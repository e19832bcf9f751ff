// Original pixels -> each family's box convention: the inverse of MapQuad
// and the answer texts ParseBoxes reads. See box_format.h.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "boxes/box_format.h"

namespace groundcap {

namespace {

/// True for formats whose coordinates are written as integers.
bool IntegerCoordinates(BoxFormat f) { return f != BoxFormat::kMoondream && f != BoxFormat::kXyxyNorm1; }

/// One coordinate as the family writes it.
std::string Coord(double v, BoxFormat f) {
  char buf[32];
  if (IntegerCoordinates(f)) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(std::llround(v)));
  } else {
    std::snprintf(buf, sizeof buf, "%.4f", v);
    // 0.2500 -> 0.25: trailing zeros carry nothing.
    std::string s = buf;
    while (s.size() > 1 && s.back() == '0' && s.find('.') != std::string::npos) s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }
  return buf;
}

nlohmann::json CoordJson(double v, BoxFormat f) {
  if (IntegerCoordinates(f)) return static_cast<int64_t>(std::llround(v));
  return std::round(v * 10000) / 10000;
}

/// "[a, b, c, d]"
std::string QuadList(const std::array<double, 4>& q, BoxFormat f) {
  return "[" + Coord(q[0], f) + ", " + Coord(q[1], f) + ", " + Coord(q[2], f) + ", " + Coord(q[3], f) + "]";
}

std::string Loc(double v, int digits, int max_bin) {
  int bin = static_cast<int>(std::clamp<double>(std::llround(v), 0, max_bin));
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*d", digits, bin);
  return buf;
}

std::string JsonKey(BoxFormat f) {
  switch (f) {
    case BoxFormat::kGemini:
      return "box_2d";
    case BoxFormat::kQwen25Vl:
    case BoxFormat::kQwen3Vl:
      return "bbox_2d";
    default:
      return "bbox";
  }
}

}  // namespace

std::array<double, 4> UnmapQuad(const Box& box, BoxFormat format, Size image, Size input) {
  if (input.width <= 0 || input.height <= 0) input = image;
  const double w = std::max(1, image.width), h = std::max(1, image.height);
  const double nx1 = box.x1 / w, ny1 = box.y1 / h, nx2 = box.x2 / w, ny2 = box.y2 / h;
  switch (format) {
    case BoxFormat::kGemini:
      return {ny1 * 1000, nx1 * 1000, ny2 * 1000, nx2 * 1000};
    case BoxFormat::kPaliGemma:
      return {std::min(1023.0, ny1 * 1024), std::min(1023.0, nx1 * 1024), std::min(1023.0, ny2 * 1024),
              std::min(1023.0, nx2 * 1024)};
    case BoxFormat::kQwen25Vl:
    case BoxFormat::kXyxyPixels:
      return {nx1 * input.width, ny1 * input.height, nx2 * input.width, ny2 * input.height};
    case BoxFormat::kDeepseekVl2:
      return {nx1 * 999, ny1 * 999, nx2 * 999, ny2 * 999};
    case BoxFormat::kFlorence2:
      // MapQuad reads the bin centre, (b + 0.5) / 1000
      return {std::clamp(std::floor(nx1 * 1000), 0.0, 999.0), std::clamp(std::floor(ny1 * 1000), 0.0, 999.0),
              std::clamp(std::floor(nx2 * 1000), 0.0, 999.0), std::clamp(std::floor(ny2 * 1000), 0.0, 999.0)};
    case BoxFormat::kMoondream:
    case BoxFormat::kXyxyNorm1:
      return {nx1, ny1, nx2, ny2};
    default:  // qwen2_vl, qwen3_vl, internvl, glm4v, xyxy_norm1000: 0-1000
      return {nx1 * 1000, ny1 * 1000, nx2 * 1000, ny2 * 1000};
  }
}

std::string FormatBoxAnswer(const std::vector<Box>& boxes, BoxFormat format, Size image, Size input) {
  std::string out;
  switch (format) {
    case BoxFormat::kInternVl: {
      // Consecutive boxes of one phrase share a <ref>: <ref>a</ref><box>[[..], [..]]</box>
      for (size_t i = 0; i < boxes.size();) {
        size_t j = i;
        std::string group;
        while (j < boxes.size() && boxes[j].label == boxes[i].label) {
          group += (j == i ? "" : ", ") + QuadList(UnmapQuad(boxes[j], format, image, input), format);
          ++j;
        }
        if (!out.empty()) out += "\n";
        if (!boxes[i].label.empty()) out += "<ref>" + boxes[i].label + "</ref>";
        out += "<box>[" + group + "]</box>";
        i = j;
      }
      return out;
    }
    case BoxFormat::kQwen2Vl:
      for (const Box& b : boxes) {
        auto q = UnmapQuad(b, format, image, input);
        if (!out.empty()) out += "\n";
        if (!b.label.empty()) out += "<|object_ref_start|>" + b.label + "<|object_ref_end|>";
        out += "<|box_start|>(" + Coord(q[0], format) + "," + Coord(q[1], format) + "),(" + Coord(q[2], format) +
               "," + Coord(q[3], format) + ")<|box_end|>";
      }
      return out;
    case BoxFormat::kGlm4v:
      for (const Box& b : boxes) {
        if (!out.empty()) out += "\n";
        out += b.label + "<|begin_of_box|>" + QuadList(UnmapQuad(b, format, image, input), format) +
               "<|end_of_box|>";
      }
      return out;
    case BoxFormat::kDeepseekVl2:
      for (const Box& b : boxes) {
        if (!out.empty()) out += "\n";
        if (!b.label.empty()) out += "<|ref|>" + b.label + "<|/ref|>";
        out += "<|det|>[" + QuadList(UnmapQuad(b, format, image, input), format) + "]<|/det|>";
      }
      return out;
    case BoxFormat::kFlorence2:
      for (const Box& b : boxes) {
        auto q = UnmapQuad(b, format, image, input);
        out += b.label;
        for (double v : q) out += "<loc_" + std::to_string(static_cast<int>(v)) + ">";
      }
      return out;
    case BoxFormat::kPaliGemma:
      for (const Box& b : boxes) {
        auto q = UnmapQuad(b, format, image, input);
        if (!out.empty()) out += " ; ";
        for (double v : q) out += "<loc" + Loc(v, 4, 1023) + ">";
        if (!b.label.empty()) out += " " + b.label;
      }
      return out;
    default:
      break;
  }
  // JSON families.
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const Box& b : boxes) {
    auto q = UnmapQuad(b, format, image, input);
    nlohmann::ordered_json item = nlohmann::ordered_json::object();
    if (format == BoxFormat::kMoondream) {
      item["x_min"] = CoordJson(q[0], format);
      item["y_min"] = CoordJson(q[1], format);
      item["x_max"] = CoordJson(q[2], format);
      item["y_max"] = CoordJson(q[3], format);
    } else {
      item[JsonKey(format)] = {CoordJson(q[0], format), CoordJson(q[1], format), CoordJson(q[2], format),
                               CoordJson(q[3], format)};
    }
    if (!b.label.empty()) item["label"] = b.label;
    arr.push_back(std::move(item));
  }
  return arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace groundcap
