#include "util/error.h"

#include <nlohmann/json.hpp>

namespace groundcap {

namespace {
struct KindName {
  ErrorKind kind;
  const char* name;
};
constexpr KindName kKindNames[] = {
    {ErrorKind::kInvalidInput, "invalid_input"},
    {ErrorKind::kImage, "image"},
    {ErrorKind::kTransport, "transport"},
    {ErrorKind::kConnect, "connect"},
    {ErrorKind::kTimeout, "timeout"},
    {ErrorKind::kHttp, "http"},
    {ErrorKind::kRateLimited, "rate_limited"},
    {ErrorKind::kQuotaExhausted, "quota_exhausted"},
    {ErrorKind::kBadRequest, "bad_request"},
    {ErrorKind::kAuth, "auth"},
    {ErrorKind::kContextLength, "context_length"},
    {ErrorKind::kEmptyReply, "empty_reply"},
    {ErrorKind::kBlocked, "blocked"},
    {ErrorKind::kTruncated, "truncated"},
    {ErrorKind::kParse, "parse"},
    {ErrorKind::kCancelled, "cancelled"},
    {ErrorKind::kDeadline, "deadline"},
    {ErrorKind::kUpstream, "upstream"},
    {ErrorKind::kInternal, "internal"},
};
}  // namespace

const char* ErrorKindName(ErrorKind kind) {
  for (const KindName& kn : kKindNames)
    if (kn.kind == kind) return kn.name;
  return "internal";
}

ErrorKind ErrorKindFromName(const std::string& name) {
  for (const KindName& kn : kKindNames)
    if (name == kn.name) return kn.kind;
  return ErrorKind::kInternal;
}

bool Error::retryable() const {
  switch (kind) {
    case ErrorKind::kTransport:
    case ErrorKind::kConnect:
    case ErrorKind::kTimeout:
    case ErrorKind::kRateLimited:
    case ErrorKind::kEmptyReply:
      return true;
    case ErrorKind::kHttp:
      return http_status == 408 || http_status == 429 || http_status >= 500;
    default:
      return false;
  }
}

bool Error::fatal_for_run() const {
  return kind == ErrorKind::kQuotaExhausted || kind == ErrorKind::kAuth;
}

nlohmann::json Error::ToJson() const {
  nlohmann::json j = {{"kind", ErrorKindName(kind)}, {"message", message}};
  if (http_status) j["http_status"] = http_status;
  if (retry_after_s >= 0) j["retry_after_s"] = retry_after_s;
  j["attempts"] = attempts;
  return j;
}

Error Error::FromJson(const nlohmann::json& j) {
  Error e;
  if (!j.is_object()) return Error::Make(ErrorKind::kInternal, "malformed error record");
  e.kind = ErrorKindFromName(j.value("kind", std::string("internal")));
  e.message = j.value("message", std::string());
  e.http_status = j.value("http_status", 0);
  e.retry_after_s = j.value("retry_after_s", -1.0);
  e.attempts = j.value("attempts", 0);
  return e;
}

}  // namespace groundcap
