// The region_caption.* spec keys: their field list, the options read from
// them and the one-step plan (declared in spec/spec.h and region_caption.h).
#include "region_caption/region_caption.h"

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "image/image_spec.h"
#include "region_caption/region_verify.h"
#include "spec/spec.h"
#include "util/error.h"

namespace groundcap {

namespace {

/// MakeField with allowed values (most region_caption keys are choices).
SpecField Field(std::string key, FieldType type, std::string def, std::string help,
                std::vector<std::string> choices = {}) {
  SpecField f = MakeField(std::move(key), type, std::move(def), std::move(help));
  f.choices = std::move(choices);
  return f;
}

}  // namespace

std::vector<SpecField> RegionCaptionSpecFields() {
  using FT = FieldType;
  std::vector<SpecField> f;
  // data.input_jsonl and data.image_root come with WorkflowSpecFields().
  f.push_back(Field("data.image_key", FT::kString, "\"image\"",
                    "Record field holding the image path (image_path for grounding output)"));
  f.push_back(Field("data.bbox_key", FT::kString, "\"bbox\"",
                    "Record field holding the list of boxes"));
  f.push_back(Field("bbox_format", FT::kString, "\"xywh\"",
                    "Order of the 4 numbers of an input box", {"xywh", "xyxy", "cxcywh"}));
  f.push_back(Field("bbox_units", FT::kString, "\"pixels\"",
                    "Scale of input boxes: pixels, norm1 (0-1) or norm1000 (0-1000)",
                    {"pixels", "norm1", "norm1000"}));
  f.push_back(MakeField("max_boxes", FT::kInt, "10", "Regions per image (DataFlow: 10)", 1, 99));
  f.push_back(Field("overflow", FT::kString, "\"input_order\"",
                    "Which boxes to keep over max_boxes; the others are listed in dropped_boxes",
                    {"input_order", "largest_first"}));
  f.push_back(Field("proposals", FT::kString, "\"contours\"",
                    "Boxes for records without any: DataFlow's contour heuristic, or none",
                    {"contours", "none"}));
  f.push_back(Field("whole_image_fallback", FT::kBool, "true",
                    "Caption the whole image as one region when a record has no boxes and the "
                    "proposals find none (DataFlow drops such records)"));
  f.push_back(Field("mode", FT::kString, "\"structured\"",
                    "structured (one checked caption per region) or dataflow (DataFlow-MM parity)",
                    {"structured", "dataflow"}));
  f.push_back(MakeField("max_reasks", FT::kInt, "2",
                        "Structured: extra requests for missing or bad regions", 0, 10));
  f.push_back(Field("crop_context", FT::kBool, "false",
                    "Structured: also send one crop per region (one extra image each)"));
  f.push_back(MakeField("crop_margin", FT::kFloat, "0.25",
                        "Crop margin around a region, as a fraction of its width/height", 0, 5));
  f.push_back(Field("marks.encoding", FT::kString, "\"jpeg\"",
                    "Encoding of the marked images written to results_dir/region_caption_marks",
                    {"jpeg", "png"}));
  f.push_back(MakeField("marks.jpeg_quality", FT::kInt, "90", "JPEG quality of marked images", 1, 100));
  for (SpecField& q : RegionQualitySpecFields()) f.push_back(std::move(q));
  for (SpecField& v : VerifySpecFields()) f.push_back(std::move(v));
  return f;
}

RegionCaptionOptions RegionCaptionOptionsFromSpec(const Spec& spec) {
  const std::string p = std::string(kRegionCaption) + ".";
  RegionCaptionOptions o;
  o.results_dir = spec.Str("results_dir");
  o.blocking_flags = RegionBlockingFlagsFromSpec(spec);
  o.image_root = spec.Str(p + "data.image_root");
  o.image_key = spec.Str(p + "data.image_key");
  o.bbox_key = spec.Str(p + "data.bbox_key");
  auto need = [](auto r) {
    if (!r) throw SetupError("region_caption: " + r.error().message);
    return *r;
  };
  o.bbox_format = need(RegionBoxFormatFromName(spec.Str(p + "bbox_format")));
  o.bbox_units = need(RegionBoxUnitsFromName(spec.Str(p + "bbox_units")));
  o.overflow = need(OverflowPolicyFromName(spec.Str(p + "overflow")));
  o.max_boxes = static_cast<int>(spec.Int(p + "max_boxes"));
  o.proposals = spec.Str(p + "proposals") == "none" ? ProposalSource::kNone
                                                     : ProposalSource::kContours;
  o.whole_image_fallback = spec.Bool(p + "whole_image_fallback");
  o.mode = spec.Str(p + "mode") == "dataflow" ? RegionCaptionMode::kDataflow
                                               : RegionCaptionMode::kStructured;
  o.max_reasks = static_cast<int>(spec.Int(p + "max_reasks"));
  o.crop_context = spec.Bool(p + "crop_context");
  o.crop_margin = spec.Float(p + "crop_margin");
  o.marks_encoding = spec.Str(p + "marks.encoding");
  o.marks_jpeg_quality = static_cast<int>(spec.Int(p + "marks.jpeg_quality"));
  o.prepare = PrepareOptionsFromSpec(spec, kRegionCaption);
  o.limits = ImageLimitsFromSpec(spec, kRegionCaption);
  if (o.results_dir.empty()) throw SetupError("region_caption: results_dir is empty");
  return o;
}

std::vector<StepPlan> MakeRegionCaptionSteps(const Spec& spec, const Teacher& teacher) {
  const RegionCaptionOptions options = RegionCaptionOptionsFromSpec(spec);
  StepPlan plan;
  plan.index = 0;
  plan.logic = MakeRegionCaptionLogic(options, teacher);
  plan.input_jsonl = spec.Str(std::string(kRegionCaption) + ".data.input_jsonl");
  std::vector<StepPlan> plans;
  plans.push_back(std::move(plan));
  const VerifyConfig verify = VerifyConfigFromSpec(spec);
  if (verify.enabled) {
    if (options.mode == RegionCaptionMode::kDataflow) {
      throw SetupError("region_caption.verify.enabled needs mode: structured (a dataflow answer has "
                       "no caption per region to check)");
    }
    StepPlan check;
    check.index = 1;
    VerifyContext context{options.limits, teacher.SupportsSchema(), teacher.Fingerprint()};
    check.logic = MakeVerificationStep(MakeRegionVerifySubject(options), verify, context);
    check.input_jsonl = (std::filesystem::path(options.results_dir) /
                         fmt::format("step_0_{}", plans[0].logic->Name()) / "annotations.jsonl")
                            .string();
    plans.push_back(std::move(check));
  }
  return plans;
}

}  // namespace groundcap
