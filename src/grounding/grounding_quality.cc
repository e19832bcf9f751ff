#include "grounding/grounding_quality.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>

#include <fmt/core.h>

#include "engine/quality.h"
#include "grounding/spans.h"
#include "util/geometry.h"

namespace groundcap {
namespace {

using Json = nlohmann::ordered_json;

/// Every flag the grounding checks raise, and whether it blocks by default.
const std::vector<FlagInfo>& Flags() {
  static const std::vector<FlagInfo> flags = {
    {"caption_rewritten", true},  {"no_expressions", true},  {"span_not_found", true},
    {"duplicate_expression", false}, {"box_covers_image", false}, {"tiny_box", false},
    {"identical_boxes", true},    {"count_exceeded", true},     {"box_rejected", false},
  };
  return flags;
}

/// Words a cleaned caption may drop or add without changing what it says.
bool IsFunctionWord(const std::string& w) {
  static const std::set<std::string> kWords = {
      "a",     "an",    "the",   "this",  "that",  "these", "those", "there", "here",  "is",
      "are",   "was",   "were",  "be",    "been",  "of",    "in",    "on",    "at",    "to",
      "and",   "or",    "with",  "by",    "for",   "from",  "it",    "its",   "we",    "can",
      "see",   "seen",  "image", "picture", "photo", "shows", "show", "visible", "also", "some"};
  return kWords.count(w) > 0;
}

bool IsCjk(char32_t c) {
  return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x9FFF) ||
         (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0xF900 && c <= 0xFAFF);
}

double Area(const Json& bbox) {
  return std::max(0.0, bbox[2].get<double>() - bbox[0].get<double>()) *
         std::max(0.0, bbox[3].get<double>() - bbox[1].get<double>());
}

Box ToBox(const Json& bbox) {
  Box b;
  b.x1 = bbox[0].get<double>();
  b.y1 = bbox[1].get<double>();
  b.x2 = bbox[2].get<double>();
  b.y2 = bbox[3].get<double>();
  return b;
}

bool IsBox(const Json& v) {
  return v.is_array() && v.size() == 4 &&
         std::all_of(v.begin(), v.end(), [](const Json& x) { return x.is_number(); });
}

/// Share of `cleaned`'s content words found among `caption`'s (1 when the
/// cleaned caption has none).
double CaptionOverlap(std::string_view caption, std::string_view cleaned) {
  std::vector<std::string> have = ContentWords(caption);
  std::vector<std::string> want = ContentWords(cleaned);
  if (want.empty()) return 1.0;
  std::set<std::string> in(have.begin(), have.end());
  size_t found = 0;
  for (const std::string& w : want) found += in.count(w);
  return static_cast<double>(found) / static_cast<double>(want.size());
}

class Flagger {
 public:
  Flagger(const GroundingQuality& q, std::vector<QualityFlag>* out) : q_(q), out_(out) {}
  void Raise(const char* name, std::string detail, int expression = -1) {
    out_->push_back({name, std::move(detail), expression, q_.blocking.count(name) > 0});
  }

 private:
  const GroundingQuality& q_;
  std::vector<QualityFlag>* out_;
};

void ReviewExpressions(const Json& record, const GroundingQuality& q, Flagger& flag) {
  const std::string caption = record.value("caption", "");
  const std::string cleaned = record.value("cleaned_caption", caption);
  const double overlap = CaptionOverlap(caption, cleaned);
  if (overlap < q.min_caption_overlap) {
    flag.Raise("caption_rewritten",
               fmt::format("{:.2f} of the cleaned caption's words are in the caption (< {})", overlap,
                           q.min_caption_overlap));
  }
  const Json& exprs = record["expressions"];
  if (exprs.empty() && !ContentWords(caption).empty()) {
    flag.Raise("no_expressions", "no expression from a caption that names things");
  }
  std::map<std::string, int> seen;  // normalised text + span -> first index
  for (size_t k = 0; k < exprs.size(); ++k) {
    const Json& e = exprs[k];
    const int ki = static_cast<int>(k);
    const auto span = e.find("char_span");
    const bool found = span != e.end() && span->is_array();
    if (!found) flag.Raise("span_not_found", "expression not found in the cleaned caption", ki);
    const std::string key =
        NormalizeText(e.value("text", "")) + "|" + (found ? span->dump() : std::string("none"));
    auto [it, fresh] = seen.emplace(key, ki);
    if (!fresh) {
      flag.Raise("duplicate_expression", fmt::format("same text and span as expression {}", it->second), ki);
    }
  }
}

void ReviewBoxes(const Json& record, const GroundingQuality& q, Flagger& flag) {
  const double w = record.value("image_width", 0.0), h = record.value("image_height", 0.0);
  if (w <= 0 || h <= 0) return;
  const double image_area = w * h;
  const Json& exprs = record["expressions"];
  struct Placed {
    std::string text;
    Box box;
  };
  std::vector<Placed> placed;
  for (size_t k = 0; k < exprs.size(); ++k) {
    const int ki = static_cast<int>(k);
    const std::string text = NormalizeText(exprs[k].value("text", ""));
    const auto inst = exprs[k].find("instances");
    if (inst == exprs[k].end() || !inst->is_array()) continue;
    int boxes = 0;
    for (const Json& i : *inst) {
      if (!i.is_object() || !i.contains("bbox") || !IsBox(i["bbox"])) continue;
      ++boxes;
      const double share = Area(i["bbox"]) / image_area;
      if (share >= q.max_box_area) {
        flag.Raise("box_covers_image", fmt::format("a box covers {:.0f}% of the image", share * 100), ki);
      } else if (share < q.min_box_area) {
        flag.Raise("tiny_box", fmt::format("a box covers {:.4f}% of the image", share * 100), ki);
      }
      placed.push_back({text, ToBox(i["bbox"])});
      if (i.contains("verified") && i["verified"] == false) {
        flag.Raise("box_rejected",
                   fmt::format("verification: {}", i.value("verify_reason", std::string("no"))), ki);
      }
    }
    const int stated = StatedCount(exprs[k].value("text", ""));
    if (stated > 0 && boxes > stated) {
      flag.Raise("count_exceeded", fmt::format("{} boxes for an expression that states {}", boxes, stated), ki);
    }
  }
  for (const Placed& p : placed) {
    std::set<std::string> sharing = {p.text};
    for (const Placed& o : placed) {
      if (IoU(p.box, o.box) >= q.identical_box_iou) sharing.insert(o.text);
    }
    if (static_cast<int>(sharing.size()) >= q.identical_box_expressions) {
      flag.Raise("identical_boxes",
                 fmt::format("{} different expressions have the same box [{:.0f}, {:.0f}, {:.0f}, {:.0f}]",
                             sharing.size(), p.box.x1, p.box.y1, p.box.x2, p.box.y2));
      return;
    }
  }
}

}  // namespace

std::vector<std::string> ContentWords(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  const auto flush = [&] {
    if (!word.empty() && !IsFunctionWord(word)) {
      if (word.size() > 3 && word.back() == 's' && word[word.size() - 2] != 's') word.pop_back();
      words.push_back(word);
    }
    word.clear();
  };
  for (char32_t c : DecodeUtf8(text)) {
    if (c < 0x80 && std::isalnum(static_cast<int>(c))) {
      word += static_cast<char>(std::tolower(static_cast<int>(c)));
    } else if (IsCjk(c)) {
      flush();
      word = EncodeUtf8(std::u32string(1, c));
      flush();
    } else if (c >= 0x80 && c != 0x3000 && !(c >= 0x2000 && c <= 0x206F)) {
      word += EncodeUtf8(std::u32string(1, c));  // accented letters stay in their word
    } else {
      flush();
    }
  }
  flush();
  return words;
}

int StatedCount(std::string_view expression) {
  static const std::map<std::string, int> kNumbers = {
      {"one", 1},  {"two", 2},    {"three", 3}, {"four", 4},    {"five", 5},  {"six", 6},
      {"seven", 7}, {"eight", 8}, {"nine", 9},  {"ten", 10},    {"eleven", 11}, {"twelve", 12},
      {"both", 2}, {"pair", 2},   {"single", 1}, {"lone", 1}};
  std::string word;
  std::string text(expression);
  text += ' ';
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      continue;
    }
    if (!word.empty()) {
      auto it = kNumbers.find(word);
      if (it != kNumbers.end()) return it->second;
      if (word.size() <= 3 && std::all_of(word.begin(), word.end(), ::isdigit)) {
        int n = std::atoi(word.c_str());
        if (n > 0) return n;
      }
    }
    word.clear();
  }
  return 0;
}

std::vector<QualityFlag> ReviewGrounding(const nlohmann::ordered_json& record,
                                         const GroundingQuality& quality, bool boxes) {
  std::vector<QualityFlag> flags;
  if (!record.is_object() || !record.contains("expressions") || !record["expressions"].is_array()) {
    return flags;
  }
  Flagger flag(quality, &flags);
  ReviewExpressions(record, quality, flag);
  if (boxes) ReviewBoxes(record, quality, flag);
  return flags;
}

std::set<std::string> DefaultBlockingGroundingFlags() { return DefaultBlockingFlags(Flags()); }

std::vector<SpecField> GroundingQualitySpecFields() {
  GroundingQuality d;
  std::vector<SpecField> v = {QualityBlockField(Flags())};
  v.push_back(MakeField("quality.min_caption_overlap", FieldType::kFloat,
                        fmt::format("{}", d.min_caption_overlap),
                        "caption_rewritten below this share of the cleaned caption's words found in "
                        "the caption", 0, 1));
  v.push_back(MakeField("quality.max_box_area", FieldType::kFloat, fmt::format("{}", d.max_box_area),
                        "box_covers_image at or above this share of the image area", 0, 1));
  v.push_back(MakeField("quality.min_box_area", FieldType::kFloat, fmt::format("{}", d.min_box_area),
                        "tiny_box below this share of the image area", 0, 1));
  v.push_back(MakeField("quality.identical_box_expressions", FieldType::kInt,
                        fmt::format("{}", d.identical_box_expressions),
                        "identical_boxes when this many different expressions share one box", 2, 1000));
  v.push_back(MakeField("quality.identical_box_iou", FieldType::kFloat,
                        fmt::format("{}", d.identical_box_iou),
                        "IoU at which two boxes count as the same box", 0, 1));
  return v;
}

GroundingQuality GroundingQualityFromSpec(const Spec& spec) {
  const std::string p = spec.pipeline() + ".quality.";
  GroundingQuality q;
  q.min_caption_overlap = spec.Float(p + "min_caption_overlap");
  q.max_box_area = spec.Float(p + "max_box_area");
  q.min_box_area = spec.Float(p + "min_box_area");
  q.identical_box_expressions = static_cast<int>(spec.Int(p + "identical_box_expressions"));
  q.identical_box_iou = spec.Float(p + "identical_box_iou");
  q.blocking = BlockingFlagsFromSpec(spec, Flags());
  return q;
}

}  // namespace groundcap
