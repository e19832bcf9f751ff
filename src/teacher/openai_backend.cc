#include "teacher/openai_backend.h"

#include <algorithm>
#include <cmath>

#include "teacher/retry.h"
#include "util/jsonl.h"

namespace groundcap {

namespace {

/// message.content may be a string, null, or an array of {type:text,text}.
std::string ContentText(const nlohmann::json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (content.is_array()) {
    for (const nlohmann::json& part : content)
      if (part.is_object() && part.contains("text") && part["text"].is_string())
        out += part["text"].get<std::string>();
  }
  return out;
}

class OpenAiBackend : public Backend {
 public:
  explicit OpenAiBackend(OpenAiOptions options) : options_(std::move(options)) {}
  std::string Name() const override { return "openai"; }
  HttpPost Build(const TeacherRequest& request) const override {
    return JsonPostWithImages(
        TrimTrailingSlashes(options_.base_url) + "/chat/completions",
        options_.api_key.empty() ? "" : "Authorization: Bearer " + options_.api_key,
        BuildOpenAiBody(options_, request, /*placeholders=*/true), request.images);
  }
  TeacherReply ParseOk(std::string_view body) const override { return ParseOpenAiReply(body); }
  std::string ModelName() const override { return options_.model; }
  std::string Fingerprint() const override {
    nlohmann::json f = {{"backend", "openai"},
                        {"model", options_.model},
                        {"temperature", options_.temperature},
                        {"max_tokens", options_.max_tokens},
                        {"structured_output", options_.structured_output},
                        {"extra_body", options_.extra_body}};
    if (options_.top_p) f["top_p"] = *options_.top_p;
    if (options_.seed) f["seed"] = *options_.seed;
    return f.dump();
  }
  std::vector<std::string> Secrets() const override { return {options_.api_key}; }
  bool SupportsSchema() const override { return options_.structured_output; }
  double EstimateTokens(const TeacherRequest& request) const override {
    double text = static_cast<double>(request.system.size() + request.prompt.size()) / 4.0;
    return text + 800.0 * static_cast<double>(request.images.size()) +
           request.max_tokens.value_or(options_.max_tokens);
  }

 private:
  OpenAiOptions options_;
};

}  // namespace

nlohmann::json BuildOpenAiBody(const OpenAiOptions& options, const TeacherRequest& request,
                               bool placeholders) {
  nlohmann::json messages = nlohmann::json::array();
  if (!request.system.empty()) messages.push_back({{"role", "system"}, {"content", request.system}});
  nlohmann::json content = nlohmann::json::array();
  for (size_t i = 0; i < request.images.size(); ++i) {
    const ImagePart& image = request.images[i];
    content.push_back({{"type", "image_url"},
                       {"image_url",
                        {{"url", "data:" + image.mime + ";base64," +
                                     (placeholders ? ImagePlaceholder(i) : image.Base64())}}}});
  }
  content.push_back({{"type", "text"}, {"text", request.prompt}});
  messages.push_back({{"role", "user"}, {"content", std::move(content)}});

  nlohmann::json body = {{"model", options.model}, {"messages", std::move(messages)}};
  body["temperature"] = request.temperature.value_or(options.temperature);
  std::optional<double> top_p = request.top_p ? request.top_p : options.top_p;
  if (top_p) body["top_p"] = *top_p;
  body["max_tokens"] = request.max_tokens.value_or(options.max_tokens);
  if (options.seed) body["seed"] = *options.seed;
  if (request.top_logprobs > 0) {
    body["logprobs"] = true;
    body["top_logprobs"] = request.top_logprobs;
  }
  if (options.structured_output && !request.response_schema.is_null()) {
    // strict: OpenAI itself enforces the schema only when asked (vLLM,
    // SGLang and llama.cpp always do). Our schemas meet its rules: every
    // property required, no additional properties.
    body["response_format"] = {
        {"type", "json_schema"},
        {"json_schema",
         {{"name", "reply"}, {"strict", true}, {"schema", request.response_schema}}}};
  }
  if (options.extra_body.is_object())
    for (auto it = options.extra_body.begin(); it != options.extra_body.end(); ++it)
      body[it.key()] = it.value();
  return body;
}

namespace {

/// choices[0].logprobs.content: [{"token", "logprob", "top_logprobs": [...]}].
void ReadLogprobs(const nlohmann::json& choice, std::vector<TokenLogprob>* out) {
  auto lp = choice.find("logprobs");
  if (lp == choice.end() || !lp->is_object()) return;
  auto content = lp->find("content");
  if (content == lp->end() || !content->is_array()) return;
  for (const auto& t : *content) {
    const nlohmann::json none;
    AppendTokenLogprob(t, t.is_object() && t.contains("top_logprobs") ? t["top_logprobs"] : none,
                       "logprob", out);
  }
}

}  // namespace

FinishReason OpenAiFinish(std::string_view raw) {
  if (raw == "stop" || raw == "eos" || raw == "end_turn") return FinishReason::kStop;
  if (raw == "length" || raw == "max_tokens") return FinishReason::kLength;
  if (raw == "content_filter" || raw == "safety") return FinishReason::kSafety;
  if (raw.empty()) return FinishReason::kUnknown;
  return FinishReason::kOther;
}

TeacherReply ParseOpenAiReply(std::string_view body) {
  TeacherReply reply;
  if (JsonNestsDeeperThan(body)) {
    reply.error = Error::Make(ErrorKind::kTransport, "malformed response body (nested deeper than " +
                                                         std::to_string(kMaxJsonDepth) + " levels)");
    return reply;
  }
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
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
    if (j.contains("usage") && j["usage"].is_object()) {
      const nlohmann::json& u = j["usage"];
      reply.usage.input_tokens = JsonInt(u, "prompt_tokens");
      // completion_tokens includes reasoning; Usage keeps them apart, as
      // Gemini reports them, so summaries and the token bucket count each once.
      reply.usage.output_tokens = JsonInt(u, "completion_tokens");
      if (u.contains("completion_tokens_details")) {
        reply.usage.thinking_tokens = JsonInt(u["completion_tokens_details"], "reasoning_tokens");
        reply.usage.output_tokens =
            std::max<int64_t>(0, reply.usage.output_tokens - reply.usage.thinking_tokens);
      }
    }
    if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty()) {
      reply.error = Error::Make(ErrorKind::kEmptyReply, "reply has no choices");
      return reply;
    }
    const nlohmann::json& choice = j["choices"][0];
    if (choice.contains("finish_reason") && choice["finish_reason"].is_string())
      reply.finish_raw = choice["finish_reason"].get<std::string>();
    reply.finish = OpenAiFinish(reply.finish_raw);
    const nlohmann::json& message = choice.contains("message") ? choice["message"] : choice;
    std::string raw = ContentText(message.value("content", nlohmann::json()));
    if (raw.empty() && choice.contains("text")) raw = ContentText(choice["text"]);  // completions
    SplitThinking(raw, &reply.text, &reply.thinking);
    ReadLogprobs(choice, &reply.logprobs);
    for (const char* key : {"reasoning_content", "reasoning"}) {
      if (message.contains(key) && message[key].is_string()) {
        std::string r = message[key].get<std::string>();
        reply.thinking = reply.thinking.empty() ? r : r + "\n" + reply.thinking;
        break;
      }
    }
    if (reply.text.empty() && message.contains("refusal") && message["refusal"].is_string() &&
        !message["refusal"].get<std::string>().empty()) {
      reply.error = Error::Make(ErrorKind::kBlocked,
                                "model refused: " + message["refusal"].get<std::string>());
      return reply;
    }
  } catch (const std::exception& e) {
    reply.error = Error::Make(ErrorKind::kTransport, std::string("malformed response: ") + e.what());
    return reply;
  }
  CheckReplyContent(reply);
  return reply;
}

namespace {

void CheckStrict(const nlohmann::json& s, const std::string& where, std::vector<std::string>& out) {
  if (!s.is_object()) return;
  if (s.value("type", "") == "object") {
    if (s.value("additionalProperties", nlohmann::json(true)) != false) {
      out.push_back(where + ": additionalProperties must be false");
    }
    std::vector<std::string> props, required;
    if (auto r = s.find("required"); r != s.end() && r->is_array()) {
      for (const auto& k : *r) {
        if (k.is_string()) required.push_back(k.get<std::string>());
      }
    }
    if (auto p = s.find("properties"); p != s.end() && p->is_object()) {
      for (const auto& [k, v] : p->items()) {
        props.push_back(k);
        CheckStrict(v, where + "." + k, out);
      }
    }
    std::sort(props.begin(), props.end());
    std::sort(required.begin(), required.end());
    if (props != required) out.push_back(where + ": every property must be required");
  }
  if (auto items = s.find("items"); items != s.end()) CheckStrict(*items, where + "[]", out);
}

}  // namespace

std::vector<std::string> StrictSchemaViolations(const nlohmann::json& schema) {
  std::vector<std::string> out;
  CheckStrict(schema, "$", out);
  return out;
}

std::unique_ptr<Backend> MakeOpenAiBackend(OpenAiOptions options) {
  return std::make_unique<OpenAiBackend>(std::move(options));
}

}  // namespace groundcap
