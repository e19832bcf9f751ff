// Small ASCII string helpers shared across modules.
#ifndef GROUNDCAP_TEXT_UTIL_H_
#define GROUNDCAP_TEXT_UTIL_H_

#include <string>
#include <string_view>
#include <vector>

namespace groundcap {

/// ASCII lower case (bytes >= 0x80 are left as they are, so UTF-8 survives).
std::string AsciiLower(std::string_view s);

/// `s` without leading and trailing characters from `chars`.
std::string_view Trim(std::string_view s, std::string_view chars = " \t\r\n");

/// `text` with every occurrence of a configured secret (non-empty entries
/// of `secrets`) and every credential-shaped token replaced by
/// "<redacted>": "Bearer <token>", "key=<token>" / "api_key=<token>" (query
/// strings) and "api-key: <token>" headers (x-goog-api-key, api-key). Used on
/// every message taken from a server response before it is logged or stored:
/// some gateways echo the request's key in their error text.
std::string ScrubSecrets(std::string text, const std::vector<std::string>& secrets);

/// Levenshtein distance (bytes): for "did you mean" suggestions.
size_t EditDistance(const std::string& a, const std::string& b);

}  // namespace groundcap

#endif  // GROUNDCAP_TEXT_UTIL_H_
