// Retry policy for teacher requests, as pure functions: classify an HTTP
// answer or a transport failure into an Error, read the server's suggested
// delay (Retry-After, Gemini RetryInfo, "try again in 1.2s"), and compute
// the jittered exponential backoff. No I/O, no clocks: teacher_client.cc
// supplies the time and the random numbers.
#ifndef GROUNDCAP_RETRY_H_
#define GROUNDCAP_RETRY_H_

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace groundcap {

/// Bounds on retrying one TeacherRequest (vlm.retry.*).
struct RetryPolicy {
  int max_attempts = 5;            ///< HTTP requests per TeacherRequest, first included
  double initial_backoff_s = 1.0;  ///< delay before the first retry
  double max_backoff_s = 60.0;     ///< cap on computed and server-suggested delays
  double multiplier = 2.0;
};

/// The fields shared by the error bodies of OpenAI, vLLM (old and new),
/// llama.cpp, Ollama and Google APIs, extracted leniently.
struct ErrorBodyInfo {
  std::string message;     ///< error.message / message / error (string)
  std::string status;      ///< Google "RESOURCE_EXHAUSTED", "INVALID_ARGUMENT", ...
  std::string type;        ///< OpenAI "invalid_request_error", vLLM "BadRequestError"
  std::string code;        ///< OpenAI "insufficient_quota" (numeric codes as text)
  std::string reason;      ///< google.rpc.ErrorInfo reason ("API_KEY_INVALID")
  std::string quota_ids;   ///< QuotaFailure quotaId values joined by ','
  double retry_delay_s = -1;  ///< google.rpc.RetryInfo retryDelay, -1 if none
  bool parsed = false;     ///< the body was JSON with a recognisable error
};

/// Parses an error body of any supported shape (also a Google error wrapped
/// in a one-element array). Never throws.
ErrorBodyInfo ParseErrorBody(std::string_view body);

/// Classifies a non-2xx HTTP answer. `retry_after_header_s` is the parsed
/// Retry-After header (-1 if absent). The message holds the server's own
/// message (shortened), never request data.
Error ClassifyHttpError(int status, std::string_view body, double retry_after_header_s);

/// Classifies an error object found inside a 200 body (some servers answer
/// errors with 200): like ClassifyHttpError with the status taken from the
/// body's numeric code when present.
Error ClassifyErrorInBody(const nlohmann::json& body);

/// Classifies a libcurl failure (CURLcode as int) with curl's error text.
/// `request_sent` false (curl never got to send a byte of the request: no
/// pre-transfer time, no request size) makes a transport failure or a timeout
/// kConnect: the server was never reached, so redoing the sample costs
/// nothing. Refused connections and DNS failures are kConnect either way.
Error ClassifyCurlError(int curl_code, std::string_view detail, bool request_sent = true);

/// Retry-After header value: delta seconds ("12", "1.5") or an HTTP date
/// relative to `now_unix_s`. nullopt when unparseable.
std::optional<double> ParseRetryAfter(std::string_view value, double now_unix_s);

/// Protobuf duration / Go duration text: "26s", "57.238747106s", "1.2s",
/// "6m0s", "250ms". nullopt when unparseable.
std::optional<double> ParseDuration(std::string_view text);

/// What a server says of its remaining budget in `x-ratelimit-*` headers
/// (OpenAI, Azure OpenAI, Groq, Together and gateways in front of vLLM).
/// -1 = not said. Reading them lets every worker wait for the reset instead
/// of running into 429s.
struct RateLimitHeaders {
  double remaining_requests = -1;
  double reset_requests_s = -1;
  double remaining_tokens = -1;
  double reset_tokens_s = -1;
  /// Reads one raw header line ("Name: value\r\n"); others are ignored.
  /// Resets are durations ("1s", "6m0s", "20ms") or plain seconds.
  void Read(std::string_view line);
  /// Seconds every new request should wait: the longest reset among the
  /// budgets that are used up, else 0. The request budget is used up at 0;
  /// the token budget when fewer than `next_tokens` remain (the caller's
  /// estimate of a typical request), since the next one would be refused.
  double PauseSeconds(double next_tokens = 0) const;
};

/// Delay suggested in free text: "Please retry in 38.96s", "try again in
/// 1.2s", "try again in 6m0s". nullopt when none.
std::optional<double> ParseRetryHintInMessage(std::string_view message);

/// True when a message says the prompt exceeds the model's context.
bool LooksLikeContextLength(std::string_view message);

/// Delay before retry number `retry` (1 = first retry): exponential with
/// "equal jitter" (half fixed, half random using `unit_random` in [0,1)),
/// capped at max_backoff_s. Never below the server's suggestion
/// `server_delay_s` (when >= 0), which is itself capped at max_backoff_s.
double BackoffDelay(const RetryPolicy& policy, int retry, double unit_random,
                    double server_delay_s = -1);

/// Whether to send again after `error` when `attempts` requests were made.
bool ShouldRetry(const RetryPolicy& policy, const Error& error, int attempts);

}  // namespace groundcap

#endif  // GROUNDCAP_RETRY_H_
