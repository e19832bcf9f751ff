// Per-sample cost estimates before anything is sent: the image tokens of the
// image as it would be sent (header probe + PreparedSize + the model
// family's rule, token_rules.h), text tokens of the prompt (ceil(bytes/4)),
// and output tokens by a documented per-step heuristic. Used by `groundcap
// plan` and by workflow.budget at admission; generate records the sum next
// to the server's counts (run_summary.json "cost").
#ifndef GROUNDCAP_ESTIMATE_H_
#define GROUNDCAP_ESTIMATE_H_

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cost/token_rules.h"
#include "image/image.h"
#include "verify/verify_step.h"
#include "spec/spec.h"

namespace groundcap {

/// Estimated cost of some samples of one step (or of a whole run).
struct CostEstimate {
  int64_t samples = 0;
  int64_t requests = 0;
  int64_t images = 0;        ///< images sent (one per request that carries one)
  int64_t refused = 0;       ///< samples whose image would be refused (missing, unreadable, too large)
  int64_t text_tokens = 0;   ///< input: prompts
  int64_t image_tokens = 0;  ///< input: images
  int64_t output_tokens = 0; ///< visible output (thinking not estimated)
  int64_t input_tokens() const { return text_tokens + image_tokens; }
  CostEstimate& operator+=(const CostEstimate& o);
  CostEstimate& operator-=(const CostEstimate& o);
  nlohmann::json ToJson() const;
};

/// The teacher a spec names: backend, model and the image token rule.
struct TeacherModel {
  std::string backend;           ///< "gemini" | "openai"
  std::string model;
  std::string media_resolution;  ///< Gemini only
  int64_t max_output_tokens = 0; ///< per request (caps the output estimate)
  ImageTokenRule rule = ImageTokenRule::kGemini3;
  bool rule_assumed = false;     ///< model not recognised: the backend's usual family
};
TeacherModel TeacherModelFromSpec(const Spec& spec);

/// Estimates one step's samples from its input records. Thread-compatible
/// (one user at a time); Estimate probes the image header only.
class StepEstimator {
 public:
  /// `step` is the StepLogic name ("expression_extraction", "grounding",
  /// "verification", "region_caption").
  StepEstimator(const Spec& spec, std::string step);
  const std::string& step() const { return step_; }
  const TeacherModel& teacher() const { return teacher_; }
  /// The estimate for one input record of this step (samples = 1). When its
  /// image would be refused: refused = 1, no requests, `*refusal` says why.
  CostEstimate Estimate(const nlohmann::ordered_json& record, std::string* refusal = nullptr) const;

 private:
  /// Output tokens one request may return: max_tokens, or 2^40 when unset
  /// (so that a product with the request count cannot overflow).
  int64_t OutputCap() const { return teacher_.max_output_tokens > 0 ? teacher_.max_output_tokens : int64_t{1} << 40; }
  /// The verification step: one crop per box, crops_per_request per request.
  CostEstimate EstimateVerification(const nlohmann::ordered_json& record, std::string* refusal) const;

  std::string step_;
  bool grounding_ = true;  ///< the pipeline: image grounding, else region captioning
  TeacherModel teacher_;
  PrepareOptions prepare_;
  ImageLimits limits_;
  std::string image_root_;
  std::string image_key_ = "image_path";
  std::string bbox_key_ = "bbox";
  int64_t extraction_prompt_bytes_ = 0;  ///< template without {caption}
  int64_t expressions_per_request_ = 8;
  int64_t max_boxes_ = 10;
  VerifyConfig verify_;
};

/// Output heuristics (documented in docs/formats.md "Token estimates").
inline constexpr int64_t kExtractionOutputBase = 32;      ///< + 2 x caption tokens
inline constexpr int64_t kGroundingPromptTokens = 250;    ///< per request, besides the expressions
inline constexpr int64_t kGroundingOutputPerExpression = 40;
inline constexpr int64_t kCaptionWordsPerExpression = 4;  ///< planning step 1 from captions
inline constexpr int64_t kRegionPromptTokens = 200;
inline constexpr int64_t kRegionOutputPerRegion = 60;
inline constexpr int64_t kVerifyOutputPerCrop = 24;       ///< {"crop": n, "answer": ..., "reason": a few words}
inline constexpr int64_t kAssumedRegionCaptionBytes = 4 * kRegionOutputPerRegion;  ///< planning before captions exist

}  // namespace groundcap

#endif  // GROUNDCAP_ESTIMATE_H_
