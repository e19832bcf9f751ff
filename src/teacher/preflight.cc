#include "teacher/preflight.h"

#include <algorithm>
#include <tuple>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "teacher/backend.h"
#include "teacher/http_get.h"
#include "teacher/teacher_endpoints.h"
#include "util/error.h"
#include "util/log.h"
#include "util/text_util.h"

namespace groundcap {
namespace {

/// How many available names a message lists.
constexpr size_t kNamesShown = 8;

/// The server's own words from an error body ({"error": {"message"}} or
/// {"detail"}), shortened, secrets scrubbed.
std::string ServerMessage(const HttpAnswer& a, const std::string& key) {
  nlohmann::json j = nlohmann::json::parse(a.body, nullptr, false);
  std::string text;
  if (j.is_object() && j.contains("error") && j["error"].is_object())
    text = j["error"].value("message", std::string());
  else if (j.is_object() && j.contains("error") && j["error"].is_string())
    text = j["error"].get<std::string>();
  else if (j.is_object() && j.contains("detail") && j["detail"].is_string())
    text = j["detail"].get<std::string>();
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return ScrubSecrets(text, {key});
}

/// Whether a Gemini 400 is its answer to a bad key (reason API_KEY_INVALID).
bool GeminiKeyInvalid(const HttpAnswer& a) {
  return a.status == 400 && (a.body.find("API_KEY_INVALID") != std::string::npos ||
                             a.body.find("API key not valid") != std::string::npos);
}

std::string NamesText(const std::vector<std::string>& names) {
  if (names.empty()) return "none";
  std::string out;
  for (size_t i = 0; i < names.size() && i < kNamesShown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > kNamesShown) out += fmt::format(" (and {} more)", names.size() - kNamesShown);
  return out;
}

/// The outcome for an answer that is neither success nor "unknown model".
/// Returns false when it was not one of these (the caller goes on).
bool Classify(const HttpAnswer& a, const PreflightTarget& t, const std::string& url,
              PreflightOutcome* out) {
  const std::string where = UrlForMessage(url);
  if (a.status == 0) {
    out->unreachable = true;
    out->error = fmt::format("cannot reach the teacher at {} ({}.base_url): {}", where, t.where,
                             ScrubSecrets(a.transport, {t.api_key}));
    return true;
  }
  if (a.status == 401 || a.status == 403 || GeminiKeyInvalid(a)) {
    out->error = fmt::format(
        "the teacher at {} rejected the API key (HTTP {}: {}); check {}.api_key{}", where,
        a.status, ServerMessage(a, t.api_key), t.where,
        t.backend == "gemini" ? " or GOOGLE_API_KEY / GEMINI_API_KEY" : " or OPENAI_API_KEY");
    return true;
  }
  if (a.status == 404 || a.status == 405) return false;
  if (a.status < 200 || a.status >= 300) {
    out->warning = fmt::format("preflight: {} answered HTTP {} ({}); model and key not checked",
                               where, a.status, ServerMessage(a, t.api_key));
    return true;
  }
  return false;
}

PreflightOutcome CheckOpenAi(const PreflightTarget& t) {
  PreflightOutcome out;
  const std::string url = TrimTrailingSlashes(t.base_url) + "/models";
  HttpAnswer a = HttpGet(url, t.api_key.empty() ? "" : "Authorization: Bearer " + t.api_key, t.timeout_s);
  if (Classify(a, t, url, &out)) return out;
  if (a.status == 404 || a.status == 405) {
    out.warning = fmt::format("preflight: {} does not list models (HTTP {}); model \"{}\" not checked",
                              UrlForMessage(url), a.status, t.model);
    return out;
  }
  nlohmann::json j = nlohmann::json::parse(a.body, nullptr, false);
  std::vector<std::string> names;
  if (j.is_object() && j.contains("data") && j["data"].is_array()) {
    for (const auto& m : j["data"])
      if (m.is_object() && m.contains("id") && m["id"].is_string()) names.push_back(m["id"].get<std::string>());
  }
  if (names.empty()) {
    out.warning = fmt::format("preflight: {} answered without a model list; model \"{}\" not checked",
                              UrlForMessage(url), t.model);
    return out;
  }
  out.available = ClosestNames(t.model, names);
  if (std::find(names.begin(), names.end(), t.model) == names.end()) {
    out.error = fmt::format("the teacher at {} does not serve model \"{}\" ({}.model_name); it serves: {}",
                            UrlForMessage(t.base_url), t.model, t.where, NamesText(out.available));
  }
  return out;
}

PreflightOutcome CheckGemini(const PreflightTarget& t) {
  PreflightOutcome out;
  const std::string root = TrimTrailingSlashes(t.base_url) + "/" + t.api_version + "/models";
  std::string model = t.model.rfind("models/", 0) == 0 ? t.model.substr(7) : t.model;
  const std::string header = t.api_key.empty() ? "" : "x-goog-api-key: " + t.api_key;
  const std::string url = root + "/" + model;
  HttpAnswer a = HttpGet(url, header, t.timeout_s);
  if (Classify(a, t, url, &out)) return out;
  if (a.status >= 200 && a.status < 300) return out;
  // 404/405 on the model: either an unknown model or no such endpoint at all.
  HttpAnswer list = HttpGet(root + "?pageSize=1000", header, t.timeout_s);
  if (list.status < 200 || list.status >= 300) {
    if (PreflightOutcome other; list.status != 404 && list.status != 405 && Classify(list, t, root, &other))
      return other;
    out.warning = fmt::format("preflight: {} does not describe models (HTTP {}); model \"{}\" not checked",
                              UrlForMessage(root), a.status, model);
    return out;
  }
  nlohmann::json j = nlohmann::json::parse(list.body, nullptr, false);
  std::vector<std::string> names;
  if (j.is_object() && j.contains("models") && j["models"].is_array()) {
    for (const auto& m : j["models"]) {
      if (!m.is_object() || !m.contains("name") || !m["name"].is_string()) continue;
      std::string name = m["name"].get<std::string>();
      if (name.rfind("models/", 0) == 0) name = name.substr(7);
      names.push_back(name);
    }
  }
  if (names.empty()) {
    out.warning = fmt::format("preflight: {} answered HTTP {} for model \"{}\" and listed no models; "
                              "not checked", UrlForMessage(root), a.status, model);
    return out;
  }
  out.available = ClosestNames(model, names);
  out.error = fmt::format("Gemini at {} has no model \"{}\" ({}.model); available: {}",
                          UrlForMessage(t.base_url), model, t.where, NamesText(out.available));
  return out;
}

}  // namespace

std::vector<std::string> ClosestNames(const std::string& wanted, std::vector<std::string> names) {
  const std::string w = AsciiLower(wanted);
  std::vector<std::pair<size_t, std::string>> scored;
  for (std::string& n : names) scored.emplace_back(EditDistance(w, AsciiLower(n)), std::move(n));
  std::sort(scored.begin(), scored.end());
  scored.erase(std::unique(scored.begin(), scored.end()), scored.end());
  std::vector<std::string> out;
  for (auto& s : scored) out.push_back(std::move(s.second));
  return out;
}

PreflightOutcome PreflightEndpoint(const PreflightTarget& target) {
  return target.backend == "gemini" ? CheckGemini(target) : CheckOpenAi(target);
}

void PreflightTeacher(const Spec& spec, const std::string& pipeline,
                      const std::vector<std::string>& launched_urls) {
  if (!spec.Bool(pipeline + ".vlm.preflight")) return;
  std::vector<PreflightOutcome> unreachable;
  size_t reached = 0;
  for (const PreflightTarget& target : PreflightTargetsFromSpec(spec, pipeline, launched_urls)) {
    PreflightOutcome outcome = PreflightEndpoint(target);
    if (outcome.unreachable) {
      unreachable.push_back(std::move(outcome));
      continue;
    }
    if (!outcome.ok()) throw SetupError("preflight: " + outcome.error);
    if (!outcome.warning.empty()) GC_WARN("{}", outcome.warning);
    ++reached;
  }
  if (!unreachable.empty() && reached == 0) throw SetupError("preflight: " + unreachable.front().error);
  for (const PreflightOutcome& o : unreachable) GC_WARN("preflight: {}; the pool starts without it", o.error);
}

}  // namespace groundcap
