// Image grounding step 2 "verification" (opt-in: image_grounding.verify.enabled):
// every box of a step-1 record is cut out with a margin, sent at a size where
// it is visible, and the teacher says whether the crop shows the expression.
// Each instance gets `verified`, `verify_score` and `verify_reason`; boxes
// the teacher rejects stay in the record, marked, so nothing is lost and
// exports can drop them. Several crops share one request to keep the cost
// down. Prompt protocol: docs/formats.md.
#ifndef GROUNDCAP_VERIFY_STEP_H_
#define GROUNDCAP_VERIFY_STEP_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/step.h"
#include "grounding/grounding_steps.h"
#include "spec/spec.h"

namespace groundcap {

/// Step-2 directory name (results_dir/step_2_verification/).
inline constexpr const char* kVerificationStepName = "verification";

/// image_grounding.verify.*.
struct VerifyConfig {
  bool enabled = false;
  int crops_per_request = 4;   ///< crops batched into one request
  double margin = 0.25;        ///< crop margin, fraction of the box side, each side
  int64_t min_crop_pixels = 224 * 224;  ///< small crops are upscaled to at least this
  int64_t max_crop_pixels = 448 * 448;  ///< large crops are downscaled to at most this
  int max_reasks = 2;          ///< rounds for crops a reply left unanswered
};

/// image_grounding.verify.* keys (mounted by GroundingSpecFields).
std::vector<SpecField> VerifySpecFields();
VerifyConfig VerifyConfigFromSpec(const Spec& spec);

/// One crop to ask about: its box on a 0-1000 grid of the crop, and the text.
struct VerifyItem {
  std::array<int, 4> box1000;
  std::string expression;
};

/// The verification prompt: one line `Crop <k>: box x1,y1,x2,y2 | <text>`
/// per crop (k 1-based, the k-th image of the request).
std::string VerifyPrompt(const std::vector<VerifyItem>& items);

/// {"answers": [{"crop": int, "answer": "yes"|"no", "reason": str}]}, to
/// OpenAI's strict-mode rules.
nlohmann::json VerifySchema();

/// One crop's verdict.
struct VerifyAnswer {
  bool yes = false;
  std::string reason;
};

/// Reads the answers of a reply by crop number (1-based); also accepts a
/// bare list and "true"/"false" answers. kParse when no answer can be read.
Result<std::map<int, VerifyAnswer>> ParseVerifyReply(std::string_view text);

/// Step 2 over step-1 records (grounding config for image paths and limits).
std::unique_ptr<StepLogic> MakeVerificationStep(GroundingConfig grounding, VerifyConfig verify);

}  // namespace groundcap

#endif  // GROUNDCAP_VERIFY_STEP_H_
