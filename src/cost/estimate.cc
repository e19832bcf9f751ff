#include "cost/estimate.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/core.h>

#include "grounding/grounding_prompts.h"
#include "grounding/grounding_steps.h"
#include "image/draw.h"
#include "image/image_header.h"
#include "image/image_spec.h"
#include "region_caption/region_caption.h"
#include "util/file_read.h"

namespace groundcap {

CostEstimate& CostEstimate::operator+=(const CostEstimate& o) {
  samples += o.samples;
  requests += o.requests;
  images += o.images;
  refused += o.refused;
  text_tokens += o.text_tokens;
  image_tokens += o.image_tokens;
  output_tokens += o.output_tokens;
  return *this;
}

CostEstimate& CostEstimate::operator-=(const CostEstimate& o) {
  samples -= o.samples;
  requests -= o.requests;
  images -= o.images;
  refused -= o.refused;
  text_tokens -= o.text_tokens;
  image_tokens -= o.image_tokens;
  output_tokens -= o.output_tokens;
  return *this;
}

nlohmann::json CostEstimate::ToJson() const {
  return {{"samples", samples},           {"requests", requests},
          {"images", images},             {"refused_images", refused},
          {"input_text_tokens", text_tokens}, {"input_image_tokens", image_tokens},
          {"input_tokens", input_tokens()},   {"output_tokens", output_tokens}};
}

TeacherModel TeacherModelFromSpec(const Spec& spec) {
  const std::string p = spec.pipeline() + ".vlm.";
  TeacherModel t;
  t.backend = spec.Str(p + "backend");
  if (t.backend == "gemini") {
    t.model = spec.Str(p + "gemini.model");
    t.media_resolution = spec.Str(p + "gemini.media_resolution");
    t.max_output_tokens = spec.Int(p + "gemini.max_output_tokens");
  } else {
    t.model = spec.Str(p + "openai.model_name");
    t.max_output_tokens = spec.Int(p + "openai.max_tokens");
  }
  t.rule = ImageTokenRuleFor(t.model, t.backend, &t.rule_assumed);
  return t;
}

namespace {

int64_t Words(const std::string& text) {
  std::istringstream in(text);
  std::string w;
  int64_t n = 0;
  while (in >> w) ++n;
  return n;
}

std::string StringField(const nlohmann::ordered_json& record, const std::string& key) {
  auto it = record.find(key);
  return it != record.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// The image's size, or nullopt with `why` when it would be refused. JPEG
/// and PNG sizes come from their headers (EncodedImageSize, no codec; a
/// libvips probe cost ~0.25 ms of CPU per estimate in `groundcap plan` over
/// 400 synthetic JPEGs, the header read under 0.05 ms); other formats and unreadable
/// headers go through ProbeImage, which says why a file is refused.
std::optional<Size> HeaderSize(const std::string& path, const ImageLimits& limits, std::string* why) {
  const Size s = EncodedFileSize(path);
  if (s.width > 0 && s.height > 0) {
    if (static_cast<int64_t>(s.width) * s.height <= limits.max_pixels) return s;
    *why = fmt::format("{}x{} = {} pixels is over the limit of {} (image.max_source_pixels)", s.width, s.height,
                       static_cast<int64_t>(s.width) * s.height, limits.max_pixels);
    return std::nullopt;
  }
  Result<ImageInfo> info = ProbeImage(path, limits);
  if (!info) {
    *why = info.error().message;
    return std::nullopt;
  }
  return info->upright;
}

}  // namespace

StepEstimator::StepEstimator(const Spec& spec, std::string step) : step_(std::move(step)) {
  const std::string p = spec.pipeline() + ".";
  teacher_ = TeacherModelFromSpec(spec);
  prepare_ = PrepareOptionsFromSpec(spec, spec.pipeline());
  limits_ = ImageLimitsFromSpec(spec, spec.pipeline());
  image_root_ = spec.Str(p + "data.image_root");
  grounding_ = spec.pipeline() == kImageGrounding;
  if (step_ == "verification") verify_ = VerifyConfigFromSpec(spec);
  if (grounding_) {
    expressions_per_request_ = std::max<int64_t>(1, spec.Int(p + "grounding.expressions_per_request"));
    std::string tmpl = DefaultExtractionPrompt();
    const std::string file = spec.Str(p + "prompts.extraction_file");
    if (!file.empty()) tmpl = ReadRegularFile(file, 1 << 20).value_or(tmpl);
    extraction_prompt_bytes_ = static_cast<int64_t>(RenderExtractionPrompt(tmpl, "").size());
  } else {
    RegionCaptionOptions rc = RegionCaptionOptionsFromSpec(spec);
    image_key_ = rc.image_key;
    bbox_key_ = rc.bbox_key;
    max_boxes_ = rc.max_boxes;
    if (!rc.image_root.empty()) image_root_ = rc.image_root;
  }
}

CostEstimate StepEstimator::Estimate(const nlohmann::ordered_json& record, std::string* refusal) const {
  if (step_ == "verification") return EstimateVerification(record, refusal);
  CostEstimate e;
  e.samples = 1;
  const std::string path = ResolveImagePath(image_root_, StringField(record, image_key_));
  std::string why;
  std::optional<Size> size = HeaderSize(path, limits_, &why);
  if (!size) {
    e.refused = 1;
    if (refusal) *refusal = why;
    return e;
  }
  const int64_t per_image = ImageTokens(teacher_.rule, PreparedSize(*size, prepare_), teacher_.media_resolution);
  const int64_t cap = OutputCap();
  if (step_ == "expression_extraction") {
    const std::string caption = StringField(record, "caption");
    e.requests = 1;
    e.text_tokens = TextTokens(static_cast<size_t>(extraction_prompt_bytes_) + caption.size());
    e.output_tokens = std::min(cap, kExtractionOutputBase + 2 * TextTokens(caption.size()));
  } else if (step_ == "grounding") {
    int64_t n = 0, bytes = 0;
    auto it = record.find("expressions");
    if (it != record.end() && it->is_array()) {
      for (const auto& x : *it) {
        ++n;
        if (x.is_object() && x.contains("text") && x["text"].is_string()) bytes += x["text"].get<std::string>().size();
      }
    } else {  // planning from the captions, before step 0 ran
      const std::string caption = StringField(record, "caption");
      n = std::max<int64_t>(1, (Words(caption) + kCaptionWordsPerExpression - 1) / kCaptionWordsPerExpression);
      bytes = static_cast<int64_t>(caption.size());
    }
    if (n == 0) return e;  // nothing to ground: no request
    e.requests = (n + expressions_per_request_ - 1) / expressions_per_request_;
    e.text_tokens = e.requests * kGroundingPromptTokens + TextTokens(static_cast<size_t>(bytes + 8 * n));
    e.output_tokens = std::min(cap * e.requests, kGroundingOutputPerExpression * n);
  } else {  // region_caption
    int64_t regions = max_boxes_;
    auto it = record.find(bbox_key_);
    if (it != record.end() && it->is_array() && !it->empty())
      regions = std::min<int64_t>(max_boxes_, static_cast<int64_t>(it->size()));
    e.requests = 1;
    e.text_tokens = kRegionPromptTokens + 20 * regions;
    e.output_tokens = std::min(cap, kRegionOutputPerRegion * regions);
  }
  e.images = e.requests;
  e.image_tokens = per_image * e.images;
  return e;
}

namespace {

/// One crop the verification step would send: its box (null when planning
/// before the boxes exist) and the claim asked about it.
struct PlannedCrop {
  std::optional<Box> box;
  std::string text;
};

std::optional<Box> BoxOf(const nlohmann::ordered_json& b) {
  if (!b.is_array() || b.size() != 4) return std::nullopt;
  for (const auto& v : b)
    if (!v.is_number()) return std::nullopt;
  return Box{b[0].get<double>(), b[1].get<double>(), b[2].get<double>(), b[3].get<double>()};
}

}  // namespace

CostEstimate StepEstimator::EstimateVerification(const nlohmann::ordered_json& record, std::string* refusal) const {
  CostEstimate e;
  e.samples = 1;
  // The crops the step would ask about, by the same rules as its subjects
  // (grounding_verify.cc, region_verify.cc); before the boxes exist, one
  // crop per expression guessed from the caption, or per input box.
  std::vector<PlannedCrop> crops;
  auto expressions = record.find("expressions");
  auto regions = record.find("regions");
  if (grounding_ && expressions != record.end() && expressions->is_array()) {
    for (const auto& x : *expressions) {
      if (!x.is_object() || !x.contains("instances") || !x["instances"].is_array()) continue;
      for (const auto& inst : x["instances"]) {
        std::optional<Box> b = inst.is_object() ? BoxOf(inst.value("bbox", nlohmann::ordered_json())) : std::nullopt;
        if (b) crops.push_back({b, x.value("text", "")});
      }
    }
  } else if (!grounding_ && regions != record.end() && regions->is_array()) {
    for (const auto& r : *regions) {
      if (!r.is_object() || r.value("status", "") != "ok" || r.value("caption", "").empty()) continue;
      if (std::optional<Box> b = BoxOf(r.value("bbox", nlohmann::ordered_json())))
        crops.push_back({b, r.value("caption", "")});
    }
  } else if (grounding_) {  // planning from the caption
    const std::string caption = StringField(record, "caption");
    const int64_t n =
        std::max<int64_t>(1, (Words(caption) + kCaptionWordsPerExpression - 1) / kCaptionWordsPerExpression);
    const std::string text(caption.size() / static_cast<size_t>(n), 'x');
    crops.assign(static_cast<size_t>(n), PlannedCrop{std::nullopt, text});
  } else {  // planning from the input boxes
    auto it = record.find(bbox_key_);
    const size_t n = it != record.end() && it->is_array() ? std::min<size_t>(max_boxes_, it->size()) : 0;
    crops.assign(n, PlannedCrop{std::nullopt, std::string(kAssumedRegionCaptionBytes, 'x')});
  }
  if (crops.empty()) return e;  // nothing to verify: no request, the image is not read

  std::string why;
  const std::optional<Size> image =
      HeaderSize(ResolveImagePath(image_root_, StringField(record, image_key_)), limits_, &why);
  if (!image) {  // Begin could not load it: the sample fails without a request
    e.refused = 1;
    if (refusal) *refusal = why;
    return e;
  }
  const size_t per_request = static_cast<size_t>(std::max(1, verify_.crops_per_request));
  e.requests = static_cast<int64_t>((crops.size() + per_request - 1) / per_request);
  e.images = static_cast<int64_t>(crops.size());
  for (size_t i = 0; i < crops.size(); i += per_request) {
    std::vector<VerifyItem> items;
    for (size_t k = i; k < std::min(crops.size(), i + per_request); ++k)
      items.push_back({{1000, 1000, 1000, 1000}, crops[k].text});  // widest numbers: an upper bound
    e.text_tokens += TextTokens(VerifyPrompt(items).size());
  }
  for (const PlannedCrop& c : crops) {
    // The crop as Begin prepares it: the box's surroundings, upscaled to
    // min_crop_pixels or downscaled to max_crop_pixels. Unknown box: the
    // largest crop sent.
    Size crop{0, 0};
    if (c.box) {
      const Box r = CropRect(*c.box, verify_.margin, *image);
      crop = Size{static_cast<int>(r.width()), static_cast<int>(r.height())};
    } else {
      const int side = static_cast<int>(std::sqrt(static_cast<double>(verify_.max_crop_pixels)));
      crop = Size{side, side};
    }
    PrepareOptions p;
    p.resize = PrepareOptions::Resize::kPixelBudget;
    p.allow_upscale = static_cast<int64_t>(crop.width) * crop.height < verify_.min_crop_pixels;
    p.max_pixels = p.allow_upscale ? verify_.min_crop_pixels : verify_.max_crop_pixels;
    e.image_tokens += ImageTokens(teacher_.rule, PreparedSize(crop, p), teacher_.media_resolution);
  }
  const int64_t cap = OutputCap();
  e.output_tokens = std::min(cap * e.requests, kVerifyOutputPerCrop * static_cast<int64_t>(crops.size()));
  return e;
}

}  // namespace groundcap
