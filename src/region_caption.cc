// PLACEHOLDER: replaced by the region-caption owner.
#include "pipeline.h"
namespace groundcap {
std::vector<SpecField> RegionCaptionSpecFields() { return {}; }
std::vector<StepPlan> MakeRegionCaptionSteps(const Spec&, const Teacher&) { return {}; }
}  // namespace groundcap
