// The image-grounding pipeline (TAO auto_label image_grounding replacement)
// as two StepLogics: step 0 "expression_extraction" (caption -> cleaned
// caption + referring expressions with code-point spans) and step 1
// "grounding" (expressions -> boxes in original-image pixels).
// Output schema: docs/formats.md "Image grounding output".
#ifndef GROUNDCAP_GROUNDING_STEPS_H_
#define GROUNDCAP_GROUNDING_STEPS_H_

#include <functional>
#include <memory>
#include <string>

#include "boxes/box_format.h"
#include "engine/pipeline.h"
#include "engine/step.h"
#include "grounding/grounding_quality.h"
#include "image/image.h"
#include "spec/spec.h"
#include "teacher/teacher.h"

namespace groundcap {

/// Loads and prepares one image for the teacher (PrepareForTeacher by default;
/// tests may substitute it).
using ImagePreparer =
    std::function<Result<PreparedImage>(const std::string& path, const PrepareOptions& options)>;

/// Everything the two steps need, resolved from the spec once.
struct GroundingConfig {
  std::string image_root;          ///< data.image_root; joined to relative image paths
  PrepareOptions prepare;          ///< image.* (step 1 switches to smart_resize for qwen2_5_vl)
  ImageLimits limits;
  /// Format the grounding prompt asks for and replies are parsed with
  /// (already passed through GroundingPromptFormat).
  BoxFormat box_format = BoxFormat::kXyxyNorm1000;
  int expressions_per_request = 8; ///< chunk size of step 1 requests
  int max_instances = 10;          ///< per expression, highest scores kept
  BoxHygiene hygiene;              ///< min_box_size, dedupe_iou
  std::string extraction_prompt;   ///< template; empty = DefaultExtractionPrompt()
  std::string grounding_prompt;    ///< template; empty = DefaultGroundingPrompt(box_format)
  bool use_schema = false;         ///< send ExtractionSchema() (teacher.SupportsSchema())
  std::string teacher_fingerprint; ///< Teacher::Fingerprint()
  ImagePreparer prepare_image;     ///< null = PrepareForTeacher(path, options, limits)
  GroundingQuality quality;        ///< image_grounding.quality.* (Review; not in fingerprints)
};

/// Step-0 and step-1 directory names (results_dir/step_<N>_<name>/), as TAO.
inline constexpr const char* kExtractionStepName = "expression_extraction";
inline constexpr const char* kGroundingStepName = "grounding";

/// Step 0: validates {image_path, caption}, sends image + caption, parses the
/// cleaned caption and expressions, computes spans (spans.h).
std::unique_ptr<StepLogic> MakeExpressionExtractionStep(GroundingConfig config);
/// Step 1: grounds a step-0 record's expressions, in chunks.
std::unique_ptr<StepLogic> MakePhraseGroundingStep(GroundingConfig config);

/// Reads image_grounding.* into a config (throws SetupError: a prompt file
/// that is not a regular file, is larger than kMaxPromptFileBytes
/// (util/file_read.h), or lacks its placeholder).
GroundingConfig GroundingConfigFromSpec(const Spec& spec, const Teacher& teacher);

/// `path` when absolute or `root` is empty, else root/path.
std::string ResolveImagePath(const std::string& root, const std::string& path);

/// image_grounding: step 0 expression extraction, step 1 phrase grounding,
/// filtered by <prefix>.workflow.steps. Throws SetupError on bad config.
std::vector<StepPlan> MakeGroundingSteps(const Spec& spec, const Teacher& teacher);

}  // namespace groundcap

#endif  // GROUNDCAP_GROUNDING_STEPS_H_
