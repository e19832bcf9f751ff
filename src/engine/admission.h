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
  /// nullopt: admit `job`. Otherwise why not: admission stops (samples in
  /// flight finish), the step is stopped with that reason (exit 3) and the
  /// sample is left for a resume.
  virtual std::optional<std::string> Admit(const SampleJob& job) = 0;
  /// The sample admitted under `sample_id` left the run (recorded or not).
  virtual void Finished(const std::string& sample_id) = 0;
};

}  // namespace groundcap

#endif  // GROUNDCAP_ADMISSION_H_
