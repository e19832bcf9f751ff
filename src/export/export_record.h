// Reading one results record (either pipeline) for `groundcap export`: the
// filters every format shares, and a note for everything left out (written
// to export_skipped.jsonl by export_writer.h). Pure: no I/O.
// docs/formats.md, "Exports".
#ifndef GROUNDCAP_EXPORT_RECORD_H_
#define GROUNDCAP_EXPORT_RECORD_H_

#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "export/grounding_export.h"

namespace groundcap {

/// Which results a format can use.
enum class RecordKinds {
  kGrounding,      ///< image grounding only (ODVG grounding, COCO: they need caption spans)
  kRegionCaption,  ///< region captioning only (dense captions)
  kEither,         ///< both (ODVG detection, SFT conversations, Label Studio)
};

/// The filters shared by every format (`groundcap export` flags).
struct ExportFilters {
  std::set<std::string> statuses = {"ok"};  ///< --status: record statuses kept
  double min_score = -std::numeric_limits<double>::infinity();  ///< --min-score on a box's `score`
  bool drop_unlocated = false;  ///< --drop-unlocated: expressions without a span (always for odvg/coco)
  double min_box_size = 0;      ///< --min-box-size: boxes narrower or lower than this many pixels go
  bool verified_only = false;   ///< --verified-only: only boxes/regions with `verified: true`
  RecordKinds kinds = RecordKinds::kGrounding;  ///< results the format can use
};

/// One thing left out, as written to export_skipped.jsonl.
struct SkipNote {
  std::string level;   ///< "record", "expression", "instance" or "region"
  std::string id;      ///< sample id, expression_id, bbox_id or "<sample_id>:r<n>"
  std::string reason;  ///< a stable code: "status_failed", "missing_image", "outside_image", ...
  std::string detail;  ///< a human sentence
};

/// Reads one parsed record of either pipeline into `*image` under
/// `filters`, counting everything left out in `*counts` and noting it in
/// `*skips` (appended; may be null). Region-caption records become one
/// ExportExpression per ok region (text = caption, one box, no span,
/// category = HeadNoun(caption)). Grounding expressions without a span are
/// kept (start = end = -1) unless `filters.drop_unlocated`. A box outside
/// the image (beyond 0.5 px) is left out, not clamped: groundcap clamps, so
/// such a box was edited by hand or comes from elsewhere.
RecordVerdict ReadExportRecord(const nlohmann::ordered_json& record, const ExportFilters& filters,
                               ExportImage* image, ExportCounts* counts, std::vector<SkipNote>* skips,
                               std::string* reason);

/// The detection category of a phrase, by the head-noun rule
/// (docs/formats.md, "ODVG detection"): lower-case the ASCII letters, cut
/// the phrase at the first clause or preposition word ("with", "on", "in",
/// "of", "that", "wearing", ...) or punctuation, and take the last word of
/// what is left, stripped of punctuation ("A man in a red hat" -> "man",
/// "a small brown dog." -> "dog"). Empty text gives "object".
std::string HeadNoun(std::string_view phrase);

}  // namespace groundcap

#endif  // GROUNDCAP_EXPORT_RECORD_H_
