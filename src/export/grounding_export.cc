#include "export/grounding_export.h"

#include <cmath>

#include <fmt/format.h>

namespace groundcap {

namespace {

using ojson = nlohmann::ordered_json;

/// A number as JSON: an integer when it is one (groundcap writes int pixels),
/// so 161 stays 161 and not 161.0.
ojson Num(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15) return static_cast<int64_t>(v);
  return v;
}

ojson BoxJson(const std::array<double, 4>& b) { return ojson::array({Num(b[0]), Num(b[1]), Num(b[2]), Num(b[3])}); }

ojson SpanList(const ExportExpression& e) { return ojson::array({ojson::array({e.start, e.end})}); }

/// Reads a non-negative integer (JSON integer or integral float).
bool ReadInt(const ojson& j, int64_t* out) {
  if (j.is_number_integer()) {
    *out = j.get<int64_t>();
    return true;
  }
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) return false;
    *out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

/// The instance's box when it is 4 finite numbers with x2 > x1 and y2 > y1.
bool ReadBox(const ojson& inst, XyxyBox* box) {
  auto it = inst.find("bbox");
  if (it == inst.end() || !it->is_array() || it->size() != 4) return false;
  for (size_t i = 0; i < 4; ++i) {
    if (!(*it)[i].is_number()) return false;
    (*box)[i] = (*it)[i].get<double>();
    if (!std::isfinite((*box)[i])) return false;
  }
  return (*box)[2] > (*box)[0] && (*box)[3] > (*box)[1];
}

}  // namespace

XywhBox XyxyToXywh(const XyxyBox& b) { return {b[0], b[1], b[2] - b[0], b[3] - b[1]}; }

XyxyBox XywhToXyxy(const XywhBox& b) { return {b[0], b[1], b[0] + b[2], b[1] + b[3]}; }

int64_t CodePointCount(std::string_view utf8) {
  int64_t n = 0;
  for (unsigned char c : utf8) n += (c & 0xC0) != 0x80;
  return n;
}

int64_t ExportImage::box_count() const {
  int64_t n = 0;
  for (const auto& e : expressions) n += static_cast<int64_t>(e.boxes.size());
  return n;
}

int64_t ExportCounts::left_out_by_status_total() const {
  int64_t n = 0;
  for (const auto& [status, count] : left_out_by_status) n += count;
  return n;
}

ojson ExportCounts::ToJson() const {
  ojson by_status = ojson::object();
  for (const auto& [status, count] : left_out_by_status) by_status[status] = count;
  return ojson{{"records_read", records_read},
               {"records_written", records_written},
               {"regions_written", regions_written},
               {"left_out_by_status", by_status},
               {"records_without_regions", records_without_regions},
               {"records_unusable", records_unusable},
               {"instances_rejected", instances_rejected},
               {"instances_bad_box", instances_bad_box},
               {"expressions_without_span", expressions_without_span},
               {"expressions_without_boxes", expressions_without_boxes}};
}

std::string ExportCounts::ToText(std::string_view format) const {
  std::string by_status;
  for (const auto& [status, count] : left_out_by_status) {
    by_status += fmt::format("{}{} {}", by_status.empty() ? "" : ", ", count, status);
  }
  if (by_status.empty()) by_status = "none";
  std::string out;
  out += fmt::format("export {}: {} records read, {} written ({} regions)\n", format, records_read,
                     records_written, regions_written);
  out += fmt::format("  records left out by status: {} ({})\n", left_out_by_status_total(), by_status);
  out += fmt::format("  records left out with no region after the filters: {}\n", records_without_regions);
  out += fmt::format("  records unusable (not JSON / not image grounding): {}\n", records_unusable);
  out += fmt::format("  instances left out, rejected by verification: {}\n", instances_rejected);
  out += fmt::format("  instances left out, malformed box: {}\n", instances_bad_box);
  out += fmt::format("  expressions left out, no span in the caption: {}\n", expressions_without_span);
  out += fmt::format("  expressions left out, no box kept: {}\n", expressions_without_boxes);
  return out;
}

RecordVerdict ReadGroundingRecord(const ojson& record, ExportImage* image, ExportCounts* counts,
                                  std::string* reason) {
  *image = ExportImage{};
  auto status_it = record.find("status");
  std::string status = status_it != record.end() && status_it->is_string() ? status_it->get<std::string>()
                                                                              : std::string("missing");
  if (status != "ok") {
    ++counts->left_out_by_status[status];
    return RecordVerdict::kLeftOutByStatus;
  }
  auto unusable = [&](std::string why) {
    ++counts->records_unusable;
    *reason = std::move(why);
    return RecordVerdict::kUnusable;
  };
  auto path = record.find("image_path");
  auto caption = record.find("cleaned_caption");
  auto exprs = record.find("expressions");
  auto w = record.find("image_width");
  auto h = record.find("image_height");
  if (path == record.end() || !path->is_string()) return unusable("no string image_path");
  if (caption == record.end() || !caption->is_string()) {
    return unusable("no string cleaned_caption (not an image-grounding record)");
  }
  if (exprs == record.end() || !exprs->is_array()) return unusable("no expressions array");
  int64_t width = 0, height = 0;
  if (w == record.end() || h == record.end() || !ReadInt(*w, &width) || !ReadInt(*h, &height) ||
      width <= 0 || height <= 0 || width > INT32_MAX || height > INT32_MAX) {
    return unusable("no positive image_width/image_height");
  }
  image->file_name = path->get<std::string>();
  image->width = static_cast<int>(width);
  image->height = static_cast<int>(height);
  image->caption = caption->get<std::string>();
  const int64_t caption_len = CodePointCount(image->caption);

  for (const auto& e : *exprs) {
    if (!e.is_object()) {
      ++counts->expressions_without_span;
      continue;
    }
    auto span = e.find("char_span");
    int64_t start = 0, end = 0;
    if (span == e.end() || !span->is_array() || span->size() != 2 || !ReadInt((*span)[0], &start) ||
        !ReadInt((*span)[1], &end) || start < 0 || end <= start || end > caption_len) {
      ++counts->expressions_without_span;
      continue;
    }
    ExportExpression out;
    auto text = e.find("text");
    out.text = text != e.end() && text->is_string() ? text->get<std::string>() : std::string();
    out.start = start;
    out.end = end;
    auto insts = e.find("instances");
    if (insts != e.end() && insts->is_array()) {
      for (const auto& inst : *insts) {
        if (!inst.is_object()) {
          ++counts->instances_bad_box;
          continue;
        }
        auto verified = inst.find("verified");
        if (verified != inst.end() && verified->is_boolean() && !verified->get<bool>()) {
          ++counts->instances_rejected;
          continue;
        }
        XyxyBox box;
        if (!ReadBox(inst, &box)) {
          ++counts->instances_bad_box;
          continue;
        }
        out.boxes.push_back(box);
      }
    }
    if (out.boxes.empty()) {
      ++counts->expressions_without_boxes;
      continue;
    }
    image->expressions.push_back(std::move(out));
  }
  if (image->expressions.empty()) {
    ++counts->records_without_regions;
    return RecordVerdict::kNoRegions;
  }
  return RecordVerdict::kExport;
}

ojson ToOdvgLine(const ExportImage& image) {
  ojson regions = ojson::array();
  for (const auto& e : image.expressions) {
    for (const auto& b : e.boxes) {
      regions.push_back(ojson{{"bbox", BoxJson(b)}, {"phrase", e.text}, {"tokens_positive", SpanList(e)}});
    }
  }
  return ojson{{"filename", image.file_name},
               {"height", image.height},
               {"width", image.width},
               {"grounding", ojson{{"caption", image.caption}, {"regions", std::move(regions)}}}};
}

ojson ToCocoImage(const ExportImage& image, int64_t image_id) {
  ojson eval = ojson::array();
  for (const auto& e : image.expressions) eval.push_back(SpanList(e));
  return ojson{{"id", image_id},
               {"file_name", image.file_name},
               {"height", image.height},
               {"width", image.width},
               {"caption", image.caption},
               {"dataset_name", "groundcap"},
               {"tokens_negative", ojson::array({ojson::array({0, CodePointCount(image.caption)})})},
               {"tokens_positive_eval", std::move(eval)}};
}

std::vector<ojson> ToCocoAnnotations(const ExportImage& image, int64_t image_id, int64_t first_annotation_id) {
  std::vector<ojson> out;
  int64_t id = first_annotation_id;
  for (const auto& e : image.expressions) {
    for (const auto& b : e.boxes) {
      XywhBox xywh = XyxyToXywh(b);
      out.push_back(ojson{{"id", id++},
                          {"image_id", image_id},
                          {"bbox", BoxJson(xywh)},
                          {"area", Num(xywh[2] * xywh[3])},
                          {"iscrowd", 0},
                          {"category_id", 1},
                          {"tokens_positive", SpanList(e)}});
    }
  }
  return out;
}

ojson CocoCategories() { return ojson::array({ojson{{"id", 1}, {"name", "object"}}}); }

}  // namespace groundcap
