#include "region_caption/region_quality.h"

#include <cctype>
#include <map>
#include <regex>

#include <fmt/core.h>

#include "engine/quality.h"
#include "util/text_util.h"

namespace groundcap {
namespace {

const std::vector<FlagInfo>& Flags() {
  static const std::vector<FlagInfo> flags = {
      {"boilerplate_caption", true}, {"repeated_caption", false}, {"same_caption_for_all", true},
      {"caption_rejected", false}};
  return flags;
}

/// Lower case, inner whitespace collapsed, edge punctuation and spaces trimmed.
std::string Normalize(std::string_view caption) {
  std::string out;
  for (char c : AsciiLower(caption)) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  return std::string(Trim(out, " .,;:!?\"'()[]"));
}

}  // namespace

std::set<std::string> DefaultBlockingRegionFlags() { return DefaultBlockingFlags(Flags()); }

std::vector<SpecField> RegionQualitySpecFields() { return {QualityBlockField(Flags())}; }

std::set<std::string> RegionBlockingFlagsFromSpec(const Spec& spec) {
  return BlockingFlagsFromSpec(spec, Flags());
}

bool IsBoilerplateCaption(std::string_view caption) {
  static const std::set<std::string> kPlaceholders = {
      "", "n/a", "na", "none", "null", "unknown", "nothing", "no description", "not visible",
      "object", "an object", "the object", "something", "region", "a region", "this region",
      "the region", "image", "an image", "the image", "unclear", "not sure"};
  static const std::regex kRefusal(
      R"(^((i cannot|i can't|i can not|i'm sorry|i am sorry|as an ai|i'm unable|i am unable|i don't know|i do not know)\b.*|sorry([,.!].*)?|unable to (see|identify|describe|determine)\b.*))");
  static const std::regex kRegionName(R"(^(region|box|area)\s*\[?\d+\]?$)");
  const std::string n = Normalize(caption);
  return kPlaceholders.count(n) > 0 || std::regex_match(n, kRefusal) ||
         std::regex_match(n, kRegionName);
}

std::vector<QualityFlag> ReviewRegionCaptions(const nlohmann::ordered_json& record,
                                              const std::set<std::string>& blocking) {
  std::vector<QualityFlag> flags;
  auto regions = record.find("regions");
  if (regions == record.end() || !regions->is_array()) return flags;
  const auto raise = [&](const char* name, std::string detail, int item) {
    flags.push_back({name, std::move(detail), item, blocking.count(name) > 0});
  };
  std::map<std::string, std::vector<int>> by_caption;
  int ok = 0;
  for (size_t i = 0; i < regions->size(); ++i) {
    const auto& r = (*regions)[i];
    if (!r.is_object() || r.value("status", "") != "ok" || !r.contains("caption") ||
        !r["caption"].is_string()) {
      continue;
    }
    ++ok;
    const std::string caption = r["caption"].get<std::string>();
    if (IsBoilerplateCaption(caption)) {
      raise("boilerplate_caption", fmt::format("\"{}\" describes nothing", caption), static_cast<int>(i));
    }
    by_caption[Normalize(caption)].push_back(static_cast<int>(i));
    if (r.contains("verified") && r["verified"] == false) {
      raise("caption_rejected",
            fmt::format("verification: {}", r.value("verify_reason", std::string("no"))), static_cast<int>(i));
    }
  }
  for (const auto& [caption, items] : by_caption) {
    if (items.size() < 2) continue;
    for (int i : items) {
      raise("repeated_caption", fmt::format("the same caption as {} other region(s)", items.size() - 1), i);
    }
    if (ok >= 3 && static_cast<int>(items.size()) == ok) {
      raise("same_caption_for_all", fmt::format("all {} regions have the caption \"{}\"", ok, caption), -1);
    }
  }
  return flags;
}

}  // namespace groundcap
