// Pipelines are lists of steps; the step runner executes them. Each product
// builds its plans (MakeGroundingSteps in grounding/, MakeRegionCaptionSteps
// in region_caption/); `generate` hands them to RunStep.
#ifndef GROUNDCAP_PIPELINE_H_
#define GROUNDCAP_PIPELINE_H_

#include <memory>
#include <string>
#include <vector>

#include "engine/step.h"

namespace groundcap {

/// One step of a run, ready to execute.
struct StepPlan {
  int index = 0;                      ///< N in results_dir/step_<N>_<name>/
  /// Shared: a CPU round abandoned by the runner (a stuck step) keeps the
  /// step alive until it returns, even after the run is over.
  std::shared_ptr<StepLogic> logic;
  std::string input_jsonl;            ///< what this step reads
};

}  // namespace groundcap

#endif  // GROUNDCAP_PIPELINE_H_
