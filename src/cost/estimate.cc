#include "cost/estimate.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/core.h>

#include "cost/image_header.h"
#include "grounding/grounding_prompts.h"
#include "grounding/grounding_steps.h"
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

/// Image size from the file's first bytes: 64 KiB, then 1 MiB when a
/// JPEG's SOF marker lies behind large APPn segments (EXIF, ICC).
constexpr size_t kHeaderReads[] = {64 * 1024, 1024 * 1024};

/// The image's size, or nullopt with `why` when it would be refused. JPEG
/// and PNG sizes come from their headers (EncodedImageSize, no codec; a
/// libvips probe cost ~0.25 ms of CPU per estimate in `groundcap plan` over
/// 400 synthetic JPEGs, the header read under 0.05 ms); other formats and unreadable
/// headers go through ProbeImage, which says why a file is refused.
std::optional<Size> HeaderSize(const std::string& path, const ImageLimits& limits, std::string* why) {
  if (!NotARegularFile(path)) {
    std::ifstream in(path, std::ios::binary);
    std::string head;
    for (size_t want : kHeaderReads) {
      const size_t have = head.size();
      head.resize(want);
      in.read(head.data() + have, static_cast<std::streamsize>(want - have));
      head.resize(have + static_cast<size_t>(in.gcount()));
      const Size s = EncodedImageSize(head);
      if (s.width > 0 && s.height > 0) {
        if (static_cast<int64_t>(s.width) * s.height <= limits.max_pixels) return s;
        *why = fmt::format("{}x{} = {} pixels is over the limit of {} (image.max_source_pixels)", s.width,
                           s.height, static_cast<int64_t>(s.width) * s.height, limits.max_pixels);
        return std::nullopt;
      }
      if (head.size() < want) break;  // the whole file was read
    }
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
  estimated_ = step_ != "verification";
  if (spec.pipeline() == kImageGrounding) {
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
  CostEstimate e;
  e.samples = 1;
  if (!estimated_) return e;
  const std::string path = ResolveImagePath(image_root_, StringField(record, image_key_));
  std::string why;
  std::optional<Size> size = HeaderSize(path, limits_, &why);
  if (!size) {
    e.refused = 1;
    if (refusal) *refusal = why;
    return e;
  }
  const int64_t per_image = ImageTokens(teacher_.rule, PreparedSize(*size, prepare_), teacher_.media_resolution);
  const int64_t cap = teacher_.max_output_tokens > 0 ? teacher_.max_output_tokens : INT64_MAX;
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

}  // namespace groundcap
