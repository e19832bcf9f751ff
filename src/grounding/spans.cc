#include "grounding/spans.h"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

namespace groundcap {
namespace {

bool IsSpace(char32_t c) {
  return c == U' ' || c == U'\t' || c == U'\n' || c == U'\r' || c == U'\f' || c == U'\v' ||
         c == 0x85 || c == 0xA0 || c == 0x3000 || (c >= 0x2000 && c <= 0x200A) || c == 0x202F;
}

bool IsEdgePunct(char32_t c) {
  static const std::u32string_view kPunct = U".,;:!?\"'()[]{}<>`*-_/\\\u3002\uFF0C\uFF01\uFF1F\u3001\uFF1B\uFF1A\u201C\u201D\u2018\u2019\u300C\u300D\uFF08\uFF09";
  return kPunct.find(c) != std::u32string_view::npos;
}

/// Simple lower-casing for the scripts captions commonly use.
char32_t Lower(char32_t c) {
  if (c >= U'A' && c <= U'Z') return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  // Latin Extended-A pairs upper/lower as even/odd, except in 0x139-0x148
  // and 0x179-0x17E (odd/even: Ł 0x141 / ł 0x142, Ż 0x17B / ż 0x17C).
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) {
    return c % 2 == 0 && c != 0x130 ? c + 1 : c;
  }
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return c % 2 == 1 ? c + 1 : c;
  if (c == 0x178) return 0xFF;  // Ÿ
  if (c >= 0x391 && c <= 0x3A9) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

/// Folds typographic variants models like to swap.
char32_t Fold(char32_t c) {
  c = Lower(c);
  if (c == 0x2018 || c == 0x2019 || c == 0x2032) return U'\'';
  if (c == 0x201C || c == 0x201D || c == 0x2033) return U'"';
  if (c >= 0x2010 && c <= 0x2015) return U'-';
  return c;
}

/// A normalized text and, per normalized char, its index in the original.
struct Normalized {
  std::u32string text;
  std::vector<int64_t> origin;
};

/// Lower-cases, folds quotes/dashes, collapses whitespace runs to one space.
Normalized Normalize(const std::u32string& s) {
  Normalized n;
  bool in_space = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (IsSpace(s[i])) {
      if (!in_space) {
        n.text.push_back(U' ');
        n.origin.push_back(static_cast<int64_t>(i));
      }
      in_space = true;
      continue;
    }
    in_space = false;
    n.text.push_back(Fold(s[i]));
    n.origin.push_back(static_cast<int64_t>(i));
  }
  return n;
}

/// Normalized phrase with whitespace (and punctuation when `trim_punct`)
/// trimmed at both ends.
std::u32string NormalizePhrase(const std::u32string& s, bool trim_punct = true) {
  std::u32string t = Normalize(s).text;
  size_t b = 0, e = t.size();
  while (b < e && (t[b] == U' ' || (trim_punct && IsEdgePunct(t[b])))) ++b;
  while (e > b && (t[e - 1] == U' ' || (trim_punct && IsEdgePunct(t[e - 1])))) --e;
  return t.substr(b, e - b);
}

using Candidate = std::pair<int64_t, int64_t>;  // [start, end) in original code points

/// Letters and digits of scripts that separate words with spaces (Latin,
/// Greek, Cyrillic, ...). CJK and other unspaced scripts are excluded, so
/// every position between two of their characters is a boundary.
bool IsWordChar(char32_t c) {
  if (c < 0x80) return (c >= U'0' && c <= U'9') || (c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z');
  return c >= 0xC0 && c < 0x0590 && c != 0xD7 && c != 0xF7;
}

/// True when `c` neither starts nor ends inside a word of `text`.
bool OnWordBoundaries(const std::u32string& text, const Candidate& c) {
  const auto inside = [&](int64_t i) {  // boundary i splits a word
    return i > 0 && i < static_cast<int64_t>(text.size()) && IsWordChar(text[i - 1]) &&
           IsWordChar(text[i]);
  };
  return !inside(c.first) && !inside(c.second);
}

std::vector<Candidate> ExactCandidates(const std::u32string& caption, const std::u32string& phrase) {
  std::vector<Candidate> out;
  if (phrase.empty()) return out;
  for (size_t p = caption.find(phrase); p != std::u32string::npos; p = caption.find(phrase, p + 1)) {
    out.emplace_back(static_cast<int64_t>(p), static_cast<int64_t>(p + phrase.size()));
  }
  return out;
}

std::vector<Candidate> NormalizedCandidates(const Normalized& caption, const std::u32string& phrase) {
  std::vector<Candidate> out;
  if (phrase.empty()) return out;
  for (size_t p = caption.text.find(phrase); p != std::u32string::npos;
       p = caption.text.find(phrase, p + 1)) {
    out.emplace_back(caption.origin[p], caption.origin[p + phrase.size() - 1] + 1);
  }
  return out;
}

/// Semi-global alignment (phrase anywhere in caption) with edit distance at
/// most len/5. Candidates sorted by distance, then position.
std::vector<Candidate> FuzzyCandidates(const Normalized& caption, const std::u32string& phrase) {
  std::vector<Candidate> out;
  const size_t n = phrase.size();
  const size_t m = caption.text.size();
  const size_t allowed = n / 5;
  if (n == 0 || allowed == 0 || m == 0) return out;
  // dist[j], start[j]: best alignment of phrase[0..i) ending at caption j.
  std::vector<size_t> prev(m + 1, 0), cur(m + 1);
  std::vector<size_t> prev_start(m + 1), cur_start(m + 1);
  for (size_t j = 0; j <= m; ++j) prev_start[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    cur_start[0] = 0;
    for (size_t j = 1; j <= m; ++j) {
      size_t sub = prev[j - 1] + (phrase[i - 1] == caption.text[j - 1] ? 0 : 1);
      size_t del = prev[j] + 1;      // phrase char not in caption
      size_t ins = cur[j - 1] + 1;   // caption char not in phrase
      if (sub <= del && sub <= ins) {
        cur[j] = sub;
        cur_start[j] = prev_start[j - 1];
      } else if (del <= ins) {
        cur[j] = del;
        cur_start[j] = prev_start[j];
      } else {
        cur[j] = ins;
        cur_start[j] = cur_start[j - 1];
      }
    }
    std::swap(prev, cur);
    std::swap(prev_start, cur_start);
  }
  struct Hit {
    size_t dist;
    size_t start;
    size_t end;
  };
  std::vector<Hit> hits;
  for (size_t j = 1; j <= m; ++j) {
    if (prev[j] > allowed || prev_start[j] >= j) continue;
    // Keep only local minima: the best end of a run of matching ends.
    if (j + 1 <= m && prev[j + 1] < prev[j] && prev_start[j + 1] == prev_start[j]) continue;
    if (!hits.empty() && hits.back().start == prev_start[j]) {
      // Same start: the lower distance wins, then the length nearer the phrase's.
      Hit& h = hits.back();
      auto off = [n](size_t len) { return len > n ? len - n : n - len; };
      if (prev[j] < h.dist || (prev[j] == h.dist && off(j - h.start) < off(h.end - h.start))) {
        h = {prev[j], prev_start[j], j};
      }
      continue;
    }
    hits.push_back({prev[j], prev_start[j], j});
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const Hit& a, const Hit& b) { return a.dist < b.dist; });
  for (const Hit& h : hits) {
    size_t s = h.start, e = h.end;
    while (s < e && caption.text[s] == U' ') ++s;
    while (e > s && caption.text[e - 1] == U' ') --e;
    if (s == e) continue;
    out.emplace_back(caption.origin[s], caption.origin[e - 1] + 1);
  }
  return out;
}

}  // namespace

const char* SpanMatchName(SpanMatch m) {
  switch (m) {
    case SpanMatch::kExact: return "exact";
    case SpanMatch::kNormalized: return "normalized";
    case SpanMatch::kFuzzy: return "fuzzy";
    case SpanMatch::kNotFound: return "not_found";
  }
  return "not_found";
}

std::u32string DecodeUtf8(std::string_view utf8) {
  std::u32string out;
  out.reserve(utf8.size());
  size_t i = 0;
  while (i < utf8.size()) {
    unsigned char c = static_cast<unsigned char>(utf8[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > utf8.size()) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(utf8[i + k]);
      if ((cc >> 6) != 0x2) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

std::string EncodeUtf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

int64_t CodePointLength(std::string_view utf8) {
  return static_cast<int64_t>(DecodeUtf8(utf8).size());
}

std::string SliceCodePoints(std::string_view utf8, int64_t start, int64_t end) {
  std::u32string cps = DecodeUtf8(utf8);
  int64_t n = static_cast<int64_t>(cps.size());
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  return EncodeUtf8(std::u32string_view(cps).substr(start, end - start));
}

std::string NormalizeText(std::string_view utf8) {
  return EncodeUtf8(NormalizePhrase(DecodeUtf8(utf8)));
}

std::vector<CharSpan> LocateSpans(std::string_view caption, const std::vector<std::string>& phrases) {
  const std::u32string cap = DecodeUtf8(caption);
  const Normalized norm = Normalize(cap);
  std::set<Candidate> claimed;
  std::vector<CharSpan> spans;
  spans.reserve(phrases.size());
  for (const std::string& phrase_utf8 : phrases) {
    std::u32string phrase = DecodeUtf8(phrase_utf8);
    std::u32string nphrase = NormalizePhrase(phrase);
    // Tiers in order; within a tier the first occurrence not yet claimed,
    // preferring occurrences on word boundaries ("man" is not the end of
    // "woman") over the exact and normalized tiers before any other; the
    // fuzzy tier is computed only when those find nothing. If every
    // candidate of every tier is claimed, reuse the first one found.
    CharSpan chosen;
    CharSpan fallback;
    auto consider = [&](const std::vector<Candidate>& cands, SpanMatch tier, bool whole_words) {
      for (const Candidate& c : cands) {
        if (!fallback.found()) fallback = {c.first, c.second, tier};
        if (!claimed.count(c) && (!whole_words || OnWordBoundaries(cap, c))) {
          chosen = {c.first, c.second, tier};
          return true;
        }
      }
      return false;
    };
    if (!phrase.empty()) {
      const std::vector<Candidate> tiers[] = {
          ExactCandidates(cap, phrase), NormalizedCandidates(norm, NormalizePhrase(phrase, false)),
          NormalizedCandidates(norm, nphrase)};
      const SpanMatch names[] = {SpanMatch::kExact, SpanMatch::kNormalized, SpanMatch::kNormalized};
      bool done = false;
      for (bool whole_words : {true, false}) {
        for (size_t t = 0; t < 3 && !done; ++t) done = consider(tiers[t], names[t], whole_words);
      }
      if (!done) {
        const std::vector<Candidate> fuzzy = FuzzyCandidates(norm, nphrase);
        if (!consider(fuzzy, SpanMatch::kFuzzy, true)) consider(fuzzy, SpanMatch::kFuzzy, false);
      }
    }
    if (!chosen.found()) chosen = fallback;
    if (chosen.found()) claimed.insert({chosen.start, chosen.end});
    spans.push_back(chosen);
  }
  return spans;
}

}  // namespace groundcap
