// Pure conversions for the detection-style exports: ODVG's detection
// dialect (with its label map) and Visual Genome-style dense captions.
// Field layouts: docs/formats.md, "ODVG detection" and "Dense captions".
#ifndef GROUNDCAP_DETECTION_EXPORT_H_
#define GROUNDCAP_DETECTION_EXPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "export/grounding_export.h"

namespace groundcap {

/// Category name -> ODVG label index, numbered from 0 in order of first
/// appearance (ODVG requires indices from 0). Holds one entry per distinct
/// category, not per record.
class LabelMap {
 public:
  /// The index of `category`, adding it when new.
  int Id(const std::string& category);
  /// {"0": "dog", "1": "man", ...}: the label_map JSON Open-GroundingDino
  /// and MMDetection's ODVGDataset read.
  nlohmann::ordered_json ToJson() const;
  size_t size() const { return names_.size(); }

 private:
  std::map<std::string, int> ids_;
  std::vector<std::string> names_;
};

/// One ODVG detection line: {"filename", "height", "width", "detection":
/// {"instances": [{"bbox": xyxy, "label": int, "category": str}]}}, one
/// instance per box; the category is the expression's noun chunk or the
/// head noun of a region caption (ExportExpression::category).
nlohmann::ordered_json ToOdvgDetectionLine(const ExportImage& image, LabelMap* labels);

/// One Visual Genome region-descriptions entry: {"id": image_id, "image",
/// "width", "height", "regions": [{"region_id", "image_id", "x", "y",
/// "width", "height", "phrase"}]} with x, y the top-left corner in pixels of
/// the upright image; region ids continue from `*next_region_id`.
nlohmann::ordered_json ToDenseCaptionEntry(const ExportImage& image, int64_t image_id, int64_t* next_region_id);

}  // namespace groundcap

#endif  // GROUNDCAP_DETECTION_EXPORT_H_
