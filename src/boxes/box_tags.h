// Reply grammars behind ParseBoxes (box_format.h): the token grammars of
// the model families and the walk over parsed JSON. They return raw
// coordinate quads in the order and scale the reply wrote; box_format.cc
// maps them to pixels. Pure functions, internal to the boxes module.
#ifndef GROUNDCAP_BOX_TAGS_H_
#define GROUNDCAP_BOX_TAGS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace groundcap {

/// One box as written in the reply, before mapping.
struct RawBox {
  double v[4] = {0, 0, 0, 0};  ///< in the format's own order and scale
  std::string label;
  std::optional<double> score;
};

/// Label text cleaned of markup: special tokens (<s>, <|...|>), trailing
/// punctuation, surrounding quotes; only the last line is kept.
std::string CleanLabel(std::string_view text);

/// True when `text` holds any ref/box special-token markers
/// (<|box_start|>, <box>, <|det|>, <|begin_of_box|>, <ref>, <|ref|>, ...).
bool HasBoxMarkers(std::string_view text);

/// Qwen2-VL / InternVL / DeepSeek-VL2 / GLM-4.xV tagged replies: each box
/// span gets the label of the ref tag before it, else the text before it.
/// A span holding JSON is parsed as JSON. `y_first` orders named keys.
std::vector<RawBox> ParseTaggedBoxes(std::string_view text, bool y_first, std::vector<std::string>& diagnostics);

/// Florence-2: label<loc_a><loc_b><loc_c><loc_d>... (label before the run).
std::vector<RawBox> ParseFlorenceLocs(std::string_view text, std::vector<std::string>& diagnostics);

/// PaliGemma: <locAAAA><locBBBB><locCCCC><locDDDD> label ; ... (label after).
std::vector<RawBox> ParsePaliGemmaLocs(std::string_view text, std::vector<std::string>& diagnostics);

/// Last resort: bracketed groups of four numbers, or (a,b),(c,d) pairs,
/// anywhere in prose; the label is the text just before each group. Words
/// such as x1 are not numbers, so echoed templates give nothing.
std::vector<RawBox> ParseBareCoordinates(std::string_view text, std::vector<std::string>& diagnostics);

/// Walks parsed JSON (a list, a single object, boxes under wrapper keys,
/// {label: quad} maps) and collects every box; `default_label` is used for
/// items without one. Items without a readable box are reported.
std::vector<RawBox> JsonToRawBoxes(const nlohmann::json& j, bool y_first, const std::string& default_label,
                                   std::vector<std::string>& diagnostics);

}  // namespace groundcap

#endif  // GROUNDCAP_BOX_TAGS_H_
