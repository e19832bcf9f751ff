// Streaming export of an image-grounding annotations.jsonl to ODVG JSONL or
// MDETR-style COCO grounding JSON (`groundcap export`). The input is read
// line by line; the output appears atomically (temporary file, fsync,
// rename) or not at all. docs/formats.md, "Exports".
#ifndef GROUNDCAP_EXPORT_WRITER_H_
#define GROUNDCAP_EXPORT_WRITER_H_

#include <string>

#include "export/grounding_export.h"

namespace groundcap {

/// Output formats of `groundcap export`.
enum class ExportFormat {
  kOdvg,  ///< ODVG grounding JSONL, one image per line
  kCoco,  ///< MDETR/GLIP COCO grounding JSON, one document
};

/// "odvg" / "coco" -> the format; throws SetupError naming the choices.
ExportFormat ExportFormatFromName(const std::string& name);
/// Inverse of ExportFormatFromName.
const char* ExportFormatName(ExportFormat format);

/// What to export and where.
struct ExportRequest {
  ExportFormat format = ExportFormat::kOdvg;
  std::string input;   ///< a results directory (its annotations.jsonl) or the JSONL file itself
  std::string output;  ///< file to write (replaced atomically)
};

/// The annotations file `input` names: `input/annotations.jsonl` for a
/// directory, else `input` when it is a regular file. Throws SetupError when
/// neither exists.
std::string ResolveExportInput(const std::string& input);

/// Runs one export and returns its counts. Memory does not grow with the
/// input: ODVG writes each line as it is read; COCO streams `images` into the
/// output's temporary file and `annotations` into an unlinked scratch file in
/// the output's directory, appended when the input ends (no record's JSON is
/// held). Throws SetupError (and leaves no output, nor a temporary) when the
/// input cannot be read, is the output itself, or the output cannot be written.
ExportCounts RunExport(const ExportRequest& request);

}  // namespace groundcap

#endif  // GROUNDCAP_EXPORT_WRITER_H_
