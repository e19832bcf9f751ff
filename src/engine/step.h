// The contract between the step runner (the engine) and a pipeline step.
//
// A step is a small state machine per sample, so that hundreds of samples can
// wait on the network without a thread each:
//
//   Begin(job)  ──► Send(requests) ──► [teacher, network thread] ──►
//   Continue(job, replies) ──► Send(...) again (re-ask, next chunk) | Done | Fail
//
// Begin and Continue run on the CPU worker pool; they may block on CPU work
// (decode an image, parse a reply) but never on the network.
#ifndef GROUNDCAP_STEP_H_
#define GROUNDCAP_STEP_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "teacher/teacher.h"
#include "util/error.h"

namespace groundcap {

/// One sample moving through one step.
struct SampleJob {
  std::string sample_id;              ///< unique, file-name safe (sample_id.h)
  int64_t line = 0;                   ///< 1-based line in the step's input
  nlohmann::ordered_json record;      ///< the step's input record
  std::vector<std::string> warnings;  ///< copied to the output's "warnings"
  std::shared_ptr<void> state;        ///< pipeline-private, kept between rounds
  int round = 0;                      ///< number of Continue calls so far
};

/// What to do next with a sample.
struct StepAction {
  std::vector<TeacherRequest> requests;  ///< non-empty: send all, then Continue
  std::optional<nlohmann::ordered_json> output;  ///< success: the output record
  std::optional<Error> error;            ///< failure: recorded, retried by retry_failed

  static StepAction Send(std::vector<TeacherRequest> requests) {
    StepAction a;
    a.requests = std::move(requests);
    return a;
  }
  static StepAction Done(nlohmann::ordered_json output) {
    StepAction a;
    a.output = std::move(output);
    return a;
  }
  static StepAction Fail(Error error) {
    StepAction a;
    a.error = std::move(error);
    return a;
  }
};

/// A doubt about an output record raised by a step's quality checks
/// (StepLogic::Review). Written to the record's "flags" list.
struct QualityFlag {
  std::string name;       ///< e.g. "caption_rewritten" (docs/formats.md "Quality flags")
  std::string detail;     ///< what was measured, for a reviewer
  int item = -1;          ///< index of the expression or region it concerns; -1 = the sample
  bool blocking = false;  ///< makes the sample `status: "flagged"` instead of ok
};

/// A pipeline step. One instance serves all samples of a run, from several
/// CPU workers at once: implementations keep per-sample data in SampleJob.
class StepLogic {
 public:
  virtual ~StepLogic() = default;
  /// Directory name part: results_dir/step_<N>_<Name()>/.
  virtual std::string Name() const = 0;
  /// Everything besides the input record that changes this step's result:
  /// model, prompt version, box format, sampling, image preparation. Part of
  /// every checkpoint's fingerprint; a change redoes the affected samples.
  virtual std::string ConfigFingerprint() const = 0;
  /// Input validation before any work: an error message (the line is then
  /// rejected and written to rejects.jsonl) or nullopt when usable.
  virtual std::optional<std::string> ValidateInput(const nlohmann::ordered_json& record) const = 0;
  /// The input field holding the image path, used to derive sample ids.
  virtual std::string ImageKey() const = 0;
  /// First round for a sample.
  virtual StepAction Begin(SampleJob& job) = 0;
  /// Next round: `replies` answer the previous Send, in the same order.
  virtual StepAction Continue(SampleJob& job, std::vector<TeacherReply> replies) = 0;
  /// Quality checks of a successful output record, run when the step's
  /// annotations.jsonl is written (not when the sample is done), so that new
  /// thresholds re-judge every record without asking the teacher again.
  virtual std::vector<QualityFlag> Review(const nlohmann::ordered_json& output) const {
    (void)output;
    return {};
  }
};

}  // namespace groundcap

#endif  // GROUNDCAP_STEP_H_
