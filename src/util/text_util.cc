#include "util/text_util.h"

#include <algorithm>
#include <cctype>
#include <utility>

namespace groundcap {

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view s, std::string_view chars) {
  size_t b = s.find_first_not_of(chars);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(chars);
  return s.substr(b, e - b + 1);
}

namespace {

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '~' ||
         c == '+' || c == '/' || c == '=';
}

constexpr std::string_view kRedacted = "<redacted>";

/// Replaces the token that follows each case-insensitive `marker` in `text`
/// (`lower` is `text` in lower case, kept in step with it).
void RedactAfter(std::string& text, std::string& lower, std::string_view marker) {
  for (size_t at = lower.find(marker); at != std::string::npos; at = lower.find(marker, at + 1)) {
    const size_t start = at + marker.size();
    size_t end = start;
    while (end < text.size() && IsTokenChar(text[end])) ++end;
    if (end == start || text.compare(start, end - start, kRedacted) == 0) continue;
    text.replace(start, end - start, kRedacted);
    lower.replace(start, end - start, kRedacted);
  }
}

}  // namespace

std::string ScrubSecrets(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + kRedacted.size())) {
      text.replace(at, secret.size(), kRedacted);
    }
  }
  std::string lower = AsciiLower(text);
  for (std::string_view marker : {"bearer ", "key=", "api-key: ", "api-key:", "api_key: ", "\"api_key\": \""}) {
    RedactAfter(text, lower, marker);
  }
  return text;
}

size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace groundcap
