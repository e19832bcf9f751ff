// Pipelines are lists of steps; the step runner executes them. This header
// is where `generate` meets the two products.
#ifndef GROUNDCAP_PIPELINE_H_
#define GROUNDCAP_PIPELINE_H_

#include <memory>
#include <string>
#include <vector>

#include "spec/spec.h"
#include "engine/step.h"
#include "teacher/teacher.h"

namespace groundcap {

/// One step of a run, ready to execute.
struct StepPlan {
  int index = 0;                      ///< N in results_dir/step_<N>_<name>/
  std::unique_ptr<StepLogic> logic;
  std::string input_jsonl;            ///< what this step reads
};

/// image_grounding: step 0 expression extraction, step 1 phrase grounding,
/// filtered by <prefix>.workflow.steps. Throws SetupError on bad config.
std::vector<StepPlan> MakeGroundingSteps(const Spec& spec, const Teacher& teacher);

/// region_caption: one step, step_0_region_caption.
std::vector<StepPlan> MakeRegionCaptionSteps(const Spec& spec, const Teacher& teacher);

/// Builds the teacher from <pipeline>.vlm.* (teacher_config.cc).
std::unique_ptr<Teacher> MakeTeacher(const Spec& spec, const std::string& pipeline);

}  // namespace groundcap

#endif  // GROUNDCAP_PIPELINE_H_
