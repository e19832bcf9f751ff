#include "util/text_util.h"

#include <cctype>

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

/// Replaces the token that follows each case-insensitive `marker` in `text`.
void RedactAfter(std::string& text, std::string_view marker) {
  const std::string lower_marker = AsciiLower(marker);
  size_t from = 0;
  while (true) {
    const size_t at = AsciiLower(text).find(lower_marker, from);
    if (at == std::string::npos) return;
    size_t start = at + marker.size(), end = start;
    while (end < text.size() && IsTokenChar(text[end])) ++end;
    if (end > start && text.compare(start, end - start, "<redacted>") != 0) {
      text.replace(start, end - start, "<redacted>");
    }
    from = start + 1;
  }
}

}  // namespace

std::string ScrubSecrets(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 10)) {
      text.replace(at, secret.size(), "<redacted>");
    }
  }
  for (std::string_view marker : {"bearer ", "key=", "api-key: ", "api-key:", "api_key: ", "\"api_key\": \""}) {
    RedactAfter(text, marker);
  }
  return text;
}

}  // namespace groundcap
