// Region boxes for region captioning: reading input boxes in every declared
// format and unit, validating them one by one (with a reason per rejected
// box), clamping, the max_boxes overflow policy, and DataFlow-MM's
// normalisation. Pure functions: no I/O, no globals. See docs/formats.md
// "Region captioning".
#ifndef GROUNDCAP_REGION_BOXES_H_
#define GROUNDCAP_REGION_BOXES_H_

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/geometry.h"

namespace groundcap {

/// Order of the four numbers of an input box. Declared in the spec, never
/// guessed (DataFlow-MM silently misreads anything but xywh).
enum class RegionBoxFormat {
  kXywh,    ///< [x, y, w, h], top-left corner + size (DataFlow, COCO)
  kXyxy,    ///< [x1, y1, x2, y2]
  kCxcywh,  ///< [cx, cy, w, h], centre + size (YOLO)
};

/// Scale of the four numbers.
enum class RegionBoxUnits {
  kPixels,    ///< pixels of the upright original image
  kNorm1,     ///< fractions of width / height, 0-1
  kNorm1000,  ///< 0-1000 grid of width / height
};

/// What to keep when there are more boxes than max_boxes.
enum class OverflowPolicy {
  kInputOrder,    ///< the first max_boxes, as DataFlow-MM
  kLargestFirst,  ///< the max_boxes largest by area (ties: input order), kept in input order
};

Result<RegionBoxFormat> RegionBoxFormatFromName(std::string_view name);
Result<RegionBoxUnits> RegionBoxUnitsFromName(std::string_view name);
Result<OverflowPolicy> OverflowPolicyFromName(std::string_view name);
const char* RegionBoxFormatName(RegionBoxFormat f);
const char* RegionBoxUnitsName(RegionBoxUnits u);
const char* OverflowPolicyName(OverflowPolicy p);

/// One usable input box.
struct RegionBox {
  int input_index = 0;     ///< 0-based position in the input list
  Box box;                 ///< xyxy original pixels, clamped to the image
  nlohmann::json raw;      ///< the box exactly as given
  bool clamped = false;    ///< true when it stuck out of the image
  std::string text;        ///< expression text when chained from grounding
};

/// One input box that cannot be used, and why.
struct RejectedBox {
  int input_index = 0;
  nlohmann::json raw;
  std::string reason;      ///< "wrong_arity", "non_numeric", "not_finite", "empty", "outside"
  nlohmann::json ToJson() const;
};

/// Result of validating a record's box list.
struct ValidatedBoxes {
  std::vector<RegionBox> boxes;       ///< usable, input order
  std::vector<RejectedBox> rejected;  ///< reported per box
};

/// Converts one raw quad to xyxy pixels without clamping (pure arithmetic).
Box ConvertQuad(const double v[4], RegionBoxFormat format, RegionBoxUnits units, Size image);

/// Validates every element of `boxes` (a JSON array of 4-number arrays):
/// wrong arity, non-numeric, NaN/inf, zero or negative size and wholly
/// outside the image are rejected with a reason; partly outside boxes are
/// clamped. Numbers given as strings ("12.5") are non-numeric: a box list is
/// data, not prose. Error kInvalidInput when `boxes` is not an array.
Result<ValidatedBoxes> ValidateBoxes(const nlohmann::json& boxes, RegionBoxFormat format,
                                     RegionBoxUnits units, Size image);

/// Boxes from an image-grounding output record: every
/// expressions[].instances[].bbox (xyxy pixels) with its expression text.
/// Returns the raw list (for ValidateBoxes with xyxy pixels) and the texts,
/// index-aligned. Error kInvalidInput when `expressions` is not an array.
struct GroundingBoxes {
  nlohmann::json boxes = nlohmann::json::array();
  std::vector<std::string> texts;
};
Result<GroundingBoxes> BoxesFromGroundingRecord(const nlohmann::json& record);

/// Applies max_boxes: returns the kept boxes (input order) and moves the
/// others to `dropped` (input order). max_boxes <= 0 keeps everything.
std::vector<RegionBox> ApplyMaxBoxes(std::vector<RegionBox> boxes, int max_boxes,
                                     OverflowPolicy policy, std::vector<RegionBox>* dropped);

/// Python's round(v, 3) for the values DataFlow produces (correctly rounded
/// decimal of the binary value, via "%.3f" then strtod).
double Round3(double v);

/// DataFlow-MM's normalized_bbox (vp_normalize): xyxy boxes in pixels ->
/// [x1/W, y1/H, x2/W, y2/H] rounded to 3 decimals, first `max_boxes` only,
/// padded with [0,0,0,0] up to `max_boxes`.
std::vector<std::array<double, 4>> DataflowNormalize(const std::vector<Box>& boxes, Size image,
                                                     int max_boxes);

/// DataFlow-MM's prompt, exactly (including "1 regions").
std::string DataflowPrompt(int regions);

/// Box on a 0-1000 grid of the image (rounded to integers), as put in
/// structured prompts: [x1, y1, x2, y2].
std::array<int, 4> ToGrid1000(const Box& box, Size image);

}  // namespace groundcap

#endif  // GROUNDCAP_REGION_BOXES_H_
