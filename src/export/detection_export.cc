#include "export/detection_export.h"

namespace groundcap {

using ojson = nlohmann::ordered_json;

int LabelMap::Id(const std::string& category) {
  auto [it, added] = ids_.emplace(category, static_cast<int>(names_.size()));
  if (added) names_.push_back(category);
  return it->second;
}

ojson LabelMap::ToJson() const {
  ojson out = ojson::object();
  for (size_t i = 0; i < names_.size(); ++i) out[std::to_string(i)] = names_[i];
  return out;
}

ojson ToOdvgDetectionLine(const ExportImage& image, LabelMap* labels) {
  ojson instances = ojson::array();
  for (const auto& e : image.expressions) {
    const int label = labels->Id(e.category);
    for (const auto& b : e.boxes) {
      instances.push_back(ojson{{"bbox", ojson::array({PixelJson(b[0]), PixelJson(b[1]), PixelJson(b[2]), PixelJson(b[3])})},
                                {"label", label},
                                {"category", e.category}});
    }
  }
  return ojson{{"filename", image.file_name},
               {"height", image.height},
               {"width", image.width},
               {"detection", ojson{{"instances", std::move(instances)}}}};
}

ojson ToDenseCaptionEntry(const ExportImage& image, int64_t image_id, int64_t* next_region_id) {
  ojson regions = ojson::array();
  for (const auto& e : image.expressions) {
    for (const auto& b : e.boxes) {
      regions.push_back(ojson{{"region_id", (*next_region_id)++},
                              {"image_id", image_id},
                              {"x", PixelJson(b[0])},
                              {"y", PixelJson(b[1])},
                              {"width", PixelJson(b[2] - b[0])},
                              {"height", PixelJson(b[3] - b[1])},
                              {"phrase", e.text}});
    }
  }
  return ojson{{"id", image_id},
               {"image", image.file_name},
               {"width", image.width},
               {"height", image.height},
               {"regions", std::move(regions)}};
}

}  // namespace groundcap
