// groundcap export: results -> a trainer's or review tool's format
// (export/export_writer.h), with the summary of what was left out on
// stderr; groundcap import-review: corrected Label Studio tasks -> records.
#include <cstdio>
#include <sstream>

#include "boxes/box_format.h"
#include "cli/commands.h"
#include "export/export_writer.h"
#include "export/label_studio.h"
#include "util/error.h"

namespace groundcap {

int CmdExport(const ExportOptions& options) {
  ExportRequest request;
  request.format = ExportFormatFromName(options.to);  // SetupError -> main
  request.input = options.input;
  request.output = options.out;
  request.filters.statuses.clear();
  std::stringstream statuses(options.status);
  for (std::string s; std::getline(statuses, s, ',');) {
    if (!s.empty()) request.filters.statuses.insert(s);
  }
  if (request.filters.statuses.empty()) throw SetupError("export: --status names no status");
  if (options.min_score >= 0) request.filters.min_score = options.min_score;
  request.filters.drop_unlocated = options.drop_unlocated;
  request.filters.min_box_size = options.min_box_size;
  request.filters.verified_only = options.verified_only;
  request.image_root = options.image_root;
  request.data_root = options.data_root;
  request.check_images = !options.no_image_check;
  Result<BoxFormat> student = BoxFormatFromName(options.student);
  if (!student) throw SetupError("export: --student: " + student.error().message);
  request.student.format = *student;
  request.student.min_pixels = options.min_pixels;
  request.student.max_pixels = options.max_pixels;
  ExportCounts counts = RunExport(request);
  std::fputs(counts.ToText(ExportFormatName(request.format)).c_str(), stderr);
  std::fprintf(stderr, "  written to %s (left out: %s)\n", options.out.c_str(), ExportSkippedPath(options.out).c_str());
  const int64_t bad = counts.records_unusable + counts.records_missing_image + counts.records_outside_image_root;
  return bad > 0 ? kExitSomeFailed : kExitOk;
}

int CmdImportReview(const ImportReviewOptions& options) {
  ImportReviewRequest request{options.label_studio_export, options.results, options.out};
  ReviewCounts counts = RunImportReview(request);
  std::fputs(counts.ToText().c_str(), stderr);
  std::fprintf(stderr, "  written to %s\n", options.out.c_str());
  return kExitOk;
}

}  // namespace groundcap
