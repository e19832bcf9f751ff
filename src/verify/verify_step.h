// The verification pass (opt-in, `<pipeline>.verify.enabled`): every box a
// step produced is cut out with a margin, sent at a size where it is
// visible, and the teacher says whether the crop shows what the record
// claims (an expression's object, a region's caption). Each checked item
// gets `verified`, `verify_score` and `verify_reason`; rejected items stay in
// the record, marked, so nothing is lost and exports can drop them. Several
// crops share one request to keep the cost down. The products say what to
// check (VerifySubject); this layer does the rest. Prompt protocol:
// docs/formats.md.
#ifndef GROUNDCAP_VERIFY_STEP_H_
#define GROUNDCAP_VERIFY_STEP_H_

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/step.h"
#include "image/image.h"
#include "spec/spec.h"
#include "util/geometry.h"

namespace groundcap {

/// Step directory name (results_dir/step_<N>_verification/).
inline constexpr const char* kVerificationStepName = "verification";

/// <pipeline>.verify.*.
struct VerifyConfig {
  bool enabled = false;
  int crops_per_request = 4;   ///< crops batched into one request
  double margin = 0.25;        ///< crop margin, fraction of the box side, each side
  int64_t min_crop_pixels = 224 * 224;  ///< small crops are upscaled to at least this
  int64_t max_crop_pixels = 448 * 448;  ///< large crops are downscaled to at most this
  int max_reasks = 2;          ///< rounds for crops a reply left unanswered
  /// Ask for token log-probabilities (OpenAI-compatible servers) and score
  /// each verdict by P(yes); without them the score is the verdict, 1 or 0.
  bool logprobs = false;
};

/// <pipeline>.verify.* keys (mounted by each product's spec fields).
std::vector<SpecField> VerifySpecFields();
VerifyConfig VerifyConfigFromSpec(const Spec& spec);

/// One thing to check: where it is in the record (the object that gets the
/// verify_* fields), its box in upright-image pixels, and the claim.
struct VerifyTarget {
  nlohmann::ordered_json::json_pointer where;
  Box box;
  std::string text;
};

/// What a product verifies in its records.
class VerifySubject {
 public:
  virtual ~VerifySubject() = default;
  /// The record field holding the image path.
  virtual std::string ImageKey() const = 0;
  /// The image path to load (image_root applied).
  virtual std::string ImagePath(const nlohmann::ordered_json& record) const = 0;
  virtual std::optional<std::string> ValidateInput(const nlohmann::ordered_json& record) const = 0;
  virtual std::vector<VerifyTarget> Targets(const nlohmann::ordered_json& record) const = 0;
  /// The product's quality checks of a verified record.
  virtual std::vector<QualityFlag> Review(const nlohmann::ordered_json& output) const = 0;
  /// Appended to the record's pipeline_steps.
  virtual std::string Marker() const = 0;
};

/// One crop to ask about: its box on a 0-1000 grid of the crop, and the claim.
struct VerifyItem {
  std::array<int, 4> box1000;
  std::string text;
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
  /// Which answer token of the reply is this answer's: its index among the
  /// entries whose answer is the word yes/no (-1 for true/false answers).
  int position = -1;
};

/// Reads the answers of a reply by crop number (1-based); also accepts a
/// bare list and true/false answers. kParse when no answer can be read.
Result<std::map<int, VerifyAnswer>> ParseVerifyReply(std::string_view text);

/// P(yes) of each answer value in a reply's tokens, in order: a "yes"/"no"
/// token that follows an "answer" key, from its top alternatives
/// (p(yes) / (p(yes) + p(no))), or from its own probability when the other
/// word is not among them.
std::vector<double> AnswerProbabilities(const std::vector<TokenLogprob>& tokens);

/// Everything besides the subject the step needs.
struct VerifyContext {
  ImageLimits limits;
  bool use_schema = false;          ///< send VerifySchema()
  std::string teacher_fingerprint;  ///< Teacher::Fingerprint()
};

std::unique_ptr<StepLogic> MakeVerificationStep(std::shared_ptr<const VerifySubject> subject,
                                                VerifyConfig config, VerifyContext context);

}  // namespace groundcap

#endif  // GROUNDCAP_VERIFY_STEP_H_
