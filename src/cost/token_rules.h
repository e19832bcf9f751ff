// Image and text token rules of the teacher families, as published, as pure
// functions of the size of the image the server receives. Used by
// `groundcap plan`, workflow.budget (estimates before a sample is admitted)
// and the simulated teacher (which reports usage by the same rules).
// Sources are cited in docs/formats.md "Token estimates".
#ifndef GROUNDCAP_TOKEN_RULES_H_
#define GROUNDCAP_TOKEN_RULES_H_

#include <cstdint>
#include <string>

#include "util/geometry.h"

namespace groundcap {

/// Which published rule counts a model's image tokens.
enum class ImageTokenRule {
  kQwen25Vl,   ///< patch 14, 2x2 merge: 28 px units after smart_resize
  kQwen3Vl,    ///< patch 16, 2x2 merge: 32 px units after smart_resize
  kGemini2,    ///< 258 per image <= 384 px both sides, else 258 per 768 px tile
  kGemini3,    ///< a fixed count per media_resolution
  kOpenAiTiles ///< 85 + 170 per 512 px tile after fitting 2048 and shortest side 768
};
const char* ImageTokenRuleName(ImageTokenRule rule);

/// The rule for a model name (case-insensitive): "qwen3-vl"/"qwen3_vl" ->
/// kQwen3Vl; other "qwen" names -> kQwen25Vl; "gemini-3..." -> kGemini3;
/// other "gemini" names -> kGemini2; "gpt-4o", "gpt-4.1", "gpt-5", "o1",
/// "o3", "o4" -> kOpenAiTiles. Anything else: the backend's family
/// (gemini -> kGemini2, openai -> kQwen25Vl, the common self-hosted VLM),
/// with *assumed set to true so reports can say the rule is a guess.
ImageTokenRule ImageTokenRuleFor(const std::string& model, const std::string& backend, bool* assumed);

/// Qwen2.5-VL processor defaults (preprocessor_config.json of the released
/// checkpoints, qwen-vl-utils): min_pixels 4*28*28, max_pixels 16384*28*28.
inline constexpr int64_t kQwen25MinPixels = 4 * 28 * 28;
inline constexpr int64_t kQwen25MaxPixels = 16384 * 28 * 28;
/// Qwen3-VL processor defaults (size.shortest_edge / size.longest_edge of
/// the released preprocessor_config.json): 65536 and 16777216 pixels.
inline constexpr int64_t kQwen3MinPixels = 65536;
inline constexpr int64_t kQwen3MaxPixels = 16777216;

/// Visual tokens of a Qwen2.5-VL image (the <|image_pad|> tokens; the two
/// vision start/end markers are not counted): smart_resize to multiples of
/// 28 in [min_pixels, max_pixels], then (h/28)*(w/28).
int64_t Qwen25VlImageTokens(Size sent, int64_t min_pixels = kQwen25MinPixels,
                            int64_t max_pixels = kQwen25MaxPixels);
/// Qwen3-VL: the same with 32 px units (patch 16, 2x2 merge).
int64_t Qwen3VlImageTokens(Size sent, int64_t min_pixels = kQwen3MinPixels,
                           int64_t max_pixels = kQwen3MaxPixels);
/// Gemini 2.x without media_resolution: 258 when both sides <= 384 px, else
/// 258 per 768x768 tile, ceil(w/768)*ceil(h/768) tiles.
int64_t Gemini2ImageTokens(Size sent);
/// Gemini 3: MEDIA_RESOLUTION_LOW 280, MEDIUM 560, HIGH 1120 (also the
/// default for images: "" and MEDIA_RESOLUTION_UNSPECIFIED), ULTRA_HIGH 2240.
int64_t Gemini3ImageTokens(const std::string& media_resolution);
/// OpenAI-style tiles, detail "high" (or "auto"): scale to fit 2048x2048,
/// then shortest side to 768 (both only downwards), 85 + 170 per 512 px
/// tile; detail "low": 85.
int64_t OpenAiTileImageTokens(Size sent, const std::string& detail = "high");

/// Tokens of one image of size `sent` under `rule`; `media_resolution` is
/// used by kGemini3 only.
int64_t ImageTokens(ImageTokenRule rule, Size sent, const std::string& media_resolution = "");

/// Text tokens by the documented approximation: one token per 4 bytes of
/// UTF-8, rounded up (ceil(bytes / 4)); 0 for no text.
int64_t TextTokens(size_t bytes);

}  // namespace groundcap

#endif  // GROUNDCAP_TOKEN_RULES_H_
