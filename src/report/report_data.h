// The review report's data: each result record turned into the compact JSON
// object the page renders, counters over the whole stream (the summary at
// the top of the page), and JSON text that is safe inside a <script> data
// block. Pure: no I/O. docs/formats.md, "Review report".
#ifndef GROUNDCAP_REPORT_DATA_H_
#define GROUNDCAP_REPORT_DATA_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace groundcap {

/// Which pipeline wrote a record.
enum class ReportKind {
  kGrounding,      ///< image grounding: cleaned_caption + expressions[].instances[]
  kRegionCaption,  ///< region captioning: regions[] (structured) or answer + bbox (dataflow)
};

/// "image_grounding" / "region_caption".
const char* ReportKindName(ReportKind kind);

/// The pipeline a record comes from, from its fields, in this order:
/// `regions` or `answer` mean region captioning (chained records also keep
/// the grounding fields they read); `expressions` or `cleaned_caption` mean
/// grounding; then `bbox` region captioning, `caption` grounding. nullopt
/// when nothing says (a failed record holding only an image path).
std::optional<ReportKind> DetectReportKind(const nlohmann::ordered_json& record);

/// The image path a record names: the value of `image_key` when given, else
/// the first string among `image_path`, `image`, `file_name`; "" when none.
std::string RecordImagePath(const nlohmann::ordered_json& record, const std::string& image_key = "");

/// The upright image size a record states (grounding `image_width` /
/// `image_height`, region captioning `width` / `height`); {0, 0} when absent.
std::pair<int, int> RecordImageSize(const nlohmann::ordered_json& record);

/// One record scored against the ground truth (`report --truth`).
struct SampleEval {
  int64_t items = 0;       ///< truth expressions (grounding) or predicted regions scored
  int64_t correct = 0;     ///< of those, right (best box at IoU >= t / caption names colour and shape)
  double mean_iou = -1;    ///< grounding: mean best-box IoU over the truth expressions; -1 = n/a
};

/// What the page needs about a record besides the record itself.
struct SampleContext {
  int64_t index = 0;         ///< 0-based position in the results file
  int64_t line = 0;          ///< 1-based line in the results file
  std::string thumb_url;     ///< thumbnail, relative to the page ("" = none)
  std::string image_url;     ///< the original image, relative to the page or file:// ("" = none)
  std::string marked_url;    ///< region captioning's marked image ("" = none)
  int width = 0;             ///< upright size when the record does not state it (probed)
  int height = 0;
  std::optional<SampleEval> eval;
};

/// The compact object the page renders for one record:
///   {"n": index, "ln": line, "id": sample_id, "img": image path as written,
///    "th"?, "src"?, "mk"?: urls, "w", "h": upright size (0 = unknown),
///    "st": status, "ek"?, "em"?: error kind and message, "wa"?: [warnings],
///    "fl"?: [[flag, item (-1 = none), detail, blocking 0/1]],
///    "cap"?: caption shown (cleaned caption, else the input caption; dataflow: answer),
///    "inc"?: the input caption when it differs from "cap",
///    "it": [{"t": text, "sp"?: [start, end] code points, "nf"?: 1 (span not located),
///            "lb"?: region label, "b": [[x1, y1, x2, y2, score (-1 = none), verified (1/0/-1)]],
///            "st"?: region status, "re"?: region failure reason, "rc"?: rejected caption}],
///    "ev"?: [items, correct, mean_iou]}
/// Untrusted strings are copied as they are; the page shows them as text.
nlohmann::ordered_json SampleJson(const nlohmann::ordered_json& record, ReportKind kind,
                                  const SampleContext& context);

/// Counters over every sample written (SampleJson objects), in bounded
/// memory: one map entry per distinct error kind / flag / warning text
/// head, fixed histograms.
class ReportStats {
 public:
  /// Bins of the boxes-per-expression histogram: 0, 1, 2, 3, 4, 5+.
  static constexpr int kBoxBins = 6;
  /// Bins of the score histogram: [0, 0.1), ..., [0.9, 1.0].
  static constexpr int kScoreBins = 10;

  void Add(const nlohmann::ordered_json& sample);
  /// {"samples", "by_status": {...}, "failed_by_kind": {...}, "flags": {...},
  ///  "with_warnings", "items", "boxes", "items_without_box", "spans_not_located",
  ///  "boxes_per_item": [6 counts], "scores": [10 counts], "unscored_boxes"}
  nlohmann::ordered_json ToJson() const;
  int64_t samples() const { return samples_; }

 private:
  int64_t samples_ = 0, with_warnings_ = 0, items_ = 0, boxes_ = 0;
  int64_t items_without_box_ = 0, spans_not_located_ = 0, unscored_boxes_ = 0;
  std::map<std::string, int64_t> by_status_, failed_by_kind_, flags_;
  std::array<int64_t, kBoxBins> boxes_per_item_{};
  std::array<int64_t, kScoreBins> scores_{};
};

/// `j` as one line of JSON that can sit inside <script type="application/json">
/// and never end it or open a comment: '<', '>', '&', U+2028 and U+2029 are
/// written as \u003c, \u003e, \u0026, \u2028, \u2029 (they only occur inside
/// JSON strings, where the escape means the same character). Invalid UTF-8
/// is replaced by U+FFFD.
std::string ScriptSafeJson(const nlohmann::ordered_json& j);

/// `path` as a relative URL: every byte outside [A-Za-z0-9/._~-] is
/// percent-encoded, so '#', '?', '%', spaces and non-ASCII names survive.
std::string PathToUrl(std::string_view path);

}  // namespace groundcap

#endif  // GROUNDCAP_REPORT_DATA_H_
