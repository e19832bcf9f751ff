#include "cost/token_rules.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "boxes/box_format.h"

namespace groundcap {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

/// Patch-merge rule shared by the Qwen families: smart_resize to multiples of
/// `unit`, then one token per unit x unit cell.
int64_t PatchTokens(Size sent, int unit, int64_t min_pixels, int64_t max_pixels) {
  if (sent.width <= 0 || sent.height <= 0) return 0;
  Size s = SmartResize(sent, unit, min_pixels, max_pixels);
  return static_cast<int64_t>(s.width / unit) * (s.height / unit);
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

const char* ImageTokenRuleName(ImageTokenRule rule) {
  switch (rule) {
    case ImageTokenRule::kQwen25Vl: return "qwen2.5-vl (28 px patches after smart_resize)";
    case ImageTokenRule::kQwen3Vl: return "qwen3-vl (32 px patches after smart_resize)";
    case ImageTokenRule::kGemini2: return "gemini-2 (258 per image or per 768 px tile)";
    case ImageTokenRule::kGemini3: return "gemini-3 (fixed count per media_resolution)";
    case ImageTokenRule::kOpenAiTiles: return "openai tiles (85 + 170 per 512 px tile)";
  }
  return "?";
}

ImageTokenRule ImageTokenRuleFor(const std::string& model, const std::string& backend, bool* assumed) {
  const std::string m = Lower(model);
  // The last path component: "Qwen/Qwen3-VL-8B-Instruct", "models/gemini-2.5-flash".
  const std::string base = m.substr(m.find_last_of('/') == std::string::npos ? 0 : m.find_last_of('/') + 1);
  if (assumed) *assumed = false;
  if (base.find("qwen3-vl") != std::string::npos || base.find("qwen3_vl") != std::string::npos)
    return ImageTokenRule::kQwen3Vl;
  if (base.find("qwen") != std::string::npos) return ImageTokenRule::kQwen25Vl;
  if (StartsWith(base, "gemini-3") || StartsWith(base, "gemini-4")) return ImageTokenRule::kGemini3;
  if (StartsWith(base, "gemini")) return ImageTokenRule::kGemini2;
  for (const char* p : {"gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4"})
    if (StartsWith(base, p)) return ImageTokenRule::kOpenAiTiles;
  if (assumed) *assumed = true;
  return backend == "gemini" ? ImageTokenRule::kGemini3 : ImageTokenRule::kQwen25Vl;
}

int64_t Qwen25VlImageTokens(Size sent, int64_t min_pixels, int64_t max_pixels) {
  return PatchTokens(sent, 28, min_pixels, max_pixels);
}

int64_t Qwen3VlImageTokens(Size sent, int64_t min_pixels, int64_t max_pixels) {
  return PatchTokens(sent, 32, min_pixels, max_pixels);
}

int64_t Gemini2ImageTokens(Size sent) {
  if (sent.width <= 0 || sent.height <= 0) return 0;
  if (sent.width <= 384 && sent.height <= 384) return 258;
  return 258 * CeilDiv(sent.width, 768) * CeilDiv(sent.height, 768);
}

int64_t Gemini3ImageTokens(const std::string& media_resolution) {
  const std::string r = Lower(media_resolution);
  if (r == "media_resolution_low" || r == "low") return 280;
  if (r == "media_resolution_medium" || r == "medium") return 560;
  if (r == "media_resolution_ultra_high" || r == "ultra_high") return 2240;
  return 1120;  // HIGH, UNSPECIFIED and unset: the documented default for images
}

int64_t OpenAiTileImageTokens(Size sent, const std::string& detail) {
  if (sent.width <= 0 || sent.height <= 0) return 0;
  if (Lower(detail) == "low") return 85;
  double w = sent.width, h = sent.height;
  if (w > 2048 || h > 2048) {  // fit in 2048 x 2048
    const double s = 2048.0 / std::max(w, h);
    w = std::floor(w * s);
    h = std::floor(h * s);
  }
  if (std::min(w, h) > 768) {  // shortest side 768
    const double s = 768.0 / std::min(w, h);
    w = std::floor(w * s);
    h = std::floor(h * s);
  }
  const int64_t tiles = CeilDiv(static_cast<int64_t>(w), 512) * CeilDiv(static_cast<int64_t>(h), 512);
  return 85 + 170 * tiles;
}

int64_t ImageTokens(ImageTokenRule rule, Size sent, const std::string& media_resolution) {
  switch (rule) {
    case ImageTokenRule::kQwen25Vl: return Qwen25VlImageTokens(sent);
    case ImageTokenRule::kQwen3Vl: return Qwen3VlImageTokens(sent);
    case ImageTokenRule::kGemini2: return Gemini2ImageTokens(sent);
    case ImageTokenRule::kGemini3: return Gemini3ImageTokens(media_resolution);
    case ImageTokenRule::kOpenAiTiles: return OpenAiTileImageTokens(sent);
  }
  return 0;
}

int64_t TextTokens(size_t bytes) { return static_cast<int64_t>((bytes + 3) / 4); }

}  // namespace groundcap
