// Pure conversion of image-grounding records (docs/formats.md, "Image
// grounding output") into trainers' formats: ODVG grounding lines
// (Grounding DINO / MM-Grounding-DINO) and MDETR/GLIP-style COCO grounding
// entries. No I/O here; export_writer.h streams files through these
// functions. Field layouts and filters: docs/formats.md, "Exports".
#ifndef GROUNDCAP_GROUNDING_EXPORT_H_
#define GROUNDCAP_GROUNDING_EXPORT_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace groundcap {

/// A box as [x1, y1, x2, y2] pixels of the upright original image.
using XyxyBox = std::array<double, 4>;
/// A box as COCO's [x, y, width, height] pixels (top-left origin).
using XywhBox = std::array<double, 4>;

/// [x1, y1, x2, y2] -> [x1, y1, x2 - x1, y2 - y1].
XywhBox XyxyToXywh(const XyxyBox& b);
/// [x, y, w, h] -> [x, y, x + w, y + h]; the inverse of XyxyToXywh.
XyxyBox XywhToXyxy(const XywhBox& b);

/// A pixel value as JSON: an integer when it is one (groundcap writes whole
/// pixels), so 161 stays 161 and not 161.0; otherwise the double.
nlohmann::ordered_json PixelJson(double v);

/// Number of Unicode code points in UTF-8 text (continuation bytes are not
/// counted), the unit of groundcap's `char_span` and of Python's str slicing.
int64_t CodePointCount(std::string_view utf8);

/// One expression that survived the filters, with its kept boxes. For a
/// region-caption record: one ok region (text = its caption, one box).
struct ExportExpression {
  std::string text;               ///< the teacher's phrase (`text`), or the region's caption
  int64_t start = 0, end = 0;     ///< `char_span`, code points of the caption, [start, end); -1, -1 when unlocated
  std::vector<XyxyBox> boxes;     ///< instances whose `verified` is not false
  std::string category;           ///< detection category: `noun_chunk`, else HeadNoun(text)
  std::string id;                 ///< expression_id, or "<sample_id>:r<region_id>"
  std::vector<std::string> box_ids;  ///< per box: bbox_id (may be empty)
  std::vector<double> scores;        ///< per box: `score` (1 when the record has none)

  /// True when the expression has a span in the caption.
  bool located() const { return end > start; }
};

/// What one ok image-grounding record contributes to an export.
struct ExportImage {
  std::string file_name;          ///< `image_path` as written in the record
  int width = 0, height = 0;      ///< `image_width` / `image_height` (upright)
  std::string caption;            ///< `cleaned_caption`
  std::vector<ExportExpression> expressions;  ///< only those with a span and >= 1 box
  std::string sample_id;          ///< `sample_id` (may be empty)
  bool region_caption = false;    ///< read from a region-caption record (expressions are regions)

  /// Total number of boxes over all expressions.
  int64_t box_count() const;
};

/// Why records, expressions and instances were left out, and what went out.
/// Summed over a whole export by export_writer.h.
struct ExportCounts {
  int64_t records_read = 0;         ///< non-blank input lines
  int64_t records_written = 0;      ///< images written
  int64_t regions_written = 0;      ///< boxes written (ODVG regions / COCO annotations)
  std::map<std::string, int64_t> left_out_by_status;  ///< "flagged", "failed", ... (not "ok")
  int64_t records_without_regions = 0;    ///< ok records with no box left after the filters
  int64_t records_unusable = 0;           ///< not JSON, or not an image-grounding record
  int64_t instances_rejected = 0;         ///< `verified: false`
  int64_t instances_bad_box = 0;          ///< bbox not 4 numbers with x2 > x1, y2 > y1
  int64_t expressions_without_span = 0;   ///< `char_span` null or outside the caption
  int64_t expressions_without_boxes = 0;  ///< located, but no box kept
  int64_t records_wrong_pipeline = 0;     ///< of those unusable: the other pipeline's records
  int64_t records_missing_image = 0;      ///< the image file does not exist
  int64_t records_outside_image_root = 0; ///< the image is not under --image-root
  int64_t records_image_size_changed = 0; ///< the file's size is not the record's (resized since)
  int64_t instances_outside_image = 0;    ///< box beyond the image by more than 0.5 px
  int64_t instances_below_min_score = 0;  ///< --min-score
  int64_t instances_below_min_size = 0;   ///< --min-box-size
  int64_t instances_not_verified = 0;     ///< --verified-only: `verified` absent
  int64_t regions_not_ok = 0;             ///< region captions whose own status is not ok

  /// Sum of left_out_by_status.
  int64_t left_out_by_status_total() const;
  /// The counters as one JSON object (field names as the member names).
  nlohmann::ordered_json ToJson() const;
  /// Human-readable summary, a few lines ending in '\n' (printed to stderr).
  std::string ToText(std::string_view format) const;
};

/// Outcome of reading one record.
enum class RecordVerdict {
  kExport,           ///< `*image` holds at least one region: write it
  kLeftOutByStatus,  ///< status is not "ok" (counted by status)
  kNoRegions,        ///< ok, but nothing left after the filters
  kUnusable,         ///< not an image-grounding step-1/2 record (`*reason` says why)
};

/// Applies the export filters to one parsed record and counts what was left
/// out in `*counts` (records_read/records_written are the caller's). Keeps
/// only `status: "ok"` records, expressions whose `char_span` is a real span
/// of `cleaned_caption` (0 <= start < end <= its length in code points) and
/// instances whose `verified` is not false and whose bbox is a proper box.
RecordVerdict ReadGroundingRecord(const nlohmann::ordered_json& record, ExportImage* image,
                                  ExportCounts* counts, std::string* reason);

/// One ODVG grounding line: {"filename", "height", "width", "grounding":
/// {"caption", "regions": [{"bbox": xyxy, "phrase", "tokens_positive": [[s, e]]}]}},
/// one region per box, spans in code points of the caption.
nlohmann::ordered_json ToOdvgLine(const ExportImage& image);

/// One MDETR-style COCO `images[]` entry with `id` = `image_id`:
/// {"id", "file_name", "height", "width", "caption", "dataset_name",
///  "tokens_negative": [[0, len]], "tokens_positive_eval": [[[s, e]] per expression]}.
nlohmann::ordered_json ToCocoImage(const ExportImage& image, int64_t image_id);

/// The COCO `annotations[]` entries of one image, one per box, ids
/// `first_annotation_id`, +1, ...: {"id", "image_id", "bbox": xywh, "area",
/// "iscrowd": 0, "category_id": 1, "tokens_positive": [[s, e]]}.
std::vector<nlohmann::ordered_json> ToCocoAnnotations(const ExportImage& image, int64_t image_id,
                                                      int64_t first_annotation_id);

/// The fixed COCO `categories` array: [{"id": 1, "name": "object"}].
nlohmann::ordered_json CocoCategories();

}  // namespace groundcap

#endif  // GROUNDCAP_GROUNDING_EXPORT_H_
