// Reading boxes out of teacher replies. Every model family writes boxes in
// its own coordinate system; this module maps them to original-image pixels.
// Pure functions: no I/O, no globals. See docs/formats.md "Box formats".
#ifndef GROUNDCAP_BOX_FORMAT_H_
#define GROUNDCAP_BOX_FORMAT_H_

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/geometry.h"

namespace groundcap {

enum class BoxFormat {
  kGemini,        ///< "box_2d": [ymin, xmin, ymax, xmax] on 0-1000
  kQwen2Vl,       ///< <|box_start|>(x1,y1),(x2,y2)<|box_end|> on 0-1000
  kQwen25Vl,      ///< "bbox_2d": [x1, y1, x2, y2] in pixels of the model input
  kQwen3Vl,       ///< "bbox_2d": [x1, y1, x2, y2] on 0-1000
  kInternVl,      ///< <ref>label</ref><box>[[x1, y1, x2, y2]]</box> on 0-1000
  kGlm4v,         ///< <|begin_of_box|>[x1, y1, x2, y2]<|end_of_box|> on 0-1000
  kDeepseekVl2,   ///< <|ref|>label<|/ref|><|det|>[[x1, y1, x2, y2]]<|/det|> on 0-999
  kFlorence2,     ///< label<loc_x1><loc_y1><loc_x2><loc_y2>, 1000 bins
  kPaliGemma,     ///< <locY1><locX1><locY2><locX2> label, 1024 bins, y first
  kMoondream,     ///< {"x_min", "y_min", "x_max", "y_max"} on 0-1
  kXyxyNorm1000,  ///< generic [x1, y1, x2, y2] on 0-1000 (prompt-defined)
  kXyxyNorm1,     ///< generic [x1, y1, x2, y2] on 0-1
  kXyxyPixels,    ///< generic [x1, y1, x2, y2] in pixels of the image sent
};

/// Stable names: "gemini", "qwen2_vl", "qwen2_5_vl", ..., "xyxy_pixels".
const char* BoxFormatName(BoxFormat f);
/// All names, for help texts and spec validation.
std::vector<std::string> BoxFormatNames();
/// Parses a name; "auto" is not a format (see AutoBoxFormat).
Result<BoxFormat> BoxFormatFromName(std::string_view name);
/// Picks the format a model was trained to emit from its name
/// ("gemini-2.5-flash" -> gemini, "Qwen/Qwen2.5-VL-7B-Instruct" -> qwen2_5_vl);
/// falls back to xyxy_norm1000. `why` (optional) says what matched.
BoxFormat AutoBoxFormat(std::string_view model_name, std::string* why = nullptr);
/// True when coordinates refer to the size of the image the model received
/// (so the caller must pass that size, and pre-resizing matters).
bool UsesInputPixels(BoxFormat f);

/// Default of BoxHygiene::range_tolerance (docs/formats.md "Out-of-range
/// coordinates" gives the evidence).
inline constexpr double kDefaultRangeTolerance = 0.5;

/// Post-parse hygiene, each step recorded in diagnostics.
struct BoxHygiene {
  double min_size = 1.0;   ///< drop boxes narrower or lower than this (pixels)
  double dedupe_iou = 0;   ///< >0: drop same-label boxes overlapping more than this
  /// How far a raw coordinate may lie outside the format's range, as a
  /// fraction of that range per axis, and still be clamped (a sloppy edge).
  /// A box with any coordinate farther out is dropped: it is in another
  /// coordinate system (pixels vs 0-1000) or has runaway digits.
  double range_tolerance = kDefaultRangeTolerance;
};

struct ParseBoxesOptions {
  BoxFormat format = BoxFormat::kXyxyNorm1000;
  Size image;    ///< upright original size (target of the mapping)
  Size input;    ///< size of the image sent; defaults to `image` when 0
  BoxHygiene hygiene;
};

/// Boxes in original-image pixels plus what was repaired or dropped.
struct ParsedBoxes {
  std::vector<Box> boxes;
  std::vector<std::string> diagnostics;
};

/// Parses any reply text (JSON, fenced JSON, tagged formats, prose around it,
/// truncated output). A reply meaning "nothing found" gives zero boxes; an
/// error only when the text holds something box-like that cannot be read.
Result<ParsedBoxes> ParseBoxes(std::string_view reply, const ParseBoxesOptions& options);

/// Maps one raw coordinate quad, in the order and scale of `format`, to
/// original pixels (no hygiene). Used by pipelines whose replies are keyed
/// JSON objects.
Box MapQuad(const double raw[4], BoxFormat format, Size image, Size input);

/// Swap reversed corners, clamp to `image`, drop small boxes, optional dedupe.
void ApplyHygiene(std::vector<Box>& boxes, Size image, const BoxHygiene& hygiene,
                  std::vector<std::string>* diagnostics);

/// Qwen2.5-VL's processor resize rule (smart_resize): both sides rounded to a
/// multiple of `factor` (Python round: halves to even), then scaled into
/// [min_pixels, max_pixels]. Returns the size the processor feeds the model.
Size SmartResize(Size size, int factor = 28, int64_t min_pixels = 56 * 56,
                 int64_t max_pixels = 28 * 28 * 1280);

/// Lenient JSON extraction from model text: markdown fences, prose or
/// thinking around the JSON, single quotes, trailing commas, Python literals
/// (True/None), and truncated output (the complete leading elements are
/// salvaged). Each repair is appended to `repairs`. Error kParse when there
/// is no JSON at all.
Result<nlohmann::json> ParseLenientJson(std::string_view text,
                                        std::vector<std::string>* repairs = nullptr);

// ---- The other direction: original pixels -> a family's convention
// (box_write.cc). Used by the SFT exports and the simulated teacher; the
// parsers above read these answers back (round trip tested).

/// Inverse of MapQuad: a box in original pixels of the upright `image` ->
/// the raw quad in `format`'s order and scale (unrounded; Florence-2 gives
/// the bin holding each edge). `input` is the size of the image the model
/// receives (Qwen2.5-VL: its smart-resized size); 0 means `image`.
std::array<double, 4> UnmapQuad(const Box& box, BoxFormat format, Size image, Size input);

/// The answer text a model of `format`'s family writes for `boxes` (each
/// box's `label` is its phrase; empty = no label), coordinates rounded as the
/// family writes them: integers on grids and pixels, 4 decimals on 0-1
/// scales. JSON families: [{"box_2d"|"bbox_2d"|"bbox": [...], "label": ...}];
/// tag families: InternVL <ref>..</ref><box>[[..]]</box>, Qwen2-VL
/// <|object_ref_start|>..<|box_start|>(x1,y1),(x2,y2)<|box_end|>, GLM-4.xV,
/// DeepSeek-VL2, Florence-2 and PaliGemma tokens. ParseBoxes with the same
/// format, image and input reads the boxes back (docs/formats.md, "Box
/// formats").
std::string FormatBoxAnswer(const std::vector<Box>& boxes, BoxFormat format, Size image, Size input);

}  // namespace groundcap

#endif  // GROUNDCAP_BOX_FORMAT_H_
