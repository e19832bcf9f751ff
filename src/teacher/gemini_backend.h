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
  std::string model = "gemini-3.1-flash-lite-preview";
  std::string media_resolution = "MEDIA_RESOLUTION_HIGH";  ///< "" = not sent
  double temperature = 0.3;
  int max_output_tokens = 8192;
  int thinking_budget = -1;      ///< -1 = model default (not sent); 0 = off
  bool structured_output = true; ///< send responseMimeType + responseSchema
};

/// ".../v1beta/models/<model>:generateContent" (never carries the key).
std::string GeminiUrl(const GeminiOptions& options);

/// The request body for `request` (no secrets in it).
nlohmann::json BuildGeminiBody(const GeminiOptions& options, const TeacherRequest& request);

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
