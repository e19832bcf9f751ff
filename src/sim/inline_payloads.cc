#include "sim/inline_payloads.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace groundcap {
namespace {

constexpr size_t kMinCut = 256;  ///< shorter payloads cost the parser nothing worth saving

constexpr std::array<bool, 256> MakeBase64Chars() {
  std::array<bool, 256> table{};
  for (char c : std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="))
    table[static_cast<unsigned char>(c)] = true;
  return table;
}

constexpr std::array<bool, 256> kBase64Chars = MakeBase64Chars();

bool IsBase64Char(char c) { return kBase64Chars[static_cast<unsigned char>(c)]; }

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// Where the payload after the marker at `pos` starts, or npos. ";base64,"
/// is followed by the payload; "\"data\"" by optional space, ':', optional
/// space and the opening quote.
size_t PayloadStart(std::string_view body, size_t pos, bool data_url) {
  if (data_url) return pos + 8;
  size_t i = pos + 6;
  while (i < body.size() && IsSpace(body[i])) ++i;
  if (i >= body.size() || body[i] != ':') return std::string_view::npos;
  ++i;
  while (i < body.size() && IsSpace(body[i])) ++i;
  if (i >= body.size() || body[i] != '"') return std::string_view::npos;
  return i + 1;
}

}  // namespace

std::string_view CutBody::Resolve(std::string_view value) const {
  if (value.size() < 2 || value[0] != '~') return value;
  size_t index = 0;
  auto [end, ec] = std::from_chars(value.data() + 1, value.data() + value.size(), index);
  if (ec != std::errc() || end != value.data() + value.size() || index >= payloads.size()) return value;
  return payloads[index];
}

std::optional<CutBody> CutInlinePayloads(std::string_view body) {
  // A '~' in the parsed text (also written as a \u escape) could pass for a placeholder.
  for (std::string_view tilde : {"~", "\\u007e", "\\u007E"})
    if (body.find(tilde) != std::string_view::npos) return std::nullopt;
  CutBody cut;
  size_t copied = 0, pos = 0;
  while (true) {
    const size_t url = body.find(";base64,", pos);
    const size_t data = body.find("\"data\"", pos);
    const size_t at = std::min(url, data);
    if (at == std::string_view::npos) break;
    const size_t start = PayloadStart(body, at, at == url);
    pos = at + 1;
    if (start == std::string_view::npos) continue;
    size_t end = start;
    while (end < body.size() && IsBase64Char(body[end])) ++end;
    if (end >= body.size() || body[end] != '"' || end - start < kMinCut) continue;
    cut.json.append(body.substr(copied, start - copied));
    cut.json.push_back('~');
    cut.json.append(std::to_string(cut.payloads.size()));
    cut.payloads.push_back(body.substr(start, end - start));
    copied = pos = end;
  }
  if (cut.payloads.empty()) return std::nullopt;
  cut.json.append(body.substr(copied));
  return cut;
}

}  // namespace groundcap
