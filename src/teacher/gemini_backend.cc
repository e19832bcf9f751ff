#include "teacher/gemini_backend.h"

#include <cctype>

#include "teacher/retry.h"
#include "util/jsonl.h"

namespace groundcap {

namespace {

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

class GeminiBackend : public Backend {
 public:
  explicit GeminiBackend(GeminiOptions options) : options_(std::move(options)) {}
  std::string Name() const override { return "gemini"; }
  HttpPost Build(const TeacherRequest& request) const override {
    return JsonPostWithImages(GeminiUrl(options_),
                              options_.api_key.empty() ? "" : "x-goog-api-key: " + options_.api_key,
                              BuildGeminiBody(options_, request, /*placeholders=*/true),
                              request.images);
  }
  TeacherReply ParseOk(std::string_view body) const override { return ParseGeminiReply(body); }
  std::string ModelName() const override { return options_.model; }
  std::string Fingerprint() const override {
    nlohmann::json f = {{"backend", "gemini"},
                        {"model", options_.model},
                        {"temperature", options_.temperature},
                        {"max_output_tokens", options_.max_output_tokens},
                        {"media_resolution", options_.media_resolution},
                        {"thinking_budget", options_.thinking_budget},
                        {"structured_output", options_.structured_output}};
    // Only when set, so runs made before the field existed keep their checkpoints.
    if (!options_.thinking_level.empty()) f["thinking"] = GeminiThinkingConfig(options_);
    return f.dump();
  }
  std::vector<std::string> Secrets() const override { return {options_.api_key}; }
  bool SupportsSchema() const override { return options_.structured_output; }
  double EstimateTokens(const TeacherRequest& request) const override {
    double text = static_cast<double>(request.system.size() + request.prompt.size()) / 4.0;
    // 258 tokens per image tile at low/medium; high resolution costs more.
    double per_image = options_.media_resolution == "MEDIA_RESOLUTION_HIGH" ? 1100.0 : 300.0;
    return text + per_image * static_cast<double>(request.images.size()) +
           request.max_tokens.value_or(options_.max_output_tokens);
  }

 private:
  GeminiOptions options_;
};

}  // namespace

std::string GeminiUrl(const GeminiOptions& options) {
  return TrimTrailingSlashes(options.base_url) + "/" + options.api_version + "/models/" + options.model +
         ":generateContent";
}

nlohmann::json ToGeminiSchema(const nlohmann::json& schema) {
  if (!schema.is_object()) return schema;
  nlohmann::json out = nlohmann::json::object();
  for (auto it = schema.begin(); it != schema.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = it.value();
    if (key == "type") {
      if (v.is_string()) {
        out["type"] = Upper(v.get<std::string>());
      } else if (v.is_array()) {  // ["string", "null"]
        for (const nlohmann::json& t : v) {
          if (!t.is_string()) continue;
          if (t.get<std::string>() == "null") out["nullable"] = true;
          else out["type"] = Upper(t.get<std::string>());
        }
      }
    } else if (key == "properties" && v.is_object()) {
      nlohmann::json props = nlohmann::json::object();
      for (auto p = v.begin(); p != v.end(); ++p) props[p.key()] = ToGeminiSchema(p.value());
      out["properties"] = props;
    } else if (key == "items") {
      out["items"] = ToGeminiSchema(v);
    } else if (key == "anyOf" && v.is_array()) {
      nlohmann::json alts = nlohmann::json::array();
      for (const nlohmann::json& a : v) alts.push_back(ToGeminiSchema(a));
      out["anyOf"] = alts;
    } else if (key == "enum" || key == "required" || key == "description" || key == "nullable" ||
               key == "format" || key == "minItems" || key == "maxItems" || key == "minimum" ||
               key == "maximum" || key == "propertyOrdering" || key == "title") {
      out[key] = v;
    }
    // Everything else ($schema, additionalProperties, $defs, pattern...) is dropped.
  }
  return out;
}

namespace {

/// candidates[0].logprobsResult: chosenCandidates[i] {token, logProbability}
/// with topCandidates[i].candidates[] as its alternatives.
void ReadGeminiLogprobs(const nlohmann::json& cand, std::vector<TokenLogprob>* out) {
  auto result = cand.find("logprobsResult");
  if (result == cand.end() || !result->is_object()) return;
  auto chosen = result->find("chosenCandidates");
  if (chosen == result->end() || !chosen->is_array()) return;
  const nlohmann::json empty = nlohmann::json::array();
  auto tops = result->find("topCandidates");
  const nlohmann::json& top_list = tops != result->end() && tops->is_array() ? *tops : empty;
  for (size_t i = 0; i < chosen->size(); ++i) {
    const bool has = i < top_list.size() && top_list[i].is_object() && top_list[i].contains("candidates");
    AppendTokenLogprob((*chosen)[i], has ? top_list[i]["candidates"] : empty, "logProbability", out);
  }
}

}  // namespace

nlohmann::json BuildGeminiBody(const GeminiOptions& options, const TeacherRequest& request,
                               bool placeholders) {
  nlohmann::json parts = nlohmann::json::array();
  for (size_t i = 0; i < request.images.size(); ++i) {
    const ImagePart& image = request.images[i];
    parts.push_back({{"inlineData",
                      {{"mimeType", image.mime},
                       {"data", placeholders ? ImagePlaceholder(i) : image.Base64()}}}});
  }
  parts.push_back({{"text", request.prompt}});
  nlohmann::json body = {
      {"contents", nlohmann::json::array({{{"role", "user"}, {"parts", std::move(parts)}}})}};
  if (!request.system.empty())
    body["systemInstruction"] = {{"parts", nlohmann::json::array({{{"text", request.system}}})}};

  nlohmann::json config = nlohmann::json::object();
  config["temperature"] = request.temperature.value_or(options.temperature);
  if (request.top_p) config["topP"] = *request.top_p;
  config["maxOutputTokens"] = request.max_tokens.value_or(options.max_output_tokens);
  if (options.structured_output && !request.response_schema.is_null()) {
    config["responseMimeType"] = "application/json";
    config["responseSchema"] = ToGeminiSchema(request.response_schema);
  }
  if (!options.media_resolution.empty()) config["mediaResolution"] = options.media_resolution;
  if (request.top_logprobs > 0) {
    config["responseLogprobs"] = true;
    config["logprobs"] = request.top_logprobs;
  }
  nlohmann::json thinking = GeminiThinkingConfig(options);
  if (!thinking.is_null()) config["thinkingConfig"] = std::move(thinking);
  body["generationConfig"] = std::move(config);
  return body;
}

ThinkingControl GeminiThinkingControlFor(const std::string& model) {
  std::string_view id = model;
  if (id.rfind("models/", 0) == 0) id.remove_prefix(7);
  if (id.rfind("gemini-", 0) != 0) return ThinkingControl::kBudget;
  id.remove_prefix(7);
  int major = 0;
  size_t digits = 0;
  while (digits < id.size() && digits < 4 && std::isdigit(static_cast<unsigned char>(id[digits]))) {
    major = major * 10 + (id[digits] - '0');
    ++digits;
  }
  return digits > 0 && major >= 3 ? ThinkingControl::kLevel : ThinkingControl::kBudget;
}

namespace {

ThinkingControl ControlOf(const GeminiOptions& options) {
  if (options.thinking_control == "level") return ThinkingControl::kLevel;
  if (options.thinking_control == "budget") return ThinkingControl::kBudget;
  return GeminiThinkingControlFor(options.model);
}

}  // namespace

nlohmann::json GeminiThinkingConfig(const GeminiOptions& options) {
  if (ControlOf(options) == ThinkingControl::kLevel && !options.thinking_level.empty())
    return {{"thinkingLevel", options.thinking_level}};
  if (options.thinking_budget >= 0) return {{"thinkingBudget", options.thinking_budget}};
  return nullptr;
}

std::string CheckGeminiThinking(const GeminiOptions& options, const std::string& prefix) {
  if (ControlOf(options) == ThinkingControl::kBudget && !options.thinking_level.empty()) {
    return prefix + "gemini.thinking_level is set, but model \"" + options.model +
           "\" takes a thinking budget (Gemini 2.5 and older): use " + prefix +
           "gemini.thinking_budget, or set " + prefix +
           "gemini.thinking_control=level if this model takes thinkingLevel";
  }
  return "";
}

FinishReason GeminiFinish(std::string_view raw) {
  if (raw == "STOP") return FinishReason::kStop;
  if (raw == "MAX_TOKENS") return FinishReason::kLength;
  if (raw == "SAFETY" || raw == "RECITATION" || raw == "BLOCKLIST" ||
      raw == "PROHIBITED_CONTENT" || raw == "SPII" || raw == "IMAGE_SAFETY")
    return FinishReason::kSafety;
  if (raw.empty() || raw == "FINISH_REASON_UNSPECIFIED") return FinishReason::kUnknown;
  return FinishReason::kOther;
}

TeacherReply ParseGeminiReply(std::string_view body) {
  TeacherReply reply;
  if (JsonNestsDeeperThan(body)) {
    reply.error = Error::Make(ErrorKind::kTransport, "malformed response body (nested deeper than " +
                                                         std::to_string(kMaxJsonDepth) + " levels)");
    return reply;
  }
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_array() && j.size() == 1) j = j[0];
  if (j.is_discarded() || !j.is_object()) {
    reply.error = Error::Make(ErrorKind::kTransport,
                              "malformed response body (not JSON, " + std::to_string(body.size()) +
                                  " bytes)");
    return reply;
  }
  if (j.contains("error") && !j["error"].is_null()) {
    reply.error = ClassifyErrorInBody(j);
    return reply;
  }
  try {
    if (j.contains("usageMetadata")) {
      const nlohmann::json& u = j["usageMetadata"];
      reply.usage.input_tokens = JsonInt(u, "promptTokenCount");
      reply.usage.output_tokens = JsonInt(u, "candidatesTokenCount");
      reply.usage.thinking_tokens = JsonInt(u, "thoughtsTokenCount");
    }
    if (!j.contains("candidates") || !j["candidates"].is_array() || j["candidates"].empty()) {
      std::string block;
      if (j.contains("promptFeedback") && j["promptFeedback"].is_object())
        block = j["promptFeedback"].value("blockReason", std::string());
      reply.error = block.empty()
                        ? Error::Make(ErrorKind::kEmptyReply, "reply has no candidates")
                        : Error::Make(ErrorKind::kBlocked, "prompt blocked: " + block);
      return reply;
    }
    const nlohmann::json& cand = j["candidates"][0];
    reply.finish_raw = cand.value("finishReason", std::string());
    reply.finish = GeminiFinish(reply.finish_raw);
    std::string raw;
    if (cand.contains("content") && cand["content"].contains("parts") &&
        cand["content"]["parts"].is_array()) {
      for (const nlohmann::json& part : cand["content"]["parts"]) {
        if (!part.is_object() || !part.contains("text") || !part["text"].is_string()) continue;
        if (part.value("thought", false)) reply.thinking += part["text"].get<std::string>();
        else raw += part["text"].get<std::string>();
      }
    }
    std::string inline_thinking;
    SplitThinking(raw, &reply.text, &inline_thinking);
    reply.thinking += inline_thinking;
    ReadGeminiLogprobs(cand, &reply.logprobs);
  } catch (const std::exception& e) {
    reply.error = Error::Make(ErrorKind::kTransport, std::string("malformed response: ") + e.what());
    return reply;
  }
  CheckReplyContent(reply);
  if (reply.error && reply.error->kind == ErrorKind::kTruncated && reply.usage.thinking_tokens > 0)
    reply.error->message += " (thinking used " + std::to_string(reply.usage.thinking_tokens) +
                            " tokens: lower vlm.gemini.thinking_level / thinking_budget or raise max_output_tokens)";
  return reply;
}

std::unique_ptr<Backend> MakeGeminiBackend(GeminiOptions options) {
  return std::make_unique<GeminiBackend>(std::move(options));
}

}  // namespace groundcap
