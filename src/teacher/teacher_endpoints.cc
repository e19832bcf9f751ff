#include "teacher/teacher_endpoints.h"

#include <cstdlib>

#include <fmt/core.h>

#include "util/error.h"
#include "util/text_util.h"

namespace groundcap {

void CheckTeacherUrl(const std::string& url, const std::string& key) {
  const bool http = url.rfind("http://", 0) == 0, https = url.rfind("https://", 0) == 0;
  const size_t host_at = http ? 7 : 8;
  if ((!http && !https) || url.size() <= host_at || url[host_at] == '/') {
    throw SetupError(key + " must be an http:// or https:// URL with a host, got \"" + url + "\"");
  }
}

std::string UrlForMessage(const std::string& url) {
  std::string u = url.substr(0, url.find_first_of("?#"));
  size_t scheme = u.find("://");
  size_t host = scheme == std::string::npos ? 0 : scheme + 3;
  size_t path = u.find('/', host);
  size_t at = u.rfind('@', path == std::string::npos ? u.size() : path);
  if (at != std::string::npos && at >= host) u.erase(host, at + 1 - host);
  return u;
}

namespace {

/// One list item of vlm.openai.base_url.
EndpointConfig OpenAiItem(const nlohmann::json& item, const std::string& where, const std::string& default_key) {
  EndpointConfig e;
  e.api_key = default_key;
  if (item.is_string()) {
    e.url = item.get<std::string>();
  } else if (item.is_object()) {
    for (const auto& [k, v] : item.items()) {
      if (k == "url" && v.is_string()) {
        e.url = v.get<std::string>();
      } else if (k == "max_in_flight" && v.is_number_integer() && v.get<int64_t>() >= 1 &&
                 v.get<int64_t>() <= 100000) {
        e.max_in_flight = static_cast<int>(v.get<int64_t>());
      } else if (k == "api_key_env" && v.is_string()) {
        const std::string var = v.get<std::string>();
        const char* value = std::getenv(var.c_str());
        if (!value || Trim(value).empty())
          throw SetupError(fmt::format("{}.api_key_env: environment variable {} is not set", where, var));
        e.api_key = std::string(Trim(value));
        if (e.api_key.find_first_of("\r\n") != std::string::npos)
          throw SetupError(fmt::format("{}.api_key_env: the key in {} contains a line break", where, var));
      } else if (k == "url" || k == "max_in_flight" || k == "api_key_env") {
        throw SetupError(fmt::format("{}.{}: expected {}, got {}", where, k,
                                     k == "max_in_flight" ? "an integer from 1 to 100000" : "a string",
                                     v.dump()));
      } else {
        throw SetupError(fmt::format("{}: unknown key '{}' (expected url, max_in_flight, api_key_env)", where, k));
      }
    }
    if (e.url.empty()) throw SetupError(fmt::format("{}: missing url", where));
  } else {
    throw SetupError(fmt::format("{}: expected a URL or a map {{url, max_in_flight, api_key_env}}, got {}", where,
                                 item.dump()));
  }
  CheckTeacherUrl(e.url, where);
  e.name = UrlForMessage(e.url);
  return e;
}

}  // namespace

std::vector<EndpointConfig> ParseOpenAiEndpoints(const nlohmann::json& value, const std::string& key,
                                                 const std::string& default_key) {
  std::vector<EndpointConfig> out;
  if (value.is_null() || (value.is_string() && value.get<std::string>().empty())) return out;
  if (value.is_string()) {
    out.push_back(OpenAiItem(value, key, default_key));
    return out;
  }
  if (!value.is_array() || value.empty())
    throw SetupError(fmt::format("{}: expected a URL or a non-empty list of URLs, got {}", key, value.dump()));
  for (size_t i = 0; i < value.size(); ++i) out.push_back(OpenAiItem(value[i], fmt::format("{}[{}]", key, i), default_key));
  return out;
}

std::vector<EndpointConfig> ParseGeminiKeys(const nlohmann::json& value, const std::string& key,
                                            const std::string& base_url) {
  std::vector<EndpointConfig> out;
  if (value.is_null() || (value.is_string() && Trim(value.get<std::string>()).empty())) return out;
  auto add = [&](const nlohmann::json& item, const std::string& where, size_t k, bool list) {
    if (!item.is_string() || Trim(item.get<std::string>()).empty())
      throw SetupError(fmt::format("{}: expected a non-empty API key string", where));  // never quote a key
    EndpointConfig e;
    e.url = base_url;
    e.api_key = std::string(Trim(item.get<std::string>()));
    if (e.api_key.find_first_of("\r\n") != std::string::npos)
      throw SetupError(fmt::format("{}: the API key contains a line break", where));
    e.name = list ? fmt::format("{} (key {})", UrlForMessage(base_url), k) : UrlForMessage(base_url);
    out.push_back(std::move(e));
  };
  if (value.is_string()) {
    add(value, key, 0, false);
    return out;
  }
  if (!value.is_array() || value.empty())
    throw SetupError(fmt::format("{}: expected an API key or a non-empty list of keys", key));
  for (size_t i = 0; i < value.size(); ++i) add(value[i], fmt::format("{}[{}]", key, i), i, true);
  return out;
}

}  // namespace groundcap
