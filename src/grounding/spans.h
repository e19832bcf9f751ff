// Character spans of referring expressions in a caption, computed by
// groundcap (models do not return reliable offsets).
//
// Convention (docs/formats.md "Grounding output"): a span is [start, end) in
// Unicode code points of the UTF-8 caption, so Python's caption[start:end]
// gives the located text, for Chinese and emoji captions too.
#ifndef GROUNDCAP_SPANS_H_
#define GROUNDCAP_SPANS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace groundcap {

/// How a phrase was found in the caption.
enum class SpanMatch {
  kExact,       ///< the phrase occurs verbatim
  kNormalized,  ///< equal after lower-casing, collapsing whitespace, trimming edge punctuation
  kFuzzy,       ///< tolerant alignment (small edit distance)
  kNotFound,    ///< could not be located; start = end = -1
};

/// Stable name: "exact", "normalized", "fuzzy", "not_found".
const char* SpanMatchName(SpanMatch m);

/// A located phrase: [start, end) in code points of the caption.
struct CharSpan {
  int64_t start = -1;
  int64_t end = -1;
  SpanMatch match = SpanMatch::kNotFound;
  bool found() const { return match != SpanMatch::kNotFound; }
};

/// Decodes UTF-8 into code points; an invalid byte becomes U+FFFD (one code
/// point per invalid byte, as Python's errors="replace" would roughly do).
std::u32string DecodeUtf8(std::string_view utf8);
/// Encodes code points as UTF-8.
std::string EncodeUtf8(std::u32string_view text);
/// Number of code points (Python's len() of the decoded string).
int64_t CodePointLength(std::string_view utf8);
/// caption[start:end] in code points (clamped like Python slicing, no negatives).
std::string SliceCodePoints(std::string_view utf8, int64_t start, int64_t end);

/// The comparison form used by the normalized tier, as UTF-8: lower-cased,
/// typographic quotes and dashes folded, whitespace collapsed, whitespace and
/// punctuation trimmed at both ends. Also used to match reply labels to
/// expression texts.
std::string NormalizeText(std::string_view utf8);

/// Locates each phrase in `caption`, in order: exact match first, then the
/// normalized match, then a tolerant alignment (edit distance at most a fifth
/// of the phrase length, so phrases under five code points must match
/// exactly or normalized). Occurrences on word boundaries come first ("man"
/// is found as the word, not inside "woman"; unspaced scripts such as
/// Chinese have a boundary between any two characters): a whole-word exact
/// or normalized match beats any match inside a word. Repeated phrases take
/// successive occurrences: an occurrence already given to an earlier phrase
/// is skipped while another one exists. Unlocatable phrases get kNotFound.
std::vector<CharSpan> LocateSpans(std::string_view caption, const std::vector<std::string>& phrases);

}  // namespace groundcap

#endif  // GROUNDCAP_SPANS_H_
