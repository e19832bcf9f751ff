// Gemini native generateContent: request body builder and reply parser, both
// pure. Unlike TAO, mediaResolution is sent for images, timeouts apply, and a
// thinking budget can keep thoughts from eating maxOutputTokens.
#ifndef GROUNDCAP_GEMINI_BACKEND_H_
#define GROUNDCAP_GEMINI_BACKEND_H_

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "teacher/backend.h"

namespace groundcap {

/// vlm.gemini.* after defaults and environment fallbacks.
struct GeminiOptions {
  std::string base_url = "https://generativelanguage.googleapis.com";
  std::string api_version = "v1beta";
  std::string api_key;           ///< secret; sent only as x-goog-api-key
  /// The GA successor of TAO's default (gemini-3.1-flash-lite-preview, shut
  /// down 2026-05-25; docs/formats.md cites Google's deprecations page).
  std::string model = "gemini-3.1-flash-lite";
  std::string media_resolution = "MEDIA_RESOLUTION_HIGH";  ///< "" = not sent
  double temperature = 0.3;
  int max_output_tokens = 8192;
  int thinking_budget = -1;      ///< -1 = model default (not sent); 0 = off
  /// "minimal", "low", "medium", "high" (Gemini 3.x); "" = model default.
  std::string thinking_level;
  /// Which thinking control the model takes: "auto" (GeminiThinkingControlFor
  /// the model id), "level" or "budget".
  std::string thinking_control = "auto";
  bool structured_output = true; ///< send responseMimeType + responseSchema
};

/// Gemini 3.x and later take thinkingConfig.thinkingLevel; 2.5 and older
/// take thinkingBudget. Sending both is a 400.
enum class ThinkingControl { kLevel, kBudget };

/// The rule behind thinking_control "auto", from the model id: "gemini-N..."
/// (an optional "models/" prefix, any suffix) with N >= 3 takes a level,
/// anything else (gemini-2.5-*, unknown names) a budget.
ThinkingControl GeminiThinkingControlFor(const std::string& model);

/// The thinkingConfig object to send (null = none): thinkingLevel or
/// thinkingBudget, never both. For a level model with only a budget set the
/// budget is sent (Gemini 3 still accepts it); for a budget model a level
/// is a setup error (CheckGeminiThinking).
nlohmann::json GeminiThinkingConfig(const GeminiOptions& options);

/// Setup check of the thinking options: the error message, or "" when they
/// fit the model. `prefix` names the spec block ("image_grounding.vlm.").
std::string CheckGeminiThinking(const GeminiOptions& options, const std::string& prefix);

/// ".../v1beta/models/<model>:generateContent" (never carries the key).
std::string GeminiUrl(const GeminiOptions& options);

/// The request body for `request` (no secrets in it). With `placeholders`
/// the image data are ImagePlaceholder(i) strings for JsonPostWithImages.
nlohmann::json BuildGeminiBody(const GeminiOptions& options, const TeacherRequest& request,
                               bool placeholders = false);

/// JSON Schema -> Gemini's OpenAPI subset: upper-case types, ["x","null"] as
/// nullable, keywords Gemini rejects (additionalProperties, $schema, ...)
/// dropped (propertyOrdering is kept when the caller gives it).
nlohmann::json ToGeminiSchema(const nlohmann::json& schema);

/// Parses a 200 body: thought parts into `thinking`, finishReason,
/// promptFeedback.blockReason, usageMetadata.
TeacherReply ParseGeminiReply(std::string_view body);

/// Maps finishReason strings ("STOP", "MAX_TOKENS", "SAFETY", ...).
FinishReason GeminiFinish(std::string_view raw);

std::unique_ptr<Backend> MakeGeminiBackend(GeminiOptions options);

}  // namespace groundcap

#endif  // GROUNDCAP_GEMINI_BACKEND_H_
