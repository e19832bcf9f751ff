#include "region_caption/region_boxes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>

namespace groundcap {

namespace {

template <class E, size_t N>
Result<E> FromTable(std::string_view name, const std::pair<const char*, E> (&table)[N],
                    const char* what) {
  std::string all;
  for (const auto& [n, e] : table) {
    if (name == n) return e;
    all += all.empty() ? "" : ", ";
    all += n;
  }
  return Fail(ErrorKind::kInvalidInput,
              std::string("unknown ") + what + " '" + std::string(name) + "' (expected " + all + ")");
}

template <class E, size_t N>
const char* ToName(E value, const std::pair<const char*, E> (&table)[N]) {
  for (const auto& [n, e] : table) {
    if (e == value) return n;
  }
  return "?";
}

const std::pair<const char*, RegionBoxFormat> kFormats[] = {
    {"xywh", RegionBoxFormat::kXywh},
    {"xyxy", RegionBoxFormat::kXyxy},
    {"cxcywh", RegionBoxFormat::kCxcywh},
};
const std::pair<const char*, RegionBoxUnits> kUnits[] = {
    {"pixels", RegionBoxUnits::kPixels},
    {"norm1", RegionBoxUnits::kNorm1},
    {"norm1000", RegionBoxUnits::kNorm1000},
};
const std::pair<const char*, OverflowPolicy> kPolicies[] = {
    {"input_order", OverflowPolicy::kInputOrder},
    {"largest_first", OverflowPolicy::kLargestFirst},
};

RejectedBox Reject(int index, const nlohmann::json& raw, const char* reason) {
  RejectedBox r;
  r.input_index = index;
  r.raw = raw;
  r.reason = reason;
  return r;
}

}  // namespace

Result<RegionBoxFormat> RegionBoxFormatFromName(std::string_view name) {
  return FromTable(name, kFormats, "bbox_format");
}
Result<RegionBoxUnits> RegionBoxUnitsFromName(std::string_view name) {
  return FromTable(name, kUnits, "bbox_units");
}
Result<OverflowPolicy> OverflowPolicyFromName(std::string_view name) {
  return FromTable(name, kPolicies, "overflow policy");
}
const char* RegionBoxFormatName(RegionBoxFormat f) { return ToName(f, kFormats); }
const char* RegionBoxUnitsName(RegionBoxUnits u) { return ToName(u, kUnits); }
const char* OverflowPolicyName(OverflowPolicy p) { return ToName(p, kPolicies); }

nlohmann::json RejectedBox::ToJson() const {
  return {{"index", input_index}, {"box", raw}, {"reason", reason}};
}

Box ConvertQuad(const double v[4], RegionBoxFormat format, RegionBoxUnits units, Size image) {
  double sx = 1;
  double sy = 1;
  if (units == RegionBoxUnits::kNorm1) {
    sx = image.width;
    sy = image.height;
  } else if (units == RegionBoxUnits::kNorm1000) {
    sx = image.width / 1000.0;
    sy = image.height / 1000.0;
  }
  Box b;
  switch (format) {
    case RegionBoxFormat::kXywh:
      b.x1 = v[0];
      b.y1 = v[1];
      b.x2 = v[0] + v[2];
      b.y2 = v[1] + v[3];
      break;
    case RegionBoxFormat::kXyxy:
      b.x1 = v[0];
      b.y1 = v[1];
      b.x2 = v[2];
      b.y2 = v[3];
      break;
    case RegionBoxFormat::kCxcywh:
      b.x1 = v[0] - v[2] / 2;
      b.y1 = v[1] - v[3] / 2;
      b.x2 = v[0] + v[2] / 2;
      b.y2 = v[1] + v[3] / 2;
      break;
  }
  b.x1 *= sx;
  b.x2 *= sx;
  b.y1 *= sy;
  b.y2 *= sy;
  return b;
}

Result<ValidatedBoxes> ValidateBoxes(const nlohmann::json& boxes, RegionBoxFormat format,
                                     RegionBoxUnits units, Size image) {
  if (!boxes.is_array()) {
    return Fail(ErrorKind::kInvalidInput,
                std::string("boxes must be a list of [4 numbers] lists, got ") + boxes.type_name());
  }
  ValidatedBoxes out;
  for (size_t i = 0; i < boxes.size(); ++i) {
    const nlohmann::json& raw = boxes[i];
    const int index = static_cast<int>(i);
    if (!raw.is_array() || raw.size() != 4) {
      out.rejected.push_back(Reject(index, raw, "wrong_arity"));
      continue;
    }
    double v[4];
    bool numeric = true;
    for (int k = 0; k < 4; ++k) {
      if (!raw[k].is_number()) {
        numeric = false;
        break;
      }
      v[k] = raw[k].get<double>();
    }
    if (!numeric) {
      out.rejected.push_back(Reject(index, raw, "non_numeric"));
      continue;
    }
    if (!std::all_of(v, v + 4, [](double x) { return std::isfinite(x); })) {
      out.rejected.push_back(Reject(index, raw, "not_finite"));
      continue;
    }
    Box b = ConvertQuad(v, format, units, image);
    if (!(b.x2 > b.x1) || !(b.y2 > b.y1)) {
      out.rejected.push_back(Reject(index, raw, "empty"));
      continue;
    }
    Box c = b;
    c.x1 = std::clamp(b.x1, 0.0, static_cast<double>(image.width));
    c.x2 = std::clamp(b.x2, 0.0, static_cast<double>(image.width));
    c.y1 = std::clamp(b.y1, 0.0, static_cast<double>(image.height));
    c.y2 = std::clamp(b.y2, 0.0, static_cast<double>(image.height));
    if (!(c.x2 > c.x1) || !(c.y2 > c.y1)) {
      out.rejected.push_back(Reject(index, raw, "outside"));
      continue;
    }
    RegionBox r;
    r.input_index = index;
    r.box = c;
    r.raw = raw;
    r.clamped = c.x1 != b.x1 || c.x2 != b.x2 || c.y1 != b.y1 || c.y2 != b.y2;
    out.boxes.push_back(std::move(r));
  }
  return out;
}

Result<GroundingBoxes> BoxesFromGroundingRecord(const nlohmann::json& record) {
  if (!record.is_object() || !record.contains("expressions") ||
      !record["expressions"].is_array()) {
    return Fail(ErrorKind::kInvalidInput, "grounding record has no 'expressions' list");
  }
  GroundingBoxes out;
  for (const nlohmann::json& expr : record["expressions"]) {
    if (!expr.is_object()) continue;
    std::string text;
    if (expr.contains("text") && expr["text"].is_string()) text = expr["text"].get<std::string>();
    if (!expr.contains("instances") || !expr["instances"].is_array()) continue;
    for (const nlohmann::json& inst : expr["instances"]) {
      // A malformed instance is passed on so that ValidateBoxes reports it.
      out.boxes.push_back(inst.is_object() && inst.contains("bbox") ? inst["bbox"] : inst);
      out.texts.push_back(text);
    }
  }
  return out;
}

std::vector<RegionBox> ApplyMaxBoxes(std::vector<RegionBox> boxes, int max_boxes,
                                     OverflowPolicy policy, std::vector<RegionBox>* dropped) {
  if (max_boxes <= 0 || static_cast<int>(boxes.size()) <= max_boxes) return boxes;
  std::vector<size_t> order(boxes.size());
  std::iota(order.begin(), order.end(), 0);
  if (policy == OverflowPolicy::kLargestFirst) {
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return boxes[a].box.area() > boxes[b].box.area();
    });
  }
  std::vector<bool> keep(boxes.size(), false);
  for (int i = 0; i < max_boxes; ++i) keep[order[i]] = true;
  std::vector<RegionBox> kept;
  for (size_t i = 0; i < boxes.size(); ++i) {
    if (keep[i]) {
      kept.push_back(std::move(boxes[i]));
    } else if (dropped != nullptr) {
      dropped->push_back(std::move(boxes[i]));
    }
  }
  return kept;
}

double Round3(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  double r = std::strtod(buf, nullptr);
  return r == 0 ? 0.0 : r;  // no "-0.0"
}

std::vector<std::array<double, 4>> DataflowNormalize(const std::vector<Box>& boxes, Size image,
                                                     int max_boxes) {
  std::vector<std::array<double, 4>> out;
  const double w = image.width > 0 ? image.width : 1;
  const double h = image.height > 0 ? image.height : 1;
  for (const Box& b : boxes) {
    if (static_cast<int>(out.size()) >= max_boxes) break;
    out.push_back({Round3(b.x1 / w), Round3(b.y1 / h), Round3(b.x2 / w), Round3(b.y2 / h)});
  }
  while (static_cast<int>(out.size()) < max_boxes) out.push_back({0.0, 0.0, 0.0, 0.0});
  return out;
}

std::string DataflowPrompt(int regions) {
  const std::string n = std::to_string(regions);
  return "Describe the content of each marked region in the image. There are " + n +
         " regions: <region1> to <region" + n + ">.";
}

std::array<int, 4> ToGrid1000(const Box& box, Size image) {
  const double w = image.width > 0 ? image.width : 1;
  const double h = image.height > 0 ? image.height : 1;
  auto g = [](double v) { return static_cast<int>(std::lround(std::clamp(v, 0.0, 1.0) * 1000)); };
  return {g(box.x1 / w), g(box.y1 / h), g(box.x2 / w), g(box.y2 / h)};
}

}  // namespace groundcap
