// A hook the runner asks before each sample is admitted: the cost layer
// (cost/budget.h) uses it to stop a run before a budget is exceeded and to
// add up the estimates of what was admitted. The engine knows no prices.
#ifndef GROUNDCAP_ADMISSION_H_
#define GROUNDCAP_ADMISSION_H_

#include <optional>
#include <string>

#include "engine/step.h"

namespace groundcap {

/// Called on the coordinator thread only (no locking needed).
class AdmissionControl {
 public:
  virtual ~AdmissionControl() = default;
  /// nullopt: admit `job` to step `step` (StepPlan::index). Otherwise why
  /// not: admission stops (samples in flight finish), the run is stopped
  /// with that reason (exit 3) and the sample is left for a resume.
  virtual std::optional<std::string> Admit(int step, const SampleJob& job) = 0;
  /// The sample admitted to `step` under `sample_id` left the run (recorded or not).
  virtual void Finished(int step, const std::string& sample_id) = 0;
};

}  // namespace groundcap

#endif  // GROUNDCAP_ADMISSION_H_
