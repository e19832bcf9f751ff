// groundcap error values.
//
// Policy (see docs/design.md): per-sample failures are values, never
// exceptions. Anything that can fail for one sample returns Result<T>; an
// Error carries its kind, a human message and whether a retry can help.
// Exceptions (SetupError) are only for fatal setup problems and are caught
// once, in main.
#ifndef GROUNDCAP_ERROR_H_
#define GROUNDCAP_ERROR_H_

#include <stdexcept>
#include <string>

#include <nlohmann/json_fwd.hpp>
#include <tl/expected.hpp>

namespace groundcap {

/// What went wrong. The name (ErrorKindName) is written to output records and
/// to the run summary, so keep names stable.
enum class ErrorKind {
  kInvalidInput,    ///< the input record is unusable (missing field, bad box)
  kImage,           ///< image missing, unreadable, truncated, too large
  kTransport,       ///< connection reset, TLS, broken reply mid-transfer (retryable)
  kConnect,         ///< the request never reached the server: refused, DNS, unreachable,
                    ///< connect timeout (retryable; never recorded, see docs/design.md)
  kTimeout,         ///< request timed out (retryable)
  kHttp,            ///< other HTTP status (5xx retryable, others not)
  kRateLimited,     ///< 429 / RESOURCE_EXHAUSTED per-minute (retryable)
  kQuotaExhausted,  ///< daily quota / insufficient_quota: stops the run
  kBadRequest,      ///< 400/404/422: never retried
  kAuth,            ///< 401/403: stops the run
  kContextLength,   ///< prompt too long for the model: never retried
  kEmptyReply,      ///< 200 with no content (retryable once or twice)
  kBlocked,         ///< safety / recitation block
  kTruncated,       ///< finish_reason length / MAX_TOKENS with no usable reply
  kParse,           ///< reply could not be understood
  kCancelled,       ///< stopped by a signal or a fatal error elsewhere
  kDeadline,        ///< the per-sample deadline passed
  kUpstream,        ///< the input record was already failed and carried no usable error
  kInternal,        ///< a bug: an exception escaped where it should not
};

/// Stable lower-case name, e.g. "rate_limited".
const char* ErrorKindName(ErrorKind kind);
/// Inverse of ErrorKindName; kInternal for unknown names.
ErrorKind ErrorKindFromName(const std::string& name);

/// A failure as a value.
struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;
  int http_status = 0;          ///< 0 when no HTTP response was received
  double retry_after_s = -1;    ///< server-suggested delay, -1 if none
  int attempts = 0;             ///< requests made before giving up

  static Error Make(ErrorKind kind, std::string message) {
    Error e;
    e.kind = kind;
    e.message = std::move(message);
    return e;
  }

  /// True when the same request may succeed if sent again later.
  bool retryable() const;
  /// True when no further sample can succeed either (quota, auth): the run
  /// must stop cleanly and stay resumable.
  bool fatal_for_run() const;
  /// {"kind":..., "message":..., "http_status":..., "attempts":...}
  nlohmann::json ToJson() const;
  /// Inverse of ToJson (tolerant of missing fields).
  static Error FromJson(const nlohmann::json& j);
};

template <class T>
using Result = tl::expected<T, Error>;

/// Shorthand for returning a failure from a function returning Result<T>.
inline tl::unexpected<Error> Fail(ErrorKind kind, std::string message) {
  return tl::unexpected<Error>(Error::Make(kind, std::move(message)));
}

/// Fatal setup error (bad spec, unwritable results_dir, ...). Thrown only
/// before or outside per-sample work; caught in main, which prints the
/// message and exits with kExitSetupError.
class SetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Process exit codes, documented in the README.
enum ExitCode : int {
  kExitOk = 0,            ///< every sample succeeded
  kExitSomeFailed = 1,    ///< the run finished; samples failed (or were flagged) or input lines were rejected
  kExitSetupError = 2,    ///< bad spec / arguments / environment
  kExitStopped = 3,       ///< stopped early: signal, quota or auth; resumable
};

}  // namespace groundcap

#endif  // GROUNDCAP_ERROR_H_
