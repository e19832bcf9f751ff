// vlm.* spec keys and MakeTeacher: from a validated Spec to a running
// TeacherClient. TAO's key names and defaults are kept where TAO has them
// (default_config.py / image_grounding.yaml); the rest are additions.
#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "spec/spec.h"
#include "teacher/gemini_backend.h"
#include "teacher/openai_backend.h"
#include "teacher/preflight.h"
#include "teacher/teacher_client.h"
#include "teacher/teacher_config.h"
#include "teacher/teacher_endpoints.h"
#include "util/text_util.h"

namespace groundcap {

namespace {

/// An API key from the spec or else the first non-empty variable of `names`,
/// without surrounding whitespace (a key read from a file ends in a newline,
/// which would break the HTTP header it is sent in).
std::string KeyOrEnv(const std::string& value, std::initializer_list<const char*> names) {
  std::string key(Trim(value));
  for (const char* name : names) {
    if (!key.empty()) break;
    const char* v = std::getenv(name);
    if (v) key = std::string(Trim(v));
  }
  if (key.find_first_of("\r\n") != std::string::npos)
    throw SetupError("the API key contains a line break");
  return key;
}

}  // namespace

std::vector<SpecField> TeacherSpecFields() {
  std::vector<SpecField> v;
  SpecField backend = MakeField("vlm.backend", FieldType::kString, "\"gemini\"",
                            "teacher API: gemini (native generateContent) or openai (any "
                            "OpenAI-compatible chat completions server)");
  backend.choices = {"gemini", "openai"};
  v.push_back(backend);

  SpecField gkey = MakeField("vlm.gemini.api_key", FieldType::kObject, "\"\"",
                         "Gemini API key, or a list of keys (a pool: one endpoint per key); empty = env "
                         "GOOGLE_API_KEY or GEMINI_API_KEY");
  gkey.secret = true;
  v.push_back(gkey);
  v.push_back(MakeField("vlm.gemini.model", FieldType::kString, "\"gemini-3.1-flash-lite\"",
                    "Gemini model name (default: the GA successor of TAO's retired "
                    "gemini-3.1-flash-lite-preview)"));
  v.push_back(MakeField("vlm.gemini.base_url", FieldType::kString,
                    "\"https://generativelanguage.googleapis.com\"",
                    "API root (point at a proxy or `groundcap serve-sim` for tests)"));
  v.push_back(MakeField("vlm.gemini.api_version", FieldType::kString, "\"v1beta\"",
                    "API version path segment: v1beta, v1 or v1alpha"));
  SpecField media = MakeField("vlm.gemini.media_resolution", FieldType::kString,
                          "\"MEDIA_RESOLUTION_HIGH\"",
                          "image token budget, sent for images (TAO ignores it); \"\" = not sent");
  media.choices = {"", "MEDIA_RESOLUTION_UNSPECIFIED", "MEDIA_RESOLUTION_LOW",
                   "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH"};
  v.push_back(media);
  v.push_back(MakeField("vlm.gemini.temperature", FieldType::kFloat, "0.3", "sampling temperature", 0, 2));
  v.push_back(MakeField("vlm.gemini.max_output_tokens", FieldType::kInt, "8192",
                    "maxOutputTokens (thinking tokens count against it)", 1, 1e7));
  v.push_back(MakeField("vlm.gemini.timeout", FieldType::kFloat, "120",
                    "seconds per HTTP request (TAO stores and ignores it; we apply it)", 0.001, 86400));
  v.push_back(MakeField("vlm.gemini.thinking_budget", FieldType::kInt, "-1",
                    "thinkingConfig.thinkingBudget: -1 = model default (not sent), 0 = off "
                    "(2.5 Flash; Pro cannot disable)", -1, 1e7));
  SpecField level = MakeField("vlm.gemini.thinking_level", FieldType::kString, "\"\"",
                              "thinkingConfig.thinkingLevel for Gemini 3.x: minimal, low, medium or "
                              "high (which ones depend on the model); \"\" = model default (not "
                              "sent). Never sent together with thinking_budget");
  level.choices = {"", "minimal", "low", "medium", "high"};
  v.push_back(level);
  SpecField control = MakeField("vlm.gemini.thinking_control", FieldType::kString, "\"auto\"",
                                "which thinking field the model takes: auto (gemini-3 and later: "
                                "thinkingLevel; 2.5 and older: thinkingBudget), level or budget");
  control.choices = {"auto", "level", "budget"};
  v.push_back(control);
  v.push_back(MakeField("vlm.gemini.structured_output", FieldType::kBool, "true",
                    "send responseMimeType application/json + responseSchema"));

  SpecField okey = MakeField("vlm.openai.api_key", FieldType::kString, "\"\"",
                         "Bearer key; empty = env OPENAI_API_KEY; vLLM accepts any value");
  okey.secret = true;
  v.push_back(okey);
  v.push_back(MakeField("vlm.openai.base_url", FieldType::kObject, "\"\"",
                    "e.g. http://host:8000/v1 (without /chat/completions), or a list of them (a pool; items "
                    "may be {url, max_in_flight, api_key_env})"));
  v.push_back(MakeField("vlm.openai.launch", FieldType::kObject, "\"\"",
                    "command(s) starting a teacher server for this run, with {port} for a free loopback "
                    "port, e.g. \"vllm serve M --port {port}\"; one endpoint each (a list for several)"));
  v.push_back(MakeField("vlm.openai.launch_timeout_s", FieldType::kFloat, "600",
                    "seconds a launched server may take to answer /health (or /v1/models)", 0.1, 86400));
  v.push_back(MakeField("vlm.openai.model_name", FieldType::kString, "\"\"",
                    "model name (vLLM: --served-model-name)"));
  v.push_back(MakeField("vlm.openai.temperature", FieldType::kFloat, "0.7",
                    "sampling temperature (TAO default; 0.2-0.3 advised for grounding)", 0, 2));
  v.push_back(MakeField("vlm.openai.top_p", FieldType::kFloat, "-1", "top_p; -1 = not sent", -1, 1));
  v.push_back(MakeField("vlm.openai.max_tokens", FieldType::kInt, "4096", "max_tokens", 1, 1e7));
  v.push_back(MakeField("vlm.openai.seed", FieldType::kInt, "-1", "sampling seed; -1 = not sent", -1, 9.2e18));
  v.push_back(MakeField("vlm.openai.timeout", FieldType::kFloat, "60", "seconds per HTTP request", 0.001, 86400));
  v.push_back(MakeField("vlm.openai.structured_output", FieldType::kBool, "true",
                    "send response_format json_schema (switch off for servers that reject it)"));
  v.push_back(MakeField("vlm.openai.extra_body", FieldType::kObject, "{}",
                    "fields merged verbatim into the request body, e.g. {skip_special_tokens: false}"));

  v.push_back(MakeField("vlm.preflight", FieldType::kBool, "true",
                    "before the first request, check URL, key and model with the server's model "
                    "listing (GET models); unknown model, rejected key or unreachable URL exit 2"));
  v.push_back(MakeField("vlm.rate_limit.requests_per_minute", FieldType::kFloat, "0",
                    "client-side request limit shared by all workers; 0 = none", 0, 1e9));
  v.push_back(MakeField("vlm.rate_limit.tokens_per_minute", FieldType::kFloat, "0",
                    "client-side token limit (estimated input + max output); 0 = none", 0, 1e12));
  v.push_back(MakeField("vlm.retry.max_attempts", FieldType::kInt, "5",
                    "HTTP attempts per request for retryable errors (429, 5xx, timeouts)", 1, 100));
  v.push_back(MakeField("vlm.retry.initial_backoff_s", FieldType::kFloat, "2",
                    "first retry delay; doubles each retry, with jitter", 0, 3600));
  v.push_back(MakeField("vlm.retry.max_backoff_s", FieldType::kFloat, "60",
                    "cap on a retry delay (also on Retry-After / retryDelay)", 0, 3600));
  v.push_back(MakeField("vlm.pool.failures_to_open", FieldType::kInt, "3",
                    "consecutive 5xx / timeouts that take an endpoint out of the pool (refused "
                    "connections: at once)", 1, 1000));
  v.push_back(MakeField("vlm.pool.open_s", FieldType::kFloat, "2",
                    "first time an endpoint stays out before one probe request; doubles each time", 0.01, 3600));
  v.push_back(MakeField("vlm.pool.max_open_s", FieldType::kFloat, "60",
                    "cap on the time an endpoint stays out", 0.01, 86400));
  return v;
}

std::vector<PreflightTarget> PreflightTargetsFromSpec(const Spec& spec, const std::string& pipeline,
                                                     const std::vector<std::string>& launched_urls) {
  const std::string p = pipeline + ".vlm.";
  PreflightTarget base;
  base.backend = spec.Str(p + "backend");
  if (base.backend == "openai") {
    base.model = spec.Str(p + "openai.model_name");
    base.timeout_s = std::min(30.0, spec.Float(p + "openai.timeout"));
    base.where = p + "openai";
  } else {
    base.api_version = spec.Str(p + "gemini.api_version");
    base.model = spec.Str(p + "gemini.model");
    base.timeout_s = std::min(30.0, spec.Float(p + "gemini.timeout"));
    base.where = p + "gemini";
  }
  std::vector<PreflightTarget> out;
  for (const EndpointConfig& e : TeacherEndpoints(spec, pipeline, launched_urls)) {
    PreflightTarget t = base;
    t.base_url = e.url;
    t.api_key = e.api_key;
    out.push_back(std::move(t));
  }
  return out;
}

std::unique_ptr<Teacher> MakeTeacher(const Spec& spec, const std::string& pipeline) {
  return MakeTeacher(spec, pipeline, {});
}

std::vector<EndpointConfig> TeacherEndpoints(const Spec& spec, const std::string& pipeline,
                                             const std::vector<std::string>& launched_urls) {
  const std::string p = pipeline + ".vlm.";
  if (spec.Str(p + "backend") == "openai") {
    const std::string key = KeyOrEnv(spec.Str(p + "openai.api_key"), {"OPENAI_API_KEY"});
    std::vector<EndpointConfig> out = ParseOpenAiEndpoints(spec.Json(p + "openai.base_url"), p + "openai.base_url", key);
    for (const std::string& url : launched_urls) {
      EndpointConfig e;
      e.url = url;
      e.api_key = key;
      e.name = UrlForMessage(url);
      out.push_back(std::move(e));
    }
    return out;
  }
  const std::string base_url = spec.Str(p + "gemini.base_url");
  CheckTeacherUrl(base_url, p + "gemini.base_url");
  std::vector<EndpointConfig> out = ParseGeminiKeys(spec.Json(p + "gemini.api_key"), p + "gemini.api_key", base_url);
  if (out.empty()) {
    EndpointConfig e;
    e.url = base_url;
    e.api_key = KeyOrEnv("", {"GOOGLE_API_KEY", "GEMINI_API_KEY"});
    e.name = UrlForMessage(base_url);
    if (!e.api_key.empty()) out.push_back(std::move(e));
  }
  return out;
}

std::unique_ptr<Teacher> MakeTeacher(const Spec& spec, const std::string& pipeline,
                                     const std::vector<std::string>& launched_urls) {
  const std::string p = pipeline + ".vlm.";
  TeacherClientOptions client;
  try {
    client.max_in_flight = static_cast<int>(spec.Int(pipeline + ".workflow.max_workers"));
  } catch (const std::logic_error&) {
    client.max_in_flight = 4;  // workflow keys not mounted (tests)
  }
  client.requests_per_minute = spec.Float(p + "rate_limit.requests_per_minute");
  client.tokens_per_minute = spec.Float(p + "rate_limit.tokens_per_minute");
  client.retry.max_attempts = static_cast<int>(spec.Int(p + "retry.max_attempts"));
  client.retry.initial_backoff_s = spec.Float(p + "retry.initial_backoff_s");
  client.retry.max_backoff_s = spec.Float(p + "retry.max_backoff_s");
  client.breaker.failures_to_open = static_cast<int>(spec.Int(p + "pool.failures_to_open"));
  client.breaker.open_s = spec.Float(p + "pool.open_s");
  client.breaker.max_open_s = spec.Float(p + "pool.max_open_s");
  const std::vector<EndpointConfig> endpoints = TeacherEndpoints(spec, pipeline, launched_urls);
  std::vector<TeacherEndpoint> pool;

  const std::string backend = spec.Str(p + "backend");
  if (backend == "openai") {
    OpenAiOptions o;
    o.model = spec.Str(p + "openai.model_name");
    if (endpoints.empty())
      throw SetupError(p + "openai.base_url is empty: set it to the server's /v1 URL, e.g. "
                       "http://localhost:8000/v1 (or a list of them, or set " + p + "openai.launch)");
    if (o.model.empty())
      throw SetupError(p + "openai.model_name is empty: set it to the served model name");
    o.temperature = spec.Float(p + "openai.temperature");
    double top_p = spec.Float(p + "openai.top_p");
    if (top_p >= 0) o.top_p = top_p;
    o.max_tokens = static_cast<int>(spec.Int(p + "openai.max_tokens"));
    int64_t seed = spec.Int(p + "openai.seed");
    if (seed >= 0) o.seed = seed;
    o.structured_output = spec.Bool(p + "openai.structured_output");
    o.extra_body = spec.Json(p + "openai.extra_body");
    if (o.extra_body.is_null()) o.extra_body = nlohmann::json::object();
    client.timeout_s = spec.Float(p + "openai.timeout");
    for (const EndpointConfig& e : endpoints) {
      OpenAiOptions one = o;
      one.base_url = e.url;
      one.api_key = e.api_key;
      pool.push_back({MakeOpenAiBackend(std::move(one)), e.name, e.max_in_flight});
    }
    return MakeTeacherClient(std::move(pool), client);
  }
  GeminiOptions g;
  if (endpoints.empty())
    throw SetupError("no Gemini API key: set " + p +
                     "gemini.api_key or the GOOGLE_API_KEY (or GEMINI_API_KEY) environment "
                     "variable, or use " + p + "backend=openai");
  g.model = spec.Str(p + "gemini.model");
  g.base_url = spec.Str(p + "gemini.base_url");
  g.api_version = spec.Str(p + "gemini.api_version");
  g.media_resolution = spec.Str(p + "gemini.media_resolution");
  g.temperature = spec.Float(p + "gemini.temperature");
  g.max_output_tokens = static_cast<int>(spec.Int(p + "gemini.max_output_tokens"));
  g.thinking_budget = static_cast<int>(spec.Int(p + "gemini.thinking_budget"));
  g.thinking_level = spec.Str(p + "gemini.thinking_level");
  g.thinking_control = spec.Str(p + "gemini.thinking_control");
  if (std::string bad = CheckGeminiThinking(g, p); !bad.empty()) throw SetupError(bad);
  g.structured_output = spec.Bool(p + "gemini.structured_output");
  client.timeout_s = spec.Float(p + "gemini.timeout");
  for (const EndpointConfig& e : endpoints) {
    GeminiOptions one = g;
    one.api_key = e.api_key;
    pool.push_back({MakeGeminiBackend(std::move(one)), e.name, e.max_in_flight});
  }
  return MakeTeacherClient(std::move(pool), client);
}

}  // namespace groundcap
