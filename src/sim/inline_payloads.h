// The simulated teacher's fast path for large request bodies: the base64 of
// inline images is cut out of the raw JSON text before parsing, so the
// parser reads a few hundred bytes instead of the whole image. nlohmann's
// lexer copies a string one character at a time; on a 180 KB body that was
// two thirds of the fake teacher's CPU, which shared the benchmark machine's
// two cores with the client it was meant to measure.
#ifndef GROUNDCAP_SIM_INLINE_PAYLOADS_H_
#define GROUNDCAP_SIM_INLINE_PAYLOADS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace groundcap {

/// A request body with its inline image payloads replaced by placeholders.
/// The payloads point into the body, which must outlive this.
struct CutBody {
  std::string json;                        ///< the body, each payload replaced by "~<index>"
  std::vector<std::string_view> payloads;  ///< the base64 texts cut out, in order
  /// The base64 text a JSON string value stands for: the payload its
  /// placeholder names, or the value itself.
  std::string_view Resolve(std::string_view value) const;
};

/// Cuts the base64 payloads of inline images out of a request body: the text
/// after ";base64," in a data URL (OpenAI image_url) and the value of a
/// "data" key (Gemini inlineData), when it is a run of base64 characters
/// closed by a quote. Replacing such a run by "~<n>" inside a JSON string
/// leaves a valid body valid and an invalid one invalid, so parsing the
/// result accepts exactly what parsing the body would. Returns nullopt when
/// nothing is worth cutting (no payload of 256 bytes or more) or when the
/// body already holds a '~', plain or escaped (a placeholder could not be
/// told from text).
std::optional<CutBody> CutInlinePayloads(std::string_view body);

}  // namespace groundcap

#endif  // GROUNDCAP_SIM_INLINE_PAYLOADS_H_
