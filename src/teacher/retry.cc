#include "teacher/retry.h"
#include "util/jsonl.h"
#include "util/text_util.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <ctime>

namespace groundcap {

namespace {


bool Contains(std::string_view haystack, std::string_view needle) {
  return AsciiLower(haystack).find(AsciiLower(needle)) != std::string::npos;
}

std::string JsonText(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_number_integer()) return std::to_string(j.get<int64_t>());
  return "";
}

/// Shortens a server message for logs and output records.
std::string Shorten(std::string s) {
  constexpr size_t kMax = 400;
  if (s.size() > kMax) s = s.substr(0, kMax) + "...";
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

void ReadGoogleDetails(const nlohmann::json& details, ErrorBodyInfo& info) {
  if (!details.is_array()) return;
  for (const nlohmann::json& d : details) {
    if (!d.is_object()) continue;
    std::string type = d.value("@type", std::string());
    if (type.find("RetryInfo") != std::string::npos && d.contains("retryDelay")) {
      std::optional<double> s = ParseDuration(JsonText(d["retryDelay"]));
      if (s) info.retry_delay_s = *s;
    } else if (type.find("QuotaFailure") != std::string::npos && d.contains("violations") &&
               d["violations"].is_array()) {
      for (const nlohmann::json& v : d["violations"]) {
        if (!v.is_object()) continue;
        std::string id = v.value("quotaId", std::string());
        if (id.empty()) continue;
        if (!info.quota_ids.empty()) info.quota_ids += ',';
        info.quota_ids += id;
      }
    } else if (type.find("ErrorInfo") != std::string::npos) {
      info.reason = d.value("reason", std::string());
    }
  }
}

}  // namespace

ErrorBodyInfo ParseErrorBody(std::string_view body) {
  ErrorBodyInfo info;
  if (JsonNestsDeeperThan(body)) return info;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_array() && !j.empty()) j = j[0];  // Vertex / gemini-cli wrap errors in an array
  if (!j.is_object()) return info;
  try {
    if (j.contains("error") && j["error"].is_object()) {
      // OpenAI, new vLLM, llama.cpp, Google.
      const nlohmann::json& e = j["error"];
      info.message = JsonText(e.value("message", nlohmann::json()));
      info.type = JsonText(e.value("type", nlohmann::json()));
      info.code = JsonText(e.value("code", nlohmann::json()));
      info.status = JsonText(e.value("status", nlohmann::json()));
      if (e.contains("details")) ReadGoogleDetails(e["details"], info);
      info.parsed = true;
    } else if (j.contains("error") && j["error"].is_string()) {
      info.message = j["error"].get<std::string>();  // Ollama
      info.parsed = true;
    } else if (j.value("object", std::string()) == "error" || j.contains("message")) {
      // Old vLLM: {"object":"error","message":...,"type":...,"code":400}
      info.message = JsonText(j.value("message", nlohmann::json()));
      info.type = JsonText(j.value("type", nlohmann::json()));
      info.code = JsonText(j.value("code", nlohmann::json()));
      info.parsed = true;
    }
  } catch (const std::exception&) {
    // Lenient: whatever was read so far stays.
  }
  return info;
}

bool LooksLikeContextLength(std::string_view message) {
  static constexpr std::string_view kMarkers[] = {
      "context length", "context_length", "maximum context", "context window",
      "too many tokens", "prompt is too long", "input token count",
      "exceeds the maximum number of tokens", "maximum model length", "max_model_len",
      "exceed_context_size"};
  for (std::string_view m : kMarkers)
    if (Contains(message, m)) return true;
  return false;
}

Error ClassifyHttpError(int status, std::string_view body, double retry_after_header_s) {
  ErrorBodyInfo info = ParseErrorBody(body);
  std::string message = info.parsed && !info.message.empty()
                            ? info.message
                            : std::string(body.substr(0, std::min<size_t>(body.size(), 200)));
  Error e;
  e.http_status = status;
  e.message = "HTTP " + std::to_string(status) + ": " + Shorten(message);
  const bool quota_word = info.code == "insufficient_quota" || info.type == "insufficient_quota";
  const bool daily = Contains(info.quota_ids, "PerDay") || Contains(info.message, "limit: 0") ||
                     Contains(info.message, "per day");
  if (quota_word || ((status == 429 || info.status == "RESOURCE_EXHAUSTED") && daily)) {
    e.kind = ErrorKind::kQuotaExhausted;
    e.message += quota_word ? " (billing quota exhausted: add credit or use another key, then resume)"
                            : " (daily quota exhausted: wait for the reset or raise the quota, "
                              "then run again to resume)";
    return e;
  }
  if (status == 401 || status == 403 || info.reason == "API_KEY_INVALID" ||
      info.status == "UNAUTHENTICATED" || info.status == "PERMISSION_DENIED" ||
      info.code == "invalid_api_key") {
    e.kind = ErrorKind::kAuth;
    e.message += " (check the API key: vlm.gemini.api_key / vlm.openai.api_key or the environment)";
    return e;
  }
  if (status == 429 || info.status == "RESOURCE_EXHAUSTED") {
    e.kind = ErrorKind::kRateLimited;
    double delay = retry_after_header_s;
    if (info.retry_delay_s >= 0) delay = std::max(delay, info.retry_delay_s);
    if (delay < 0) {
      std::optional<double> hint = ParseRetryHintInMessage(info.message);
      if (hint) delay = *hint;
    }
    e.retry_after_s = delay;
    return e;
  }
  if (LooksLikeContextLength(info.message) || info.code == "context_length_exceeded") {
    e.kind = ErrorKind::kContextLength;
    return e;
  }
  if (status == 408) {
    e.kind = ErrorKind::kTimeout;
    return e;
  }
  if (status == 400 || status == 404 || status == 405 || status == 413 || status == 415 ||
      status == 422) {
    e.kind = ErrorKind::kBadRequest;
    return e;
  }
  e.kind = ErrorKind::kHttp;  // 5xx retryable via Error::retryable(); others not
  if (status >= 500 && retry_after_header_s >= 0) e.retry_after_s = retry_after_header_s;
  return e;
}

Error ClassifyErrorInBody(const nlohmann::json& body) {
  int status = 500;
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const nlohmann::json& code = body["error"].value("code", nlohmann::json());
    if (code.is_number_integer()) status = code.get<int>();
    else if (code.is_string() && code.get<std::string>() == "insufficient_quota") status = 429;
  }
  return ClassifyHttpError(status, body.dump(), -1);
}

Error ClassifyCurlError(int curl_code, std::string_view detail, bool request_sent) {
  Error e;
  std::string text = std::string(curl_easy_strerror(static_cast<CURLcode>(curl_code)));
  if (!detail.empty()) text += ": " + std::string(detail);
  switch (curl_code) {
    case CURLE_OPERATION_TIMEDOUT:
      e.kind = ErrorKind::kTimeout;
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
      e.kind = ErrorKind::kBadRequest;  // configuration problem: retrying cannot help
      break;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      e.kind = ErrorKind::kConnect;  // refused, DNS, unreachable
      break;
    default:
      e.kind = ErrorKind::kTransport;  // reset, partial, got nothing, TLS, h2
  }
  if (!request_sent && (e.kind == ErrorKind::kTransport || e.kind == ErrorKind::kTimeout)) {
    e.kind = ErrorKind::kConnect;  // e.g. a connect timeout, a TLS handshake to a non-TLS port
  }
  e.message = std::string(e.kind == ErrorKind::kConnect ? "connect: " : "transport: ") + Shorten(text);
  return e;
}

std::optional<double> ParseRetryAfter(std::string_view value, double now_unix_s) {
  const std::string v(Trim(value));
  if (v.empty()) return std::nullopt;
  char* end = nullptr;
  double s = std::strtod(v.c_str(), &end);
  if (end && *end == '\0' && std::isfinite(s) && s >= 0) return s;
  std::tm tm{};
  const char* rest = strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S", &tm);
  if (!rest) return std::nullopt;
  double when = static_cast<double>(timegm(&tm));
  return std::max(0.0, when - now_unix_s);
}

std::optional<double> ParseDuration(std::string_view text) {
  std::string t(text);
  if (t.empty()) return std::nullopt;
  double total = 0;
  size_t i = 0;
  bool any = false;
  while (i < t.size()) {
    char* end = nullptr;
    double v = std::strtod(t.c_str() + i, &end);
    size_t used = static_cast<size_t>(end - (t.c_str() + i));
    if (used == 0 || !std::isfinite(v) || v < 0) return std::nullopt;
    i += used;
    std::string unit;
    while (i < t.size() && std::isalpha(static_cast<unsigned char>(t[i]))) unit += t[i++];
    if (unit == "h") total += v * 3600;
    else if (unit == "m") total += v * 60;
    else if (unit == "s") total += v;
    else if (unit == "ms") total += v / 1000;
    else return std::nullopt;
    any = true;
  }
  if (!any) return std::nullopt;
  return total;
}

void RateLimitHeaders::Read(std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return;
  const std::string name = AsciiLower(Trim(line.substr(0, colon)));
  if (name.rfind("x-ratelimit-", 0) != 0) return;
  const std::string value(Trim(line.substr(colon + 1)));
  double* field = name == "x-ratelimit-remaining-requests" ? &remaining_requests
                  : name == "x-ratelimit-remaining-tokens" ? &remaining_tokens
                  : name == "x-ratelimit-reset-requests"   ? &reset_requests_s
                  : name == "x-ratelimit-reset-tokens"     ? &reset_tokens_s
                                                           : nullptr;
  if (!field) return;
  char* end = nullptr;
  double v = std::strtod(value.c_str(), &end);
  if (end && *end == '\0' && end != value.c_str() && std::isfinite(v) && v >= 0) {
    *field = v;
  } else if (field == &reset_requests_s || field == &reset_tokens_s) {
    if (std::optional<double> d = ParseDuration(value)) *field = *d;
  }
}

double RateLimitHeaders::PauseSeconds(double next_tokens) const {
  // A reset over a day is not a delay (some servers send epoch times).
  auto reset = [](double s) { return s >= 0 && s <= 86400 ? s : 0.0; };
  double pause = 0;
  if (remaining_requests == 0) pause = std::max(pause, reset(reset_requests_s));
  if (remaining_tokens >= 0 && remaining_tokens < std::max(1.0, next_tokens)) {
    pause = std::max(pause, reset(reset_tokens_s));
  }
  return pause;
}

std::optional<double> ParseRetryHintInMessage(std::string_view message) {
  std::string lower = AsciiLower(message);
  for (std::string_view marker : {"retry in ", "try again in "}) {
    size_t pos = lower.find(marker);
    if (pos == std::string::npos) continue;
    size_t start = pos + marker.size();
    size_t end = start;
    while (end < lower.size() &&
           (std::isalnum(static_cast<unsigned char>(lower[end])) || lower[end] == '.'))
      ++end;
    std::string token = lower.substr(start, end - start);
    while (!token.empty() && token.back() == '.') token.pop_back();
    std::optional<double> d = ParseDuration(token);
    if (d) return d;
  }
  return std::nullopt;
}

double BackoffDelay(const RetryPolicy& policy, int retry, double unit_random,
                    double server_delay_s) {
  double base = policy.initial_backoff_s * std::pow(policy.multiplier, std::max(0, retry - 1));
  base = std::min(base, policy.max_backoff_s);
  double delay = base / 2 + base / 2 * std::clamp(unit_random, 0.0, 1.0);
  if (server_delay_s >= 0) delay = std::max(delay, std::min(server_delay_s, policy.max_backoff_s));
  return delay;
}

bool ShouldRetry(const RetryPolicy& policy, const Error& error, int attempts) {
  return error.retryable() && attempts < policy.max_attempts;
}

}  // namespace groundcap
