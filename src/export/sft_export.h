// Visual-instruction SFT conversations from groundcap records, with boxes in
// the student family's own convention (boxes/box_format.h writes them; the
// same module parses them back). Layouts: LLaVA JSON, the Qwen-VL /
// InternVL chat JSONL (same turns, one line per image) and Gemini's tuning
// JSONL (contents/parts). docs/formats.md, "SFT conversations".
#ifndef GROUNDCAP_SFT_EXPORT_H_
#define GROUNDCAP_SFT_EXPORT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "boxes/box_format.h"
#include "export/grounding_export.h"

namespace groundcap {

/// The student whose convention the answers use.
struct SftStudent {
  BoxFormat format = BoxFormat::kQwen25Vl;
  /// Qwen2.5-VL's processor bounds (preprocessor_config.json defaults):
  /// its boxes are pixels of SmartResize(image, 28, min_pixels, max_pixels).
  int64_t min_pixels = 3136;
  int64_t max_pixels = 12845056;
};

/// The size of the image the student's model sees: SmartResize for
/// Qwen2.5-VL, the upright image otherwise.
Size StudentInputSize(const SftStudent& student, Size image);

/// One question and its answer.
struct SftTurn {
  std::string question;
  std::string answer;
};

/// The turns of one image: per expression "Locate <expr> ..." answered with
/// its boxes (labelled with the expression), per region "Describe region
/// <box> ..." answered with the caption; the family's wording. The first
/// question does not carry the image tag (the layouts add it).
std::vector<SftTurn> SftTurns(const ExportImage& image, const SftStudent& student);

/// LLaVA: {"id", "image", "conversations": [{"from": "human", "value":
/// "<image>\n..."}, {"from": "gpt", "value": ...}, ...]}. The Qwen-VL and
/// InternVL chat JSONL lines are the same object plus "width", "height"
/// (upright pixels), one per line.
nlohmann::ordered_json ToLlavaEntry(const ExportImage& image, const std::string& id,
                                    const std::vector<SftTurn>& turns, bool with_size);

/// Gemini tuning line: {"contents": [{"role": "user", "parts": [{"fileData":
/// {"mimeType", "fileUri"}}, {"text": q}]}, {"role": "model", "parts":
/// [{"text": a}]}, ...]}.
nlohmann::ordered_json ToGeminiLine(const ExportImage& image, const std::vector<SftTurn>& turns);

}  // namespace groundcap

#endif  // GROUNDCAP_SFT_EXPORT_H_
