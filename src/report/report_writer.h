// `groundcap report`: one self-contained HTML page to review a results file
// (docs/formats.md, "Review report"). The records are streamed: each line
// is parsed, turned into its compact page object (report_data.h), written
// and dropped, so memory holds the counters and a few thumbnails in flight,
// never the records. The page appears atomically (temporary file, fsync,
// rename); thumbnails go to a folder beside it.
#ifndef GROUNDCAP_REPORT_WRITER_H_
#define GROUNDCAP_REPORT_WRITER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/report_data.h"
#include "report/thumbnails.h"

namespace groundcap {

/// What to read and where to write.
struct ReportRequest {
  std::string annotations;   ///< results JSONL (annotations.jsonl of a results directory)
  std::string run_summary;   ///< run_summary.json to show ("" = none)
  std::string out;           ///< the page; thumbnails go to "<out stem>_thumbs/" beside it
  std::string image_root;    ///< relative image paths are joined to it ("" = as written)
  std::string image_key;     ///< record field naming the image ("" = image_path, image, file_name)
  std::string results_dir;   ///< marked-image paths are relative to it ("" = the annotations' folder)
  std::string title;         ///< shown at the top (e.g. the results directory's name)
  std::optional<ReportKind> kind;  ///< the pipeline, when known (spec.yaml); else detected per record
  int64_t limit = 0;         ///< read at most this many records (0 = all)
  bool thumbnails = true;    ///< false: no images (the boxes are drawn on a blank frame)
  int thumb_side = 480;      ///< longer side of a thumbnail, pixels
  int threads = 0;           ///< thumbnail threads (0 = the hardware's)
  /// Scores one record against the ground truth (`--truth`); null = no truth.
  std::function<std::optional<SampleEval>(const nlohmann::ordered_json&)> eval;
  /// The overall evaluation, called once after the last record:
  /// {"rows": [[label, value], ...]} as the page shows it.
  std::function<nlohmann::ordered_json()> eval_summary;
};

/// What was written.
struct ReportCounts {
  ReportKind kind = ReportKind::kGrounding;
  int64_t samples = 0;                 ///< records on the page
  int64_t unreadable = 0;              ///< lines that are not a JSON object (skipped)
  std::vector<int64_t> unreadable_lines;  ///< the first 20 of them
  ThumbnailCounts thumbnails;
  std::string thumbs_dir;              ///< "" when thumbnails are off
  /// Human-readable lines for stderr.
  std::string ToText() const;
};

/// Writes the page. Throws SetupError (leaving no page and no temporary)
/// when the input cannot be read or the page cannot be written.
ReportCounts WriteReport(const ReportRequest& request);

}  // namespace groundcap

#endif  // GROUNDCAP_REPORT_WRITER_H_
