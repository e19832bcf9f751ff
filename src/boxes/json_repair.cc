// Lenient JSON extraction from model replies. See json_repair.h.
#include "boxes/json_repair.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "boxes/box_format.h"

namespace groundcap {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNumberChar(char c) {
  return std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.' || c == 'e' ||
         c == 'E';
}

void AddRepair(std::vector<std::string>& repairs, std::string what) {
  if (std::find(repairs.begin(), repairs.end(), what) == repairs.end()) repairs.push_back(std::move(what));
}

/// Length of a valid UTF-8 sequence at s[i], 0 when invalid.
size_t Utf8Length(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  if (n == 2 && c < 0xC2) return 0;  // overlong
  return n;
}

/// True when `t` is a number in strict JSON syntax.
bool IsStrictJsonNumber(std::string_view t) {
  size_t i = 0;
  if (i < t.size() && t[i] == '-') ++i;
  if (i >= t.size() || !std::isdigit(static_cast<unsigned char>(t[i]))) return false;
  if (t[i] == '0' && i + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[i + 1]))) return false;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
  if (i < t.size() && t[i] == '.') {
    ++i;
    if (i >= t.size() || !std::isdigit(static_cast<unsigned char>(t[i]))) return false;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) ++i;
    if (i >= t.size() || !std::isdigit(static_cast<unsigned char>(t[i]))) return false;
    while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
  }
  return i == t.size();
}

enum class Last { kOpen, kComma, kColon, kKey, kValue };

/// The normaliser's state while it walks one value.
class Normaliser {
 public:
  explicit Normaliser(std::string_view text) : in_(text) {}

  JsonRepairScan Run() {
    JsonRepairScan r;
    size_t i = 0;
    while (i < in_.size()) {
      char c = in_[i];
      if (IsSpace(c)) {
        ++i;
      } else if (c == '[' || c == '{' || c == '(') {
        if (!BeforeValue(r)) return Fail(r);
        if (c == '(') AddRepair(r.repairs, "tuple brackets () read as a list");
        stack_.push_back(c == '{' ? '{' : '[');
        counts_.push_back(0);
        if (static_cast<int>(stack_.size()) > kMaxJsonDepth) {
          AddRepair(r.repairs, "nesting deeper than " + std::to_string(kMaxJsonDepth) + " refused");
          return Fail(r);
        }
        out_ += stack_.back();
        last_ = Last::kOpen;
        ++i;
      } else if (c == ']' || c == '}' || c == ')') {
        if (stack_.empty()) return Fail(r);
        char want = c == '}' ? '{' : '[';
        if (stack_.back() != want) {
          if (std::find(stack_.begin(), stack_.end(), want) == stack_.end()) {
            AddRepair(r.repairs, std::string("dropped stray '") + c + "'");
            ++i;
            continue;
          }
          AddRepair(r.repairs, "closed mismatched brackets");
          while (stack_.back() != want) Close(r);
        }
        Close(r);
        ++i;
        if (stack_.empty()) {
          r.consumed = i;
          r.json = std::move(out_);
          return r;
        }
      } else if (c == ',') {
        if (last_ == Last::kValue) {
          out_ += ',';
          last_ = Last::kComma;
        } else {
          AddRepair(r.repairs, "removed extra comma");
        }
        ++i;
      } else if (c == ':') {
        if (last_ == Last::kKey) {
          out_ += ':';
          last_ = Last::kColon;
        } else {
          AddRepair(r.repairs, "dropped stray ':'");
        }
        ++i;
      } else if (c == '"' || c == '\'') {
        size_t end = 0;
        std::string s;
        if (!ReadString(i, &end, &s, r)) return Truncated(r);
        if (c == '\'') AddRepair(r.repairs, "single quotes replaced by double quotes");
        if (!BeforeValue(r)) return Fail(r);
        bool key = InKeyPosition();
        out_ += s;
        i = end;
        Emitted(key);
      } else if (c == '/' && i + 1 < in_.size() && (in_[i + 1] == '/' || in_[i + 1] == '*')) {
        AddRepair(r.repairs, "removed comments");
        if (in_[i + 1] == '/') {
          size_t nl = in_.find('\n', i);
          i = nl == std::string_view::npos ? in_.size() : nl;
        } else {
          size_t e = in_.find("*/", i + 2);
          i = e == std::string_view::npos ? in_.size() : e + 2;
        }
      } else if (IsIdentStart(c) || ((c == '-' || c == '+') && i + 1 < in_.size() && IsIdentStart(in_[i + 1]))) {
        size_t j = i + 1;
        while (j < in_.size() && IsIdentChar(in_[j])) ++j;
        std::string word(in_.substr(i, j - i));
        if (!BeforeValue(r)) return Fail(r);
        bool key = InKeyPosition();
        EmitWord(word, key, r);
        i = j;
        Emitted(key);
      } else if (IsNumberChar(c)) {
        size_t j = i;
        while (j < in_.size() && IsNumberChar(in_[j])) ++j;
        std::string tok(in_.substr(i, j - i));
        char* endp = nullptr;
        double v = std::strtod(tok.c_str(), &endp);
        if (endp != tok.c_str() + tok.size() || tok == "-" || tok == "+") {
          AddRepair(r.repairs, "skipped malformed number");
          i = j;
          continue;
        }
        if (!BeforeValue(r)) return Fail(r);
        bool key = InKeyPosition();
        std::string emit;
        if (!std::isfinite(v)) {
          emit = "null";
          AddRepair(r.repairs, "NaN/Infinity replaced by null");
        } else if (IsStrictJsonNumber(tok)) {
          emit = tok;
        } else {
          char buf[40];
          std::snprintf(buf, sizeof buf, "%.17g", v);
          emit = buf;
          AddRepair(r.repairs, "normalised number syntax");
        }
        out_ += key ? "\"" + emit + "\"" : emit;
        i = j;
        Emitted(key);
      } else {
        AddRepair(r.repairs, "skipped stray characters");
        ++i;
      }
    }
    return Truncated(r);
  }

 private:
  // Inserts a comma between two values written without one. False when a
  // value cannot stand here at all.
  bool BeforeValue(JsonRepairScan& r) {
    if (stack_.empty()) return out_.empty();
    if (last_ == Last::kValue) {
      out_ += ',';
      last_ = Last::kComma;
      AddRepair(r.repairs, "inserted missing comma");
    } else if (last_ == Last::kKey) {
      out_ += ':';
      last_ = Last::kColon;
      AddRepair(r.repairs, "inserted missing colon");
    }
    return true;
  }

  bool InKeyPosition() const {
    return !stack_.empty() && stack_.back() == '{' && (last_ == Last::kOpen || last_ == Last::kComma);
  }

  void EmitWord(const std::string& word, bool key, JsonRepairScan& r) {
    if (key) {
      out_ += "\"" + word + "\"";
      AddRepair(r.repairs, "quoted bare keys");
      return;
    }
    std::string w = AsciiLower(word);
    if (!w.empty() && (w[0] == '-' || w[0] == '+')) w.erase(0, 1);
    if (w == "true" || w == "false" || w == "null") {
      out_ += w;
      if (word != w) AddRepair(r.repairs, "Python literals converted");
    } else if (w == "none" || w == "undefined") {
      out_ += "null";
      AddRepair(r.repairs, "Python literals converted");
    } else if (w == "nan" || w == "inf" || w == "infinity") {
      out_ += "null";
      AddRepair(r.repairs, "NaN/Infinity replaced by null");
    } else {
      out_ += "\"" + word + "\"";
      AddRepair(r.repairs, "quoted bare words");
      bare_words_ = true;
    }
  }

  // Records a finished key or value.
  void Emitted(bool key) {
    if (key) {
      last_ = Last::kKey;
      return;
    }
    last_ = Last::kValue;
    if (!counts_.empty()) ++counts_.back();
    // Only whole containers are cut points (see Close): a list of bare
    // numbers cut short is a half-written box, not worth salvaging.
  }

  void MarkCut() {
    int depth = static_cast<int>(stack_.size());
    if (best_depth_ < 0 || depth <= best_depth_) {
      best_depth_ = depth;
      best_pos_ = out_.size();
      best_stack_ = stack_;
      best_count_ = counts_.back();
    }
  }

  void Close(JsonRepairScan& r) {
    if (!out_.empty() && out_.back() == ',') {
      out_.pop_back();
      AddRepair(r.repairs, "removed trailing comma");
    }
    if (last_ == Last::kKey || last_ == Last::kColon) {
      // "{"a"}" or "{"a":}": complete the pair with null.
      if (last_ == Last::kKey) out_ += ':';
      out_ += "null";
      AddRepair(r.repairs, "completed a key without value");
    }
    out_ += stack_.back() == '{' ? '}' : ']';
    stack_.pop_back();
    counts_.pop_back();
    last_ = Last::kValue;
    if (!counts_.empty()) ++counts_.back();
    if (!stack_.empty() && stack_.back() == '[') MarkCut();
  }

  // Reads a quoted string at in_[i] into a JSON string literal in *s.
  bool ReadString(size_t i, size_t* end, std::string* s, JsonRepairScan& r) {
    char q = in_[i];
    s->assign(1, '"');
    size_t j = i + 1;
    while (j < in_.size()) {
      char c = in_[j];
      if (c == q) {
        *s += '"';
        *end = j + 1;
        return true;
      }
      if (c == '\\') {
        if (j + 1 >= in_.size()) return false;
        char e = in_[j + 1];
        if (e == '\'') {
          *s += '\'';
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
                   e == 't') {
          *s += '\\';
          *s += e;
        } else if (e == 'u' && j + 5 < in_.size() &&
                   std::all_of(in_.begin() + j + 2, in_.begin() + j + 6,
                               [](char h) { return std::isxdigit(static_cast<unsigned char>(h)); })) {
          *s += '\\';
          s->append(in_.substr(j + 1, 5));
          j += 6;
          continue;
        } else {
          *s += "\\\\";
          j += 1;
          continue;
        }
        j += 2;
        continue;
      }
      if (c == '"') {
        *s += "\\\"";
        ++j;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
        *s += buf;
        ++j;
      } else if (static_cast<unsigned char>(c) < 0x80) {
        *s += c;
        ++j;
      } else {
        size_t n = Utf8Length(in_, j);
        if (n == 0) {
          *s += '?';
          AddRepair(r.repairs, "replaced invalid UTF-8");
          ++j;
        } else {
          s->append(in_.substr(j, n));
          j += n;
        }
      }
    }
    return false;
  }

  JsonRepairScan Fail(JsonRepairScan& r) {
    r.json.clear();
    r.consumed = 0;
    return std::move(r);
  }

  JsonRepairScan Truncated(JsonRepairScan& r) {
    r.truncated = true;
    r.consumed = in_.size();
    if (best_depth_ < 0) {
      r.json.clear();
      return std::move(r);
    }
    std::string json = out_.substr(0, best_pos_);
    while (!json.empty() && json.back() == ',') json.pop_back();
    for (auto it = best_stack_.rbegin(); it != best_stack_.rend(); ++it) json += *it == '{' ? '}' : ']';
    r.json = std::move(json);
    r.salvaged_elements = best_count_;
    AddRepair(r.repairs, "truncated reply: kept " + std::to_string(best_count_) + " complete leading elements");
    return std::move(r);
  }

 public:
  bool bare_words_ = false;

 private:
  std::string_view in_;
  std::string out_;
  std::vector<char> stack_;
  std::vector<int> counts_;
  Last last_ = Last::kOpen;
  int best_depth_ = -1;
  size_t best_pos_ = 0;
  std::vector<char> best_stack_;
  int best_count_ = 0;
};

/// Finds `needle` case-insensitively (ASCII) from `from`.
size_t FindNoCase(std::string_view hay, std::string_view needle, size_t from = 0) {
  if (needle.empty() || hay.size() < needle.size()) return std::string_view::npos;
  for (size_t i = from; i + needle.size() <= hay.size(); ++i) {
    bool ok = true;
    for (size_t k = 0; k < needle.size() && ok; ++k) {
      ok = std::tolower(static_cast<unsigned char>(hay[i + k])) == std::tolower(static_cast<unsigned char>(needle[k]));
    }
    if (ok) return i;
  }
  return std::string_view::npos;
}

}  // namespace

std::string ReplaceInvalidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8Length(s, i);
    if (n == 0) {
      out += '?';
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string_view StripReasoning(std::string_view text, bool* unclosed_think) {
  if (unclosed_think) *unclosed_think = false;
  size_t close = std::string_view::npos;
  for (size_t p = FindNoCase(text, "</think>"); p != std::string_view::npos; p = FindNoCase(text, "</think>", p + 1)) {
    close = p;
  }
  if (close != std::string_view::npos) {
    text = text.substr(close + 8);
  } else if (size_t open = FindNoCase(text, "<think>"); open != std::string_view::npos) {
    if (unclosed_think) *unclosed_think = true;
    text = text.substr(0, open);
  }
  if (size_t a = FindNoCase(text, "<answer>"); a != std::string_view::npos) {
    text = text.substr(a + 8);
    if (size_t e = FindNoCase(text, "</answer>"); e != std::string_view::npos) text = text.substr(0, e);
  }
  return text;
}

std::string_view StripMarkdownFence(std::string_view text, bool* found) {
  if (found) *found = false;
  std::vector<size_t> fences;
  for (size_t p = text.find("```"); p != std::string_view::npos; p = text.find("```", p + 3)) fences.push_back(p);
  if (fences.empty()) return text;
  // Pair fences in order; prefer the last block tagged json, else the last block.
  std::string_view best;
  bool best_json = false, any = false;
  for (size_t k = 0; k < fences.size(); k += 2) {
    size_t open = fences[k] + 3;
    size_t line_end = text.find('\n', open);
    std::string_view tag = text.substr(open, (line_end == std::string_view::npos ? text.size() : line_end) - open);
    size_t body = line_end == std::string_view::npos ? text.size() : line_end + 1;
    size_t close = k + 1 < fences.size() ? fences[k + 1] : text.size();
    if (close < body) body = close;
    std::string_view content = text.substr(body, close - body);
    bool is_json = FindNoCase(tag, "json") != std::string_view::npos;
    if (!any || is_json || !best_json) {
      best = content;
      best_json = best_json || is_json;
      any = true;
    }
  }
  if (found) *found = any;
  return best;
}

JsonRepairScan RepairJsonValue(std::string_view text) {
  Normaliser n(text);
  JsonRepairScan r = n.Run();
  r.bare_words = n.bare_words_;
  return r;
}

bool SaysNothingFound(std::string_view text) {
  static constexpr const char* kPhrases[] = {
      "no object",  "not found",   "none",       "nothing",      "no match",  "couldn't",
      "could not",  "cannot",      "can't",      "unable",       "sorry",     "there is no",
      "there are no", "no such",   "not present", "not visible", "no bounding", "not able",
      "does not contain", "doesn't contain", "no instances", "empty"};
  std::string lower = AsciiLower(text);
  for (const char* p : kPhrases) {
    if (lower.find(p) != std::string::npos) return true;
  }
  return false;
}

namespace {

/// Tries every '[' / '{' start in `text` (bounded) and returns the first
/// value that parses; candidates needing bare-word quoting rank last.
Result<nlohmann::json> ParseFirstValue(std::string_view text, std::vector<std::string>& repairs) {
  constexpr int kMaxStarts = 24;
  int starts = 0;
  std::optional<std::pair<nlohmann::json, std::vector<std::string>>> weak;
  for (size_t p = 0; p < text.size() && starts < kMaxStarts; ++p) {
    if (text[p] != '[' && text[p] != '{') continue;
    ++starts;
    JsonRepairScan scan = RepairJsonValue(text.substr(p));
    if (scan.json.empty()) {
      if (scan.truncated) {
        return Fail(ErrorKind::kParse, "truncated JSON with no complete element");
      }
      continue;
    }
    nlohmann::json j = nlohmann::json::parse(scan.json, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) continue;
    bool bare = scan.bare_words;
    bool around = text.find_first_not_of(" \t\r\n") < p;
    if (!scan.truncated) {
      std::string_view tail = text.substr(std::min(text.size(), p + scan.consumed));
      around = around || tail.find_first_not_of(" \t\r\n") != std::string_view::npos;
    }
    if (around) scan.repairs.insert(scan.repairs.begin(), "ignored text around the JSON");
    if (bare) {
      if (!weak) weak.emplace(std::move(j), std::move(scan.repairs));
      continue;
    }
    for (auto& s : scan.repairs) AddRepair(repairs, std::move(s));
    return j;
  }
  if (weak) {
    for (auto& s : weak->second) AddRepair(repairs, std::move(s));
    return std::move(weak->first);
  }
  return Fail(ErrorKind::kParse, "no JSON found in reply");
}

}  // namespace

Result<nlohmann::json> ParseLenientJson(std::string_view text, std::vector<std::string>* repairs) {
  std::vector<std::string> local;
  std::vector<std::string>& rep = repairs ? *repairs : local;
  bool unclosed = false;
  std::string_view answer = StripReasoning(text, &unclosed);
  if (answer.size() != text.size()) AddRepair(rep, "dropped reasoning text");
  if (unclosed) AddRepair(rep, "reply ended inside <think>");
  // A reply that is JSON encoded once more as a string: "[{\"bbox\": ...}]".
  if (size_t b = answer.find_first_not_of(" \t\r\n"); b != std::string_view::npos && answer[b] == '"') {
    nlohmann::json s = nlohmann::json::parse(answer, nullptr, /*allow_exceptions=*/false);
    if (s.is_string()) {
      const std::string& inner = s.get_ref<const std::string&>();
      size_t ib = inner.find_first_not_of(" \t\r\n");
      if (ib != std::string::npos && (inner[ib] == '[' || inner[ib] == '{')) {
        AddRepair(rep, "unwrapped JSON encoded as a string");
        return ParseFirstValue(inner, rep);
      }
    }
  }
  bool fenced = false;
  std::string_view body = StripMarkdownFence(answer, &fenced);
  if (fenced) {
    std::vector<std::string> fence_rep{"removed markdown fence"};
    auto j = ParseFirstValue(body, fence_rep);
    if (j) {
      for (auto& s : fence_rep) AddRepair(rep, std::move(s));
      return j;
    }
  }
  return ParseFirstValue(answer, rep);
}

}  // namespace groundcap
