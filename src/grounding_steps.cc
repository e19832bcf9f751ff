// PLACEHOLDER: replaced by the image-grounding owner.
#include "pipeline.h"
namespace groundcap {
std::vector<SpecField> GroundingSpecFields() { return {}; }
std::vector<StepPlan> MakeGroundingSteps(const Spec&, const Teacher&) { return {}; }
}  // namespace groundcap
