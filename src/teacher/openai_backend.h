// OpenAI-compatible chat completions (OpenAI, vLLM, NIM, llama.cpp server,
// Ollama /v1, SGLang): request body builder and reply parser, both pure.
#ifndef GROUNDCAP_OPENAI_BACKEND_H_
#define GROUNDCAP_OPENAI_BACKEND_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "teacher/backend.h"

namespace groundcap {

/// vlm.openai.* after defaults and environment fallbacks.
struct OpenAiOptions {
  std::string base_url;          ///< ".../v1"; "/chat/completions" is appended
  std::string api_key;           ///< secret; empty = no Authorization header
  std::string model;
  double temperature = 0.7;
  std::optional<double> top_p;
  int max_tokens = 4096;
  std::optional<int64_t> seed;
  bool structured_output = true; ///< send response_format json_schema
  nlohmann::json extra_body = nlohmann::json::object();  ///< merged verbatim at top level
};

/// The request body for `request` (no secrets in it).
/// With `placeholders` the image data are ImagePlaceholder(i) strings for
/// JsonPostWithImages.
nlohmann::json BuildOpenAiBody(const OpenAiOptions& options, const TeacherRequest& request,
                               bool placeholders = false);

/// Parses a 200 body: content (string or parts), refusal, reasoning_content /
/// reasoning, <think> blocks, finish_reason, usage; an "error" object inside a
/// 200 is classified like an HTTP error.
TeacherReply ParseOpenAiReply(std::string_view body);

/// Maps finish_reason strings ("stop", "length", "content_filter", ...).
FinishReason OpenAiFinish(std::string_view raw);

/// Where `schema` breaks OpenAI's strict structured-output rules (the body
/// is sent with strict: true, which OpenAI refuses unless every object lists
/// all its properties as required and sets additionalProperties to false):
/// one "path: problem" per violation, empty when the schema is fine.
std::vector<std::string> StrictSchemaViolations(const nlohmann::json& schema);

std::unique_ptr<Backend> MakeOpenAiBackend(OpenAiOptions options);

}  // namespace groundcap

#endif  // GROUNDCAP_OPENAI_BACKEND_H_
