// One blocking HTTP GET for setup-time checks (preflight's model listings,
// a launched server's health), outside the network thread: these run before
// the teacher client sends anything, so blocking is what is wanted.
#ifndef GROUNDCAP_TEACHER_HTTP_GET_H_
#define GROUNDCAP_TEACHER_HTTP_GET_H_

#include <string>

namespace groundcap {

struct HttpAnswer {
  int status = 0;         ///< 0 = no HTTP answer (see `transport`)
  std::string body;       ///< at most 8 MiB (a listing or a health answer is small)
  std::string transport;  ///< curl's error when the request never got an answer
};

/// GET `url` with one extra `header` line ("" = none; it may hold a key and
/// is never logged), http and https only, giving up after `timeout_s`.
HttpAnswer HttpGet(const std::string& url, const std::string& header, double timeout_s);

}  // namespace groundcap

#endif  // GROUNDCAP_TEACHER_HTTP_GET_H_
