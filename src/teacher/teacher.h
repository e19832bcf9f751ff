// The teacher: a remote vision-language model behind an asynchronous,
// thread-safe interface. Implementations (teacher_client.cc) own one network
// thread driving libcurl's multi interface; callers never block on the network.
#ifndef GROUNDCAP_TEACHER_H_
#define GROUNDCAP_TEACHER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "teacher/endpoint_pool.h"
#include "util/error.h"

namespace groundcap {

/// One image of a request, already encoded (see image.h PrepareForTeacher).
/// A step that sends one image in several requests (chunks, re-asks) makes
/// it with Shared(): every copy of the part then shares one base64 string,
/// and the only other copy is the request body itself.
struct ImagePart {
  std::string mime;    ///< "image/jpeg", "image/png" or "image/webp"
  std::string base64;  ///< standard base64, no line breaks (unless `shared` is set)
  std::shared_ptr<const std::string> shared;  ///< when set, the base64 instead of `base64`
  /// The base64 text, wherever it is kept.
  const std::string& Base64() const { return shared ? *shared : base64; }
  /// A part whose copies share `base64` instead of duplicating it.
  static ImagePart Shared(std::string mime, std::string base64) {
    return ImagePart{std::move(mime), {}, std::make_shared<const std::string>(std::move(base64))};
  }
};

/// What a pipeline asks the teacher. Backend-neutral: the Gemini and OpenAI
/// backends translate it to their own wire format.
struct TeacherRequest {
  std::string sample_id;            ///< for logs and diagnostics only
  std::string system;               ///< system instruction ("" = none)
  std::vector<ImagePart> images;    ///< sent before the prompt, in order
  std::string prompt;               ///< the user text
  /// JSON schema for structured output; null = free text. Backends that
  /// cannot (or are configured not to) enforce it still get the prompt.
  nlohmann::json response_schema;
  /// Per-request sampling overrides; unset = the backend's configured value.
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int> max_tokens;
  /// > 0: ask for this many alternatives' log-probabilities per output token
  /// (OpenAI `logprobs`/`top_logprobs`, Gemini `responseLogprobs`/`logprobs`).
  /// Servers that do not return them leave the reply's list empty.
  int top_logprobs = 0;
};

/// One output token with its log-probability and the top alternatives.
struct TokenLogprob {
  std::string token;
  double logprob = 0;
  std::vector<std::pair<std::string, double>> top;  ///< (token, logprob), best first
};

/// Why generation stopped, normalised across backends.
enum class FinishReason { kStop, kLength, kSafety, kOther, kUnknown };
const char* FinishReasonName(FinishReason r);

/// Token accounting as reported by the server (0 when not reported), the
/// same way for every backend: output excludes thinking.
struct Usage {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;    ///< visible reply tokens
  int64_t thinking_tokens = 0;  ///< reasoning / thought tokens
};

/// The answer to one TeacherRequest, after retries.
struct TeacherReply {
  std::string text;       ///< the visible reply, thinking removed
  std::string thinking;   ///< thought parts / <think> blocks, if any
  FinishReason finish = FinishReason::kUnknown;
  std::string finish_raw; ///< the server's own finish-reason string
  Usage usage;
  double latency_s = 0;   ///< wall time from first send to final answer
  int attempts = 0;       ///< HTTP requests made (1 = no retry)
  std::vector<TokenLogprob> logprobs;  ///< per output token, when asked and returned
  std::optional<Error> error;  ///< set on failure; text may be partial
  bool ok() const { return !error.has_value(); }
};

/// Counters for the run summary. Monotonic; safe to read at any time.
struct TeacherStats {
  int64_t requests = 0;      ///< HTTP requests sent, retries included
  int64_t retries = 0;
  int64_t succeeded = 0;     ///< TeacherRequests answered successfully
  int64_t failed = 0;        ///< TeacherRequests that failed for good
  int64_t rate_limited = 0;  ///< 429 / RESOURCE_EXHAUSTED answers seen
  int64_t in_flight = 0;     ///< transfers currently on the wire
  Usage usage;
  /// Per endpoint of the pool, in configuration order (one for a single URL).
  std::vector<EndpointCounters> endpoints;
};

/// Asynchronous teacher. Thread-safe.
class Teacher {
 public:
  using Callback = std::function<void(TeacherReply)>;
  virtual ~Teacher() = default;

  /// Queues a request. `done` is called exactly once, on the network thread:
  /// it must be quick (hand the reply to another queue) and must not throw.
  virtual void Submit(TeacherRequest request, Callback done) = 0;
  /// Cancels queued and in-flight requests; their callbacks receive
  /// ErrorKind::kCancelled. Idempotent. Submit after Stop fails at once.
  virtual void Stop() = 0;
  virtual TeacherStats Stats() const = 0;
  /// The model name as configured (used for box-format auto choice).
  virtual std::string ModelName() const = 0;
  /// What identifies this teacher for checkpoint fingerprints: backend,
  /// model and every option that changes replies. Never contains secrets.
  virtual std::string Fingerprint() const = 0;
  /// Whether structured output (a JSON schema) is sent to the server.
  virtual bool SupportsSchema() const = 0;
};

}  // namespace groundcap

#endif  // GROUNDCAP_TEACHER_H_
