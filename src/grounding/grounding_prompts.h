// The image-grounding prompts, versioned, in one place.
//
// Templates use {placeholders}; the markers the simulated teacher parses
// (docs/formats.md "Prompt protocol") are part of the templates: the line
// "Caption: {caption}" (extraction) and one "E<k>: <text>" line per
// expression in {expressions} (grounding). Changing any text here must bump
// kGroundingPromptVersion, which is part of the checkpoint fingerprint (the
// template hash is too, so overrides from files are covered).
#ifndef GROUNDCAP_GROUNDING_PROMPTS_H_
#define GROUNDCAP_GROUNDING_PROMPTS_H_

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "boxes/box_format.h"
#include "util/geometry.h"

namespace groundcap {

/// Version of the built-in prompt texts.
inline constexpr const char* kGroundingPromptVersion = "ig-v1";

/// Extraction template; placeholder {caption}.
std::string DefaultExtractionPrompt();

/// Box formats with their own grounding prompt (a JSON list of detections
/// in the family's native convention). Other formats are grounded with the
/// generic xyxy_norm1000 prompt (see GroundingPromptFormat).
bool HasGroundingPrompt(BoxFormat format);
/// The format the grounding prompt asks for and the reply is parsed with:
/// `format` itself when HasGroundingPrompt, else kXyxyNorm1000.
BoxFormat GroundingPromptFormat(BoxFormat format);

/// Grounding template for a format; placeholders {expressions},
/// {width}, {height} (size of the image sent) and {max_instances}.
std::string DefaultGroundingPrompt(BoxFormat format);

/// Fills the extraction template. Line breaks in the caption become spaces
/// so that the caption stays on its "Caption:" line.
std::string RenderExtractionPrompt(const std::string& tmpl, const std::string& caption);

/// Fills the grounding template with one "E<k>: <text>" line per
/// (k, text) pair (text on one line).
std::string RenderGroundingPrompt(const std::string& tmpl,
                                  const std::vector<std::pair<int, std::string>>& expressions,
                                  Size sent, int max_instances);

/// JSON schema of the extraction reply, for structured output (written to
/// OpenAI's strict-mode rules: every property required, no others allowed).
nlohmann::json ExtractionSchema();

/// Short stable hash (FNV-1a 64, hex) of a prompt text, for fingerprints.
std::string PromptHash(const std::string& text);

}  // namespace groundcap

#endif  // GROUNDCAP_GROUNDING_PROMPTS_H_
