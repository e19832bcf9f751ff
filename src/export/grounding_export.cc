#include "export/grounding_export.h"

#include "export/export_record.h"

#include <cmath>

#include <fmt/format.h>

namespace groundcap {

namespace {

using ojson = nlohmann::ordered_json;

ojson BoxJson(const std::array<double, 4>& b) {
  return ojson::array({PixelJson(b[0]), PixelJson(b[1]), PixelJson(b[2]), PixelJson(b[3])});
}

ojson SpanList(const ExportExpression& e) { return ojson::array({ojson::array({e.start, e.end})}); }

}  // namespace

ojson PixelJson(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.0e15) return static_cast<int64_t>(v);
  return v;
}

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
               {"expressions_without_boxes", expressions_without_boxes},
               {"records_wrong_pipeline", records_wrong_pipeline},
               {"records_missing_image", records_missing_image},
               {"records_outside_image_root", records_outside_image_root},
               {"records_image_size_changed", records_image_size_changed},
               {"instances_outside_image", instances_outside_image},
               {"instances_below_min_score", instances_below_min_score},
               {"instances_below_min_size", instances_below_min_size},
               {"instances_not_verified", instances_not_verified},
               {"regions_not_ok", regions_not_ok}};
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
  out += fmt::format("  records unusable (not JSON / wrong pipeline for this format): {} ({} of the other pipeline)\n",
                     records_unusable, records_wrong_pipeline);
  out += fmt::format("  records left out, image file missing: {}\n", records_missing_image);
  out += fmt::format("  records left out, image not under --image-root: {}\n", records_outside_image_root);
  out += fmt::format("  records left out, image resized since it was labelled: {}\n", records_image_size_changed);
  out += fmt::format("  instances left out, rejected by verification: {}\n", instances_rejected);
  out += fmt::format("  instances left out, malformed box: {}\n", instances_bad_box);
  out += fmt::format("  expressions left out, no span in the caption: {}\n", expressions_without_span);
  out += fmt::format("  expressions left out, no box kept: {}\n", expressions_without_boxes);
  out += fmt::format("  instances left out, outside the image: {}\n", instances_outside_image);
  out += fmt::format("  instances left out, below --min-score: {}\n", instances_below_min_score);
  out += fmt::format("  instances left out, below --min-box-size: {}\n", instances_below_min_size);
  out += fmt::format("  instances left out, not verified (--verified-only): {}\n", instances_not_verified);
  out += fmt::format("  regions left out, region status not ok: {}\n", regions_not_ok);
  return out;
}

RecordVerdict ReadGroundingRecord(const ojson& record, ExportImage* image, ExportCounts* counts,
                                  std::string* reason) {
  ExportFilters filters;
  filters.drop_unlocated = true;  // grounding formats need the span
  return ReadExportRecord(record, filters, image, counts, nullptr, reason);
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
                          {"area", PixelJson(xywh[2] * xywh[3])},
                          {"iscrowd", 0},
                          {"category_id", 1},
                          {"tokens_positive", SpanList(e)}});
    }
  }
  return out;
}

ojson CocoCategories() { return ojson::array({ojson{{"id", 1}, {"name", "object"}}}); }

}  // namespace groundcap
