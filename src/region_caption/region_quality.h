// Cheap quality checks of region-caption records (no extra requests), run by
// the step's Review when annotations.jsonl is written. Captions of the drawn
// mark, empty and missing captions are already per-region failures
// (region_reply.h); these catch what passes those checks but is still not a
// description: boilerplate and one caption copied over many regions.
#ifndef GROUNDCAP_REGION_QUALITY_H_
#define GROUNDCAP_REGION_QUALITY_H_

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/step.h"
#include "spec/spec.h"

namespace groundcap {

/// The flags that block unless region_caption.quality.block says otherwise.
std::set<std::string> DefaultBlockingRegionFlags();

/// region_caption.quality.* keys (mounted by RegionCaptionSpecFields).
std::vector<SpecField> RegionQualitySpecFields();

/// Reads region_caption.quality.block.
std::set<std::string> RegionBlockingFlagsFromSpec(const Spec& spec);

/// boilerplate_caption (per region), repeated_caption (per region: the same
/// caption as another region), same_caption_for_all (three or more regions,
/// one caption) and caption_rejected (verification said no), on the ok
/// regions of a structured-mode record.
std::vector<QualityFlag> ReviewRegionCaptions(const nlohmann::ordered_json& record,
                                              const std::set<std::string>& blocking);

/// True for a caption that says nothing about the content: a refusal ("I
/// cannot ..."), a placeholder ("N/A", "unknown", "an object"), or the
/// region's own name ("Region 3").
bool IsBoilerplateCaption(std::string_view caption);

}  // namespace groundcap

#endif  // GROUNDCAP_REGION_QUALITY_H_
