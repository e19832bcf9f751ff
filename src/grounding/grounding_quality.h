// Cheap quality checks of image-grounding records: no extra requests, pure
// functions of the output record. They run when a step's annotations.jsonl
// is written (StepLogic::Review), so changing a threshold or the blocking
// list re-judges every record without asking the teacher again.
// Flag names and defaults: docs/formats.md "Quality flags".
#ifndef GROUNDCAP_GROUNDING_QUALITY_H_
#define GROUNDCAP_GROUNDING_QUALITY_H_

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/step.h"
#include "spec/spec.h"

namespace groundcap {

/// The flags that block unless image_grounding.quality.block says otherwise.
std::set<std::string> DefaultBlockingGroundingFlags();

/// Thresholds of the grounding checks (image_grounding.quality.*).
struct GroundingQuality {
  /// caption_rewritten below this share of the cleaned caption's content
  /// words found in the input caption.
  double min_caption_overlap = 0.5;
  /// box_covers_image at or above this share of the image area.
  double max_box_area = 0.95;
  /// tiny_box below this share of the image area.
  double min_box_area = 1e-4;
  /// identical_boxes: this many distinct expressions sharing one box.
  int identical_box_expressions = 3;
  double identical_box_iou = 0.95;
  /// Flags that make a sample `status: "flagged"`; the others are listed only.
  std::set<std::string> blocking = DefaultBlockingGroundingFlags();
};

/// image_grounding.quality.* keys (mounted by GroundingSpecFields).
std::vector<SpecField> GroundingQualitySpecFields();

/// Reads image_grounding.quality.* (unknown flag names in `block` are a
/// SetupError naming the key).
GroundingQuality GroundingQualityFromSpec(const Spec& spec);

/// Step 0's checks (caption_rewritten, no_expressions, span_not_found,
/// duplicate_expression) and, when `boxes`, step 1's (box_covers_image,
/// tiny_box, identical_boxes, count_exceeded, and box_rejected for an
/// instance verification marked `verified: false`), on an ok record.
std::vector<QualityFlag> ReviewGrounding(const nlohmann::ordered_json& record,
                                         const GroundingQuality& quality, bool boxes);

/// Lower-case content words of `text` (ASCII words without a trailing plural
/// "s", each CJK character alone), without function words and the
/// "in this image we can see" vocabulary a cleaned caption may drop.
std::vector<std::string> ContentWords(std::string_view text);

/// The number an expression states ("two dogs" -> 2, "3 cars" -> 3, "both
/// cups" -> 2), or 0 when it states none.
int StatedCount(std::string_view expression);

}  // namespace groundcap

#endif  // GROUNDCAP_GROUNDING_QUALITY_H_
