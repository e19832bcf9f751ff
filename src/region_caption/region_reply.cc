#include "region_caption/region_reply.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <regex>

#include <fmt/core.h>

#include "boxes/box_format.h"
#include "image/draw.h"
#include "util/text_util.h"

namespace groundcap {

namespace {

/// Larger ids are not region ids (and would not fit an int).
constexpr double kMaxId = 1e6;

/// First integer in an id written as 3, "3", "[3]", "Region 3", "<region3>";
/// nullopt for fractions and ids beyond kMaxId (4294967297 is not region 1).
std::optional<int> ReadId(const nlohmann::json& j) {
  double d = 0;
  if (j.is_number()) {
    d = j.get<double>();
  } else if (j.is_string()) {
    const std::string s = j.get<std::string>();
    size_t i = 0;
    while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == s.size()) return std::nullopt;
    for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && d <= kMaxId; ++i) {
      d = d * 10 + (s[i] - '0');
    }
  } else {
    return std::nullopt;
  }
  if (!(std::fabs(d) <= kMaxId) || d != std::floor(d)) return std::nullopt;
  return static_cast<int>(d);
}

std::optional<std::string> ReadCaption(const nlohmann::json& entry) {
  for (const char* key : {"caption", "description", "text"}) {
    if (entry.contains(key) && entry[key].is_string()) return entry[key].get<std::string>();
  }
  return std::nullopt;
}

}  // namespace

nlohmann::json RegionReplySchema() {
  return nlohmann::json::parse(R"({
    "type": "object",
    "properties": {
      "regions": {
        "type": "array",
        "items": {
          "type": "object",
          "properties": {
            "region_id": {"type": "integer"},
            "caption": {"type": "string"}
          },
          "required": ["region_id", "caption"],
          "additionalProperties": false
        }
      }
    },
    "required": ["regions"],
    "additionalProperties": false
  })");
}

Result<RegionReply> ParseRegionReply(std::string_view text, const std::vector<int>& asked) {
  RegionReply out;
  auto parsed = ParseLenientJson(text, &out.repairs);
  if (!parsed) return tl::unexpected(parsed.error());
  const nlohmann::json& j = *parsed;
  std::vector<std::pair<int, std::string>> entries;
  const nlohmann::json* list = nullptr;
  if (j.is_array()) {
    list = &j;
  } else if (j.is_object()) {
    const nlohmann::json* map = &j;  // {"<id>": caption}, also under a "regions" key
    for (const char* key : {"regions", "region_captions", "captions"}) {
      if (j.contains(key) && j[key].is_array()) list = &j[key];
      if (j.contains(key) && j[key].is_object()) map = &j[key];
    }
    if (list == nullptr) {
      for (const auto& [k, v] : map->items()) {
        auto id = ReadId(nlohmann::json(k));
        if (id && v.is_string()) entries.emplace_back(*id, v.get<std::string>());
      }
    }
  }
  if (list != nullptr) {
    for (const nlohmann::json& e : *list) {
      if (!e.is_object()) continue;
      std::optional<int> id;
      for (const char* key : {"region_id", "id", "region"}) {
        if (e.contains(key) && (id = ReadId(e[key]))) break;
      }
      auto caption = ReadCaption(e);
      if (id && caption) entries.emplace_back(*id, *caption);
    }
  }
  if (entries.empty() && (list == nullptr || !list->empty())) {
    return Fail(ErrorKind::kParse, "reply has no {region_id, caption} entries");
  }
  for (auto& [id, caption] : entries) {
    if (std::find(asked.begin(), asked.end(), id) == asked.end()) {
      if (std::find(out.extra_ids.begin(), out.extra_ids.end(), id) == out.extra_ids.end()) {
        out.extra_ids.push_back(id);
      }
      continue;
    }
    auto it = out.captions.find(id);
    // A duplicate id keeps the first non-empty caption.
    if (it == out.captions.end() || Trim(it->second).empty()) out.captions[id] = caption;
  }
  return out;
}

namespace {

/// Names per kNumbered palette entry of MarkColor (draw.cc), in its order.
const std::vector<std::vector<std::string>>& PaletteColorNames() {
  static const std::vector<std::vector<std::string>> k = {
      {"red", "crimson", "scarlet", "raspberry"},        // 230,25,75
      {"green"},                                          // 60,180,75
      {"blue", "light blue", "sky blue"},                 // 0,130,200
      {"yellow", "gold", "golden"},                       // 255,225,25
      {"orange"},                                         // 245,130,48
      {"purple", "violet"},                               // 145,30,180
      {"cyan", "turquoise", "aqua", "light blue"},        // 70,240,240
      {"magenta", "pink", "fuchsia"},                     // 240,50,230
      {"lime", "lime green", "yellow-green", "light green"},  // 210,245,60
      {"teal", "dark cyan"},                              // 0,128,128
      {"brown", "tan", "ochre"},                          // 170,110,40
      {"maroon", "dark red", "burgundy"},                 // 128,0,0
      {"mint", "mint green", "pale green", "light green"},  // 170,255,195
      {"navy", "navy blue", "dark blue"},                 // 0,0,128
      {"olive", "olive green"},                           // 128,128,0
  };
  return k;
}

/// Every colour word any mark may be called, as a regex alternation.
const std::string& AnyMarkColorAlternation() {
  static const std::string k = [] {
    std::vector<std::string> names = {"red", "orange", "yellow", "green", "blue",
                                      "purple", "pink", "cyan", "magenta"};
    for (const auto& entry : PaletteColorNames()) {
      names.insert(names.end(), entry.begin(), entry.end());
    }
    std::sort(names.begin(), names.end(),
              [](const std::string& a, const std::string& b) {
                return a.size() != b.size() ? a.size() > b.size() : a < b;
              });
    names.erase(std::unique(names.begin(), names.end()), names.end());
    std::string alt;
    for (const std::string& n : names) alt += (alt.empty() ? "" : "|") + n;
    return alt;
  }();
  return k;
}

/// Words that may sit between a colour and the mark noun ("red thin box").
constexpr const char* kMarkAdjectives =
    R"((?:(?:thin|thick|bold|solid|bright|dark|light|pale|dashed|dotted|rectangular|square|outlined|drawn|highlighted|colou?red)\s+){0,2})";
/// The noun is the mark, not part of an object word ("box-shaped") or an
/// object's description ("a red box full of apples").
constexpr const char* kNotObjectAfter =
    R"((?![-\w])(?!\s+(?:of|full|containing|filled|shaped|pens?)\b))";

bool Search(const std::string& s, const std::regex& re) { return std::regex_search(s, re); }

}  // namespace

std::vector<std::string> MarkColorNames(int number) {
  const auto& palette = PaletteColorNames();
  if (number >= 1 && number <= static_cast<int>(palette.size())) return palette[number - 1];
  uint8_t rgb[3];
  MarkColor(number, rgb);
  // Beyond the palette: name by hue, as MarkColor builds it.
  const double r = rgb[0], g = rgb[1], b = rgb[2];
  const double mx = std::max({r, g, b}), mn = std::min({r, g, b});
  if (mx - mn < 1) return {"grey", "gray"};
  double h = 0;
  if (mx == r) {
    h = std::fmod((g - b) / (mx - mn) + 6.0, 6.0);
  } else if (mx == g) {
    h = (b - r) / (mx - mn) + 2.0;
  } else {
    h = (r - g) / (mx - mn) + 4.0;
  }
  const double deg = h * 60;
  if (deg < 15 || deg >= 340) return {"red"};
  if (deg < 45) return {"orange"};
  if (deg < 70) return {"yellow"};
  if (deg < 160) return {"green", "lime"};
  if (deg < 200) return {"cyan", "turquoise"};
  if (deg < 255) return {"blue"};
  if (deg < 290) return {"purple", "violet"};
  return {"magenta", "pink"};
}

bool DescribesMark(std::string_view caption, int region_id) {
  using std::regex;
  constexpr auto kFlags = regex::ECMAScript | regex::optimize;
  const std::string any_colour = "(?:" + AnyMarkColorAlternation() + ")";
  const std::string adj = kMarkAdjectives;
  static const regex kBoundingBox(R"(\bbounding[\s-]*box)", kFlags);
  // "The label", "this is the marker" (but not "the label on the bottle").
  static const regex kLabelFirst(
      R"(^\W*(this is |it is |it's |there is )?(the|a|an)\s+(numbered\s+|number\s+)?(label|marker|tag|mark)\b(?!\s+(on|of|for|reading|that reads)\b))",
      kFlags);
  // A drawn label in its drawn form: "label [2]", "the number [3]".
  static const regex kLabelText(R"(\b(label|marker|number|tag)\s*\[\d+\])", kFlags);
  // Words that only describe drawing: "the highlighted box", "a drawn square".
  static const regex kMarkingWord(
      R"(\b(?:highlighted|drawn|outlined|numbered|colou?red|marked|marking)\s+)" + adj +
          R"((?:box|rectangle|outline|frame|border|square|marker)(?:es|s)?\b(?!-))",
      kFlags);
  // A coloured shape placed around something: "the green box around the area".
  static const regex kAround(
      R"(\b)" + any_colour + R"(\s+)" + adj +
          R"((?:box|rectangle|frame|border|outline|square)(?:es|s)?\s+(?:drawn|placed|around|surrounding|highlighting|marking|enclosing|outlining|indicating|that\s+(?:marks|highlights|surrounds|encloses|outlines))\b)",
      kFlags);
  // A coloured outline is always the drawing: "a thin red outline".
  static const regex kOutline(R"(\b)" + any_colour + R"(\s+)" + adj + R"(outlines?\b)", kFlags);

  const std::string s = AsciiLower(caption);
  if (Search(s, kBoundingBox) || Search(s, kLabelFirst) || Search(s, kLabelText) ||
      Search(s, kMarkingWord) || Search(s, kAround) || Search(s, kOutline)) {
    return true;
  }
  // In this region's own mark colour: "the red box" on the red mark.
  std::string own = any_colour;
  if (region_id > 0) {
    own.clear();
    for (const std::string& n : MarkColorNames(region_id)) own += (own.empty() ? "" : "|") + n;
    own = "(?:" + own + ")";
  }
  const regex own_colour(R"(\b)" + own + R"(\s+)" + adj +
                             R"((?:box|rectangle|frame|border|outline|marker)(?:es|s)?)" +
                             kNotObjectAfter,
                         regex::ECMAScript);
  if (Search(s, own_colour)) return true;
  // This region's label read as a number: "the number 2", "label 2".
  if (region_id > 0) {
    const regex own_number(
        R"(\b(?:number|digit|label|tag|marker)\s+\[?\s*)" + std::to_string(region_id) + R"((?!\d))",
        regex::ECMAScript);
    if (Search(s, own_number)) return true;
  }
  return false;
}

}  // namespace groundcap
