#include "grounding/grounding_prompts.h"

#include <cstdint>

#include <fmt/core.h>

namespace groundcap {
namespace {

std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  size_t pos = 0;
  while ((pos = text.find(from, pos)) != std::string::npos) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

std::string OneLine(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) out.push_back(c == '\n' || c == '\r' ? ' ' : c);
  return out;
}

constexpr const char* kExtraction =
    "You are annotating an image for a visual grounding dataset. Look at the image and read "
    "its caption below.\n"
    "1. Rewrite the caption as clean written English: remove speech artefacts such as "
    "\"we can see\", \"there is\", \"there are\", \"you can see\", \"I can see\", \"in this "
    "image\", \"in the image\", \"in this photo\". Keep every fact; do not add new ones.\n"
    "2. List the referring expressions in the cleaned caption: noun phrases that name "
    "specific, visible objects or groups of objects (for example \"the red car near the "
    "tree\"). Skip abstract or uncountable things that cannot be boxed, and things not "
    "visible in the image. Copy each expression verbatim from the cleaned caption, in the "
    "order it appears; list a phrase again if it appears again for a different object.\n"
    "3. For each expression give its head noun (\"car\" for \"the red car near the tree\").\n"
    "Answer with JSON only, no prose:\n"
    "{\"cleaned_caption\": \"...\", \"expressions\": [{\"text\": \"...\", \"noun_chunk\": "
    "\"...\"}]}\n"
    "If nothing qualifies, answer with an empty \"expressions\" list.\n"
    "Caption: {caption}\n";

constexpr const char* kGroundingHead =
    "Locate every instance of each referring expression below in the image. Each expression "
    "has a label E<k>.\n"
    "{expressions}\n";

constexpr const char* kGroundingTail =
    "Give at most {max_instances} boxes per expression (the most confident ones) and a "
    "confidence \"score\" between 0.0 and 1.0 for each box. Use the label of the expression "
    "(for example \"E0\") as \"label\"; give one entry per box. If an expression matches "
    "nothing, give no entry for it; if nothing matches at all, answer []. Answer with the "
    "JSON list only.\n";

}  // namespace

std::string DefaultExtractionPrompt() { return kExtraction; }

bool HasGroundingPrompt(BoxFormat format) {
  switch (format) {
    case BoxFormat::kGemini:
    case BoxFormat::kQwen25Vl:
    case BoxFormat::kQwen3Vl:
    case BoxFormat::kXyxyNorm1000:
    case BoxFormat::kXyxyNorm1:
    case BoxFormat::kXyxyPixels:
      return true;
    default:
      return false;
  }
}

BoxFormat GroundingPromptFormat(BoxFormat format) {
  return HasGroundingPrompt(format) ? format : BoxFormat::kXyxyNorm1000;
}

std::string DefaultGroundingPrompt(BoxFormat format) {
  std::string convention;
  switch (GroundingPromptFormat(format)) {
    case BoxFormat::kGemini:
      convention =
          "Return a JSON list of detections; each is {\"label\": \"E<k>\", \"box_2d\": [ymin, "
          "xmin, ymax, xmax], \"score\": s} with box_2d normalized to 0-1000.\n";
      break;
    case BoxFormat::kQwen25Vl:
      convention =
          "The image is {width}x{height} pixels. Return a JSON list of detections; each is "
          "{\"label\": \"E<k>\", \"bbox_2d\": [x1, y1, x2, y2], \"score\": s} with bbox_2d in "
          "absolute pixel coordinates of this {width}x{height} image.\n";
      break;
    case BoxFormat::kQwen3Vl:
      convention =
          "Return a JSON list of detections; each is {\"label\": \"E<k>\", \"bbox_2d\": [x1, y1, "
          "x2, y2], \"score\": s} with bbox_2d in relative coordinates on a 0-1000 grid.\n";
      break;
    case BoxFormat::kXyxyNorm1:
      convention =
          "Return a JSON list of detections; each is {\"label\": \"E<k>\", \"bbox\": [x1, y1, x2, "
          "y2], \"score\": s} with (x1, y1) the top-left and (x2, y2) the bottom-right corner, "
          "normalized to 0-1 (fractions of the image width and height).\n";
      break;
    case BoxFormat::kXyxyPixels:
      convention =
          "The image is {width}x{height} pixels. Return a JSON list of detections; each is "
          "{\"label\": \"E<k>\", \"bbox\": [x1, y1, x2, y2], \"score\": s} with (x1, y1) the "
          "top-left and (x2, y2) the bottom-right corner in pixels of this image.\n";
      break;
    default:
      convention =
          "Return a JSON list of detections; each is {\"label\": \"E<k>\", \"bbox\": [x1, y1, x2, "
          "y2], \"score\": s} with (x1, y1) the top-left and (x2, y2) the bottom-right corner, "
          "normalized to 0-1000 (0 = left/top edge, 1000 = right/bottom edge).\n";
      break;
  }
  return std::string(kGroundingHead) + convention + kGroundingTail;
}

std::string RenderExtractionPrompt(const std::string& tmpl, const std::string& caption) {
  return ReplaceAll(tmpl, "{caption}", OneLine(caption));
}

std::string RenderGroundingPrompt(const std::string& tmpl,
                                  const std::vector<std::pair<int, std::string>>& expressions,
                                  Size sent, int max_instances) {
  std::string lines;
  for (size_t i = 0; i < expressions.size(); ++i) {
    if (i) lines += '\n';
    lines += fmt::format("E{}: {}", expressions[i].first, OneLine(expressions[i].second));
  }
  // Expressions last: their text must not be searched for placeholders.
  std::string out = ReplaceAll(tmpl, "{width}", std::to_string(sent.width));
  out = ReplaceAll(out, "{height}", std::to_string(sent.height));
  out = ReplaceAll(out, "{max_instances}", std::to_string(max_instances));
  return ReplaceAll(out, "{expressions}", lines);
}

nlohmann::json ExtractionSchema() {
  return {
      {"type", "object"},
      {"properties",
       {{"cleaned_caption", {{"type", "string"}}},
        {"expressions",
         {{"type", "array"},
          {"items",
           {{"type", "object"},
            {"properties", {{"text", {{"type", "string"}}}, {"noun_chunk", {{"type", "string"}}}}},
            {"required", {"text", "noun_chunk"}},
            {"additionalProperties", false}}}}}}},
      {"required", {"cleaned_caption", "expressions"}},
      {"additionalProperties", false},
  };
}

std::string PromptHash(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", h);
}

}  // namespace groundcap
