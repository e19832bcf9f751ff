// Lenient JSON extraction from model replies (helpers behind
// ParseLenientJson, declared in box_format.h). Pure functions, no I/O.
//
// Models wrap JSON in markdown fences, surround it with prose or <think>
// text, use Python literals and single quotes, leave trailing commas and get
// cut off at the token limit. These helpers turn such text into strict JSON
// and say what they changed.
#ifndef GROUNDCAP_JSON_REPAIR_H_
#define GROUNDCAP_JSON_REPAIR_H_

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/jsonl.h"
#include "util/text_util.h"

namespace groundcap {

/// The answer part of a reply: drops everything up to the last </think>,
/// prefers the content of <answer>...</answer>. Sets *unclosed_think when
/// the reply ended inside an unclosed <think> (the reasoning ate the token
/// budget); then the text before <think> is returned.
std::string_view StripReasoning(std::string_view text, bool* unclosed_think = nullptr);

/// Content of the last ```-fenced block (any language tag; an unclosed last
/// fence runs to the end), or the whole text when there is no fence.
std::string_view StripMarkdownFence(std::string_view text, bool* found = nullptr);

/// Result of normalising one JSON-like value that starts at text[0].
struct JsonRepairScan {
  std::string json;              ///< strict JSON text (empty when unusable)
  size_t consumed = 0;           ///< bytes of the input the value spans
  bool truncated = false;        ///< the input ended before the value closed
  int salvaged_elements = -1;    ///< >=0 when truncated and cut back
  bool bare_words = false;       ///< unquoted words became strings (weak match)
  std::vector<std::string> repairs;  ///< what was changed, in order
};

/// Normalises a lenient JSON value beginning at text[0] ('[' or '{'):
/// single quotes, Python/JS literals (True, None, NaN -> null), unquoted
/// keys, trailing and missing commas, comments, mismatched closers, and a
/// truncated tail (cut back to the last complete element of the shallowest
/// list, then closed). Nesting deeper than kMaxJsonDepth is refused.
JsonRepairScan RepairJsonValue(std::string_view text);

/// Copy with every byte that is not part of valid UTF-8 replaced by '?'
/// (labels cut from raw model text must survive strict JSON output).
std::string ReplaceInvalidUtf8(std::string_view s);

/// True when the text reads like "nothing found" / "none" / a refusal.
bool SaysNothingFound(std::string_view text);

}  // namespace groundcap

#endif  // GROUNDCAP_JSON_REPAIR_H_
