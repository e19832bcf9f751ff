// The teacher endpoints a spec names: `vlm.openai.base_url` as one URL or a
// list (of URLs, or of {url, max_in_flight, api_key_env}), launched servers'
// URLs, and `vlm.gemini.api_key` as one key or a list (one endpoint per
// key). A plain list, so a setup check (preflight) can loop over it.
#ifndef GROUNDCAP_TEACHER_ENDPOINTS_H_
#define GROUNDCAP_TEACHER_ENDPOINTS_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace groundcap {

/// One endpoint of a teacher pool, as configured.
struct EndpointConfig {
  std::string url;        ///< base URL (OpenAI: ".../v1"; Gemini: the API root)
  std::string api_key;    ///< secret: never logged; "" = the backend's default key
  int max_in_flight = 0;  ///< 0 = no limit of its own (the client's)
  std::string name;       ///< for counters and messages: URL without credentials, "(key k)"
};

/// Reads `vlm.openai.base_url` (`value`, named `key` in messages): a string,
/// or a list whose items are strings or maps {url, max_in_flight,
/// api_key_env}. `default_key` is the key of items without api_key_env.
/// Throws SetupError naming the key and item for anything else (an empty
/// URL, a non-http URL, an unknown map key, an unset api_key_env variable).
/// An empty string gives an empty list.
std::vector<EndpointConfig> ParseOpenAiEndpoints(const nlohmann::json& value, const std::string& key,
                                                 const std::string& default_key);

/// Reads `vlm.gemini.api_key` (`value`, named `key`): a string or a list of
/// strings, each an endpoint at `base_url`. Empty entries are refused; an
/// empty string gives an empty list (the caller falls back to the environment).
std::vector<EndpointConfig> ParseGeminiKeys(const nlohmann::json& value, const std::string& key,
                                            const std::string& base_url);

/// Refuses a teacher URL that is not http(s)://host...: curl would also try
/// file://, ftp:// and others. `key` names the spec field in the message.
void CheckTeacherUrl(const std::string& url, const std::string& key);

/// `url` as a message may show it: no user:password@, no query or fragment.
std::string UrlForMessage(const std::string& url);

}  // namespace groundcap

#endif  // GROUNDCAP_TEACHER_ENDPOINTS_H_
