// groundcap export: image-grounding results -> ODVG / MDETR-COCO
// (export/export_writer.h), with the summary of what was left out on stderr.
#include <cstdio>

#include "cli/commands.h"
#include "export/export_writer.h"
#include "util/error.h"

namespace groundcap {

int CmdExport(const ExportOptions& options) {
  ExportRequest request;
  request.format = ExportFormatFromName(options.to);  // SetupError -> main
  request.input = options.input;
  request.output = options.out;
  ExportCounts counts = RunExport(request);
  std::fputs(counts.ToText(ExportFormatName(request.format)).c_str(), stderr);
  std::fprintf(stderr, "  written to %s\n", options.out.c_str());
  return counts.records_unusable > 0 ? kExitSomeFailed : kExitOk;
}

}  // namespace groundcap
