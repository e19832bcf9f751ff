// The image_grounding.* spec keys: their field list, the GroundingConfig
// read from them and the step plans (declared in spec/spec.h and grounding_steps.h).
#include "grounding/grounding_steps.h"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "boxes/box_format.h"
#include "grounding/grounding_prompts.h"
#include "grounding/grounding_verify.h"
#include "image/image_spec.h"
#include "spec/spec.h"
#include "util/file_read.h"
#include "util/log.h"

namespace groundcap {
namespace {

/// A prompt template named by the spec: a regular file of at most
/// kMaxPromptFileBytes (a device or FIFO is refused by type, never read).
std::string ReadPromptFile(const std::string& path, const std::string& key,
                           const std::string& placeholder) {
  Result<std::string> read = ReadRegularFile(path, kMaxPromptFileBytes);
  if (!read) throw SetupError(fmt::format("{}: prompt file '{}' {}", key, path, read.error().message));
  std::string text = std::move(*read);
  if (text.find(placeholder) == std::string::npos) {
    throw SetupError(fmt::format("{}: prompt file '{}' does not contain the placeholder {}", key,
                                 path, placeholder));
  }
  return text;
}

}  // namespace

std::vector<SpecField> GroundingSpecFields() {
  std::vector<SpecField> f;
  f.push_back(MakeField("workflow.steps", FieldType::kStringList, "[\"0\", \"1\"]",
                    "steps to run: [\"0\",\"1\"], [\"0\"] (extraction only) or [\"1\"] "
                    "(grounding of existing step-0 output); \"2\" = verification (also added by "
                    "verify.enabled)"));
  f.push_back(MakeField("data.step0_annotations", FieldType::kString, "\"\"",
                    "step-0 records for steps [\"1\"] (default "
                    "results_dir/step_0_expression_extraction/annotations.jsonl)"));
  SpecField bf = MakeField("vlm.box_format", FieldType::kString, "\"auto\"",
                       "box convention asked of the teacher; auto = from the model name");
  bf.choices = {"auto"};
  for (const std::string& n : BoxFormatNames()) bf.choices.push_back(n);
  f.push_back(bf);
  f.push_back(MakeField("grounding.expressions_per_request", FieldType::kInt, "8",
                    "expressions per grounding request (teachers degrade with many objects)", 1,
                    1000));
  f.push_back(MakeField("grounding.max_instances", FieldType::kInt, "10",
                    "at most this many boxes per expression (highest scores kept)", 1, 1000));
  f.push_back(MakeField("grounding.min_box_size", FieldType::kFloat, "1.0",
                    "drop boxes narrower or lower than this many original pixels", 0));
  f.push_back(MakeField("grounding.dedupe_iou", FieldType::kFloat, "0.0",
                    "> 0: drop boxes of one expression overlapping a better one by more than this "
                    "IoU",
                    0, 1));
  f.push_back(MakeField("grounding.box_range_tolerance", FieldType::kFloat, "0.5",
                    "how far (fraction of the box format's range, per axis) a reply's coordinate "
                    "may lie outside the range and be clamped to the image; a box farther out is "
                    "dropped as another coordinate system or runaway digits (docs/formats.md)",
                    0, 10));
  f.push_back(MakeField("prompts.extraction_file", FieldType::kString, "\"\"",
                    "file replacing the step-0 prompt template (must contain {caption})"));
  f.push_back(MakeField("prompts.grounding_file", FieldType::kString, "\"\"",
                    "file replacing the step-1 prompt template (must contain {expressions})"));
  for (SpecField& q : GroundingQualitySpecFields()) f.push_back(std::move(q));
  for (SpecField& v : VerifySpecFields()) f.push_back(std::move(v));
  return f;
}

GroundingConfig GroundingConfigFromSpec(const Spec& spec, const Teacher& teacher) {
  const std::string p = std::string(kImageGrounding) + ".";
  GroundingConfig c;
  c.image_root = spec.Str(p + "data.image_root");
  c.prepare = PrepareOptionsFromSpec(spec, kImageGrounding);
  c.limits = ImageLimitsFromSpec(spec, kImageGrounding);
  std::string fmt_name = spec.Str(p + "vlm.box_format");
  BoxFormat chosen;
  if (fmt_name == "auto") {
    std::string why;
    chosen = AutoBoxFormat(teacher.ModelName(), &why);
    GC_INFO("image_grounding: box format {} ({})", BoxFormatName(chosen), why);
  } else {
    Result<BoxFormat> f = BoxFormatFromName(fmt_name);
    if (!f) throw SetupError(p + "vlm.box_format: " + f.error().message);
    chosen = *f;
  }
  c.box_format = GroundingPromptFormat(chosen);
  if (c.box_format != chosen) {
    GC_WARN("image_grounding: no grounding prompt for box format {}; asking for {} instead",
            BoxFormatName(chosen), BoxFormatName(c.box_format));
  }
  c.expressions_per_request = static_cast<int>(spec.Int(p + "grounding.expressions_per_request"));
  c.max_instances = static_cast<int>(spec.Int(p + "grounding.max_instances"));
  c.quality = GroundingQualityFromSpec(spec);
  c.hygiene.min_size = spec.Float(p + "grounding.min_box_size");
  c.hygiene.dedupe_iou = spec.Float(p + "grounding.dedupe_iou");
  c.hygiene.range_tolerance = spec.Float(p + "grounding.box_range_tolerance");
  std::string ef = spec.Str(p + "prompts.extraction_file");
  if (!ef.empty()) c.extraction_prompt = ReadPromptFile(ef, p + "prompts.extraction_file", "{caption}");
  std::string gf = spec.Str(p + "prompts.grounding_file");
  if (!gf.empty()) {
    c.grounding_prompt = ReadPromptFile(gf, p + "prompts.grounding_file", "{expressions}");
  }
  c.use_schema = teacher.SupportsSchema();
  c.teacher_fingerprint = teacher.Fingerprint();
  return c;
}

std::vector<StepPlan> MakeGroundingSteps(const Spec& spec, const Teacher& teacher) {
  const std::string p = std::string(kImageGrounding) + ".";
  std::vector<std::string> steps = spec.List(p + "workflow.steps");
  const VerifyConfig verify = VerifyConfigFromSpec(spec);
  bool run0 = false, run1 = false, run2 = false;
  for (const std::string& s : steps) {
    if (s == "0") {
      run0 = true;
    } else if (s == "1") {
      run1 = true;
    } else if (s == "2") {
      run2 = true;
    } else {
      throw SetupError(fmt::format("{}workflow.steps: unknown step '{}' (use \"0\", \"1\", \"2\")", p, s));
    }
  }
  if (!run0 && !run1 && !run2) throw SetupError(p + "workflow.steps: no step selected");
  run2 = run2 || (verify.enabled && run1);
  GroundingConfig config = GroundingConfigFromSpec(spec, teacher);
  const std::string results_dir = spec.Str("results_dir");
  const std::string step0_out = (std::filesystem::path(results_dir) /
                                 fmt::format("step_0_{}", kExtractionStepName) / "annotations.jsonl")
                                    .string();
  std::vector<StepPlan> plans;
  if (run0) {
    StepPlan plan;
    plan.index = 0;
    plan.logic = MakeExpressionExtractionStep(config);
    plan.input_jsonl = spec.Str(p + "data.input_jsonl");
    plans.push_back(std::move(plan));
  }
  if (run1) {
    StepPlan plan;
    plan.index = 1;
    plan.logic = MakePhraseGroundingStep(config);
    if (run0) {
      plan.input_jsonl = step0_out;
    } else {
      std::string given = spec.Str(p + "data.step0_annotations");
      plan.input_jsonl = given.empty() ? step0_out : given;
      if (!std::filesystem::exists(plan.input_jsonl)) {
        throw SetupError(fmt::format(
            "step 1 needs step-0 records, but '{}' does not exist: run {}workflow.steps=[\"0\",\"1\"] "
            "or set {}data.step0_annotations",
            plan.input_jsonl, p, p));
      }
    }
    plans.push_back(std::move(plan));
  }
  if (run2) {
    StepPlan plan;
    plan.index = 2;
    VerifyContext context{config.limits, teacher.SupportsSchema(), teacher.Fingerprint()};
    plan.logic = MakeVerificationStep(MakeGroundingVerifySubject(config), verify, context);
    plan.input_jsonl = (std::filesystem::path(results_dir) /
                        fmt::format("step_1_{}", kGroundingStepName) / "annotations.jsonl")
                           .string();
    if (!run1 && !std::filesystem::exists(plan.input_jsonl)) {
      throw SetupError(fmt::format("step 2 needs step-1 records, but '{}' does not exist: run {}"
                                   "workflow.steps=[\"0\",\"1\",\"2\"]",
                                   plan.input_jsonl, p));
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

}  // namespace groundcap
