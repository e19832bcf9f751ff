// Reply grammars behind ParseBoxes. See box_tags.h.
#include "boxes/box_tags.h"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "boxes/box_format.h"
#include "boxes/json_repair.h"
#include "util/text_util.h"

namespace groundcap {

namespace {

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)); }


/// Reads a number starting at s[i] (digit, sign or dot not glued to a word).
/// Returns the length read (0 when there is no number here).
size_t ReadNumber(std::string_view s, size_t i, double* value) {
  if (i > 0 && (IsAlnum(s[i - 1]) || s[i - 1] == '.')) return 0;
  size_t j = i;
  if (j < s.size() && (s[j] == '-' || s[j] == '+')) ++j;
  size_t digits_start = j;
  while (j < s.size() && (IsDigit(s[j]) || s[j] == '.')) ++j;
  if (j == digits_start || !std::any_of(s.begin() + digits_start, s.begin() + j, IsDigit)) return 0;
  if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    size_t k = j + 1;
    if (k < s.size() && (s[k] == '-' || s[k] == '+')) ++k;
    if (k < s.size() && IsDigit(s[k])) {
      j = k;
      while (j < s.size() && IsDigit(s[j])) ++j;
    }
  }
  if (j < s.size() && (std::isalpha(static_cast<unsigned char>(s[j])) || s[j] == '_')) return 0;  // "3rd", "1x"
  std::string tok(s.substr(i, j - i));
  char* end = nullptr;
  *value = std::strtod(tok.c_str(), &end);
  if (end == tok.c_str()) return 0;
  return j - i;
}

/// Innermost bracket groups of numbers ("[[1,2,3,4],[5,6,7,8]]" -> two
/// groups; "(1,2),(3,4)" -> two pairs). Unclosed groups (truncation) are
/// dropped; numbers outside any bracket form one group.
std::vector<std::vector<double>> LeafNumberGroups(std::string_view s) {
  struct Level {
    std::vector<double> nums;
    bool has_child = false;
  };
  std::vector<Level> stack(1);
  std::vector<std::vector<double>> groups;
  for (size_t i = 0; i < s.size();) {
    char c = s[i];
    if (c == '[' || c == '(' || c == '{' || c == '<') {
      if (stack.size() > 64) break;
      stack.emplace_back();
      ++i;
    } else if (c == ']' || c == ')' || c == '}' || c == '>') {
      if (stack.size() > 1) {
        Level lv = std::move(stack.back());
        stack.pop_back();
        if (!lv.nums.empty() && !lv.has_child) groups.push_back(std::move(lv.nums));
        stack.back().has_child = true;
      }
      ++i;
    } else {
      double v = 0;
      size_t n = ReadNumber(s, i, &v);
      if (n > 0) {
        stack.back().nums.push_back(v);
        i += n;
      } else {
        ++i;
      }
    }
  }
  if (!stack[0].nums.empty() && !stack[0].has_child) groups.push_back(std::move(stack[0].nums));
  return groups;
}

/// Turns number groups into quads: groups of 4, or two consecutive pairs.
void GroupsToBoxes(const std::vector<std::vector<double>>& groups, const std::string& label,
                   std::vector<RawBox>& out, std::vector<std::string>& diagnostics) {
  for (size_t g = 0; g < groups.size(); ++g) {
    RawBox b;
    b.label = label;
    if (groups[g].size() == 4) {
      std::copy(groups[g].begin(), groups[g].end(), b.v);
    } else if (groups[g].size() == 2 && g + 1 < groups.size() && groups[g + 1].size() == 2) {
      b.v[0] = groups[g][0];
      b.v[1] = groups[g][1];
      b.v[2] = groups[g + 1][0];
      b.v[3] = groups[g + 1][1];
      ++g;
    } else {
      diagnostics.push_back("dropped a coordinate group with " + std::to_string(groups[g].size()) +
                            " values (need 4)" + (label.empty() ? "" : " for '" + label + "'"));
      continue;
    }
    out.push_back(std::move(b));
  }
}

struct TagPair {
  std::string_view open, close;
  bool is_ref;
};
constexpr TagPair kTags[] = {
    {"<|object_ref_start|>", "<|object_ref_end|>", true},
    {"<|ref|>", "<|/ref|>", true},
    {"<ref>", "</ref>", true},
    {"<|box_start|>", "<|box_end|>", false},
    {"<|det|>", "<|/det|>", false},
    {"<|begin_of_box|>", "<|end_of_box|>", false},
    {"<box>", "</box>", false},
};

}  // namespace

std::string CleanLabel(std::string_view text) {
  std::string s;
  s.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<') {
      size_t e = text.substr(i, 48).find('>');  // bounded: no quadratic scans
      if (e != std::string_view::npos) e += i;
      if (e != std::string_view::npos && text.substr(i, e - i).find(' ') == std::string_view::npos) {
        i = e;
        continue;
      }
    }
    s += text[i];
  }
  std::string_view v = s;
  v = Trim(v);
  if (size_t nl = v.find_last_of('\n'); nl != std::string_view::npos) v = v.substr(nl + 1);
  v = Trim(v, " \t\r\n:;,.-*#\"'`=|");
  if (v.size() > 200) v = v.substr(v.size() - 200);
  return ReplaceInvalidUtf8(v);
}

namespace {

/// Label inferred from prose before a box ("Sure. E0:" -> "E0", "and E1" ->
/// "E1"): the cleaned text after the last sentence or list separator.
std::string InferLabel(std::string_view text) {
  std::string s = CleanLabel(text);
  size_t cut = 0;
  for (std::string_view sep : {". ", "; ", ", ", "! ", "? ", ": "}) {
    size_t p = s.rfind(sep);
    if (p != std::string::npos && p + sep.size() > cut) cut = p + sep.size();
  }
  std::string_view v = std::string_view(s).substr(cut);
  for (std::string_view lead : {"and ", "or ", "then "}) {
    if (v.substr(0, lead.size()) == lead) v.remove_prefix(lead.size());
  }
  return CleanLabel(v);
}

}  // namespace

bool HasBoxMarkers(std::string_view text) {
  for (const auto& t : kTags) {
    if (text.find(t.open) != std::string_view::npos) return true;
  }
  return false;
}

std::vector<RawBox> ParseTaggedBoxes(std::string_view text, bool y_first, std::vector<std::string>& diagnostics) {
  std::vector<RawBox> out;
  std::string ref_label, last_label;
  bool ref_pending = false;
  size_t pos = 0, last_end = 0;
  // Next occurrence of each opening tag, refreshed only when passed (keeps
  // long replies with many tags linear).
  constexpr size_t kTagCount = sizeof(kTags) / sizeof(kTags[0]);
  size_t next_open[kTagCount];
  for (size_t t = 0; t < kTagCount; ++t) next_open[t] = text.find(kTags[t].open);
  while (pos < text.size()) {
    const TagPair* tag = nullptr;
    size_t at = std::string_view::npos;
    for (size_t t = 0; t < kTagCount; ++t) {
      if (next_open[t] != std::string_view::npos && next_open[t] < pos) next_open[t] = text.find(kTags[t].open, pos);
      if (next_open[t] < at) {
        at = next_open[t];
        tag = &kTags[t];
      }
    }
    if (tag == nullptr) break;
    size_t body = at + tag->open.size();
    size_t close = text.find(tag->close, body);
    bool unclosed = close == std::string_view::npos;
    std::string_view content = text.substr(body, (unclosed ? text.size() : close) - body);
    size_t next = unclosed ? text.size() : close + tag->close.size();
    if (tag->is_ref) {
      if (unclosed) {
        diagnostics.push_back("reply ends inside a ref tag");
        break;
      }
      ref_label = CleanLabel(content);
      ref_pending = true;
    } else {
      std::string label;
      if (ref_pending) {
        label = ref_label;
      } else {
        label = InferLabel(text.substr(last_end, at - last_end));
        if (label.empty()) label = last_label;
      }
      if (unclosed) diagnostics.push_back("reply ends inside a box tag; kept its complete groups");
      if (content.find('{') != std::string_view::npos || content.find('"') != std::string_view::npos) {
        auto j = ParseLenientJson(content, nullptr);
        if (j) {
          for (auto& b : JsonToRawBoxes(*j, y_first, label, diagnostics)) out.push_back(std::move(b));
        } else {
          diagnostics.push_back("unreadable box tag content");
        }
      } else {
        GroupsToBoxes(LeafNumberGroups(content), label, out, diagnostics);
      }
      ref_pending = false;
      last_label = label;
      last_end = next;
    }
    pos = next;
  }
  return out;
}

namespace {

/// Parses "<loc_123>" (florence, underscore) or "<loc0123>" at s[i].
size_t ReadLoc(std::string_view s, size_t i, bool underscore, int* value) {
  std::string_view head = underscore ? "<loc_" : "<loc";
  if (s.substr(i, head.size()) != head) return 0;
  size_t j = i + head.size();
  size_t d = j;
  while (j < s.size() && IsDigit(s[j]) && j - d < 6) ++j;
  if (j == d || j >= s.size() || s[j] != '>') return 0;
  if (!underscore && j - d != 4) return 0;
  *value = std::atoi(std::string(s.substr(d, j - d)).c_str());
  return j + 1 - i;
}

struct LocRun {
  size_t begin, end;
  std::vector<double> values;
};

std::vector<LocRun> LocRuns(std::string_view s, bool underscore) {
  std::vector<LocRun> runs;
  for (size_t i = 0; i < s.size();) {
    int v = 0;
    size_t n = s[i] == '<' ? ReadLoc(s, i, underscore, &v) : 0;
    if (n == 0) {
      ++i;
      continue;
    }
    LocRun run{i, i, {}};
    size_t j = i;
    while (true) {
      size_t k = j;
      while (k < s.size() && (s[k] == ' ' || s[k] == '\t')) ++k;
      n = k < s.size() ? ReadLoc(s, k, underscore, &v) : 0;
      if (n == 0) break;
      run.values.push_back(v);
      j = k + n;
    }
    run.end = j;
    runs.push_back(std::move(run));
    i = j;
  }
  return runs;
}

void RunToBoxes(const LocRun& run, const std::string& label, std::vector<RawBox>& out,
                std::vector<std::string>& diagnostics) {
  size_t whole = run.values.size() / 4 * 4;
  for (size_t k = 0; k < whole; k += 4) {
    RawBox b;
    std::copy(run.values.begin() + k, run.values.begin() + k + 4, b.v);
    b.label = label;
    out.push_back(std::move(b));
  }
  if (whole != run.values.size()) {
    diagnostics.push_back("dropped " + std::to_string(run.values.size() - whole) + " loose location tokens" +
                          (label.empty() ? "" : " for '" + label + "'"));
  }
}

}  // namespace

std::vector<RawBox> ParseFlorenceLocs(std::string_view text, std::vector<std::string>& diagnostics) {
  std::vector<RawBox> out;
  size_t prev = 0;
  for (const LocRun& run : LocRuns(text, /*underscore=*/true)) {
    RunToBoxes(run, CleanLabel(text.substr(prev, run.begin - prev)), out, diagnostics);
    prev = run.end;
  }
  return out;
}

std::vector<RawBox> ParsePaliGemmaLocs(std::string_view text, std::vector<std::string>& diagnostics) {
  std::vector<RawBox> out;
  auto runs = LocRuns(text, /*underscore=*/false);
  for (size_t r = 0; r < runs.size(); ++r) {
    size_t stop = r + 1 < runs.size() ? runs[r + 1].begin : text.size();
    std::string_view after = text.substr(runs[r].end, stop - runs[r].end);
    size_t cut = after.find_first_of(";\n");
    if (cut != std::string_view::npos) after = after.substr(0, cut);
    RunToBoxes(runs[r], CleanLabel(after), out, diagnostics);
  }
  return out;
}

std::vector<RawBox> ParseBareCoordinates(std::string_view text, std::vector<std::string>& diagnostics) {
  // Walk top-level bracket spans; the label of each is the text before it.
  std::vector<RawBox> out;
  size_t prev_end = 0;
  std::string last_label;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '[' && c != '(') continue;
    // Find the end of this bracket span (balanced over [] and ()).
    int depth = 0;
    size_t j = i;
    for (; j < text.size(); ++j) {
      if (text[j] == '[' || text[j] == '(') ++depth;
      if (text[j] == ']' || text[j] == ')') {
        if (--depth == 0) break;
      }
      if (depth > 64) break;
    }
    if (j >= text.size() || depth != 0) break;  // unclosed: truncated tail
    size_t end = j + 1;
    // "(x1,y1),(x2,y2)": extend over a following pair.
    if (c == '(' && end < text.size() && text[end] == ',') {
      size_t k = end + 1;
      while (k < text.size() && text[k] == ' ') ++k;
      if (k < text.size() && text[k] == '(') {
        size_t e = text.find(')', k);
        if (e != std::string_view::npos) end = e + 1;
      }
    }
    auto groups = LeafNumberGroups(text.substr(i, end - i));
    if (!groups.empty()) {
      std::string label = InferLabel(text.substr(prev_end, i - prev_end));
      if (label.empty()) label = last_label;
      size_t before = out.size();
      GroupsToBoxes(groups, label, out, diagnostics);
      if (out.size() > before) last_label = label;
    }
    prev_end = end;
    i = end - 1;
  }
  return out;
}

}  // namespace groundcap
