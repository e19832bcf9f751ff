// The Backend interface: one API's wire format (building the POST, reading
// a 2xx body), pure and thread-safe, and the helpers the backends share.
// teacher_client.h runs a Backend on the network thread.
#ifndef GROUNDCAP_BACKEND_H_
#define GROUNDCAP_BACKEND_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "teacher/teacher.h"

namespace groundcap {

/// One HTTP POST as a backend wants it sent.
struct HttpPost {
  std::string url;
  /// Full header lines ("x-goog-api-key: ..."). May hold secrets: never logged.
  std::vector<std::string> headers;
  std::string body;
};

/// Wire format of one API. Implementations are immutable after construction
/// and thread-safe: Build runs on the submitting thread, the rest on the
/// network thread.
class Backend {
 public:
  virtual ~Backend() = default;
  /// "openai" or "gemini".
  virtual std::string Name() const = 0;
  /// The POST for `request`; the key only in `headers`, never in url or body.
  virtual HttpPost Build(const TeacherRequest& request) const = 0;
  /// Parses a 2xx body. Sets reply.error for unusable answers (empty,
  /// blocked, truncated, malformed). Never throws.
  virtual TeacherReply ParseOk(std::string_view body) const = 0;
  /// As Teacher::ModelName / Fingerprint / SupportsSchema.
  virtual std::string ModelName() const = 0;
  virtual std::string Fingerprint() const = 0;
  virtual bool SupportsSchema() const = 0;
  /// Rough token cost for the tokens-per-minute limit (input + max output).
  virtual double EstimateTokens(const TeacherRequest& request) const = 0;
  /// The credentials this backend sends, scrubbed from every error message
  /// taken from a response (ScrubSecrets).
  virtual std::vector<std::string> Secrets() const = 0;
};

/// Helpers shared by the backends' request builders and reply parsers.
/// A JSON POST to `url`: content type, no `Expect: 100-continue` stall for
/// large bodies, `auth_header` only when non-empty (the key never goes in
/// the URL or body). The body tolerates invalid UTF-8 in prompts.
HttpPost JsonPost(std::string url, const std::string& auth_header, const nlohmann::json& body);
/// A JSON string value that stands for image `index` of a request in a body
/// built by JsonPostWithImages: unique to this process (it holds a random
/// nonce), plain ASCII, so dump() copies it unchanged.
std::string ImagePlaceholder(size_t index);
/// JsonPost for a body whose image data are ImagePlaceholder(i) strings (the
/// first occurrence of each, in order): the body is dumped without the
/// images, then each base64 string is copied once into its place. Base64
/// needs no JSON escaping, so this skips dump()'s escaping pass over
/// megabytes and the extra copy the JSON value would hold.
HttpPost JsonPostWithImages(std::string url, const std::string& auth_header,
                            const nlohmann::json& body, const std::vector<ImagePart>& images);
/// `url` without trailing slashes (base URLs are joined with a path).
std::string TrimTrailingSlashes(std::string url);
/// obj[key] as an integer; 0 when obj is not an object or the field is
/// missing or not a number (servers omit usage fields freely).
int64_t JsonInt(const nlohmann::json& obj, const char* key);

/// One token of a logprobs list: {"token": str, <prob_key>: number} ->
/// (token, logprob); nullopt for anything else. `prob_key` is "logprob"
/// (OpenAI) or "logProbability" (Gemini).
std::optional<std::pair<std::string, double>> TokenLogprobOf(const nlohmann::json& entry,
                                                             const char* prob_key);

/// A chosen token and its alternatives (each read by TokenLogprobOf; the
/// unreadable ones skipped) appended to `out`, when `chosen` is readable.
void AppendTokenLogprob(const nlohmann::json& chosen, const nlohmann::json& alternatives,
                        const char* prob_key, std::vector<TokenLogprob>* out);

/// Splits "<think>...</think>answer" (also an unopened "...</think>answer",
/// as Qwen3 thinking templates produce) into visible text and thinking.
void SplitThinking(const std::string& raw, std::string* text, std::string* thinking);

/// Turns a reply without visible text into the right error: kTruncated
/// (finish length), kBlocked (safety) or kEmptyReply (retryable). Leaves a
/// reply with text or an error untouched.
void CheckReplyContent(TeacherReply& reply);

}  // namespace groundcap

#endif  // GROUNDCAP_BACKEND_H_
