// Streaming export of a results annotations.jsonl to a trainer's or a review
// tool's format (`groundcap export`). The input is read line by line; the
// output appears atomically (temporary file, fsync, rename) or not at all,
// with export_skipped.jsonl beside it listing everything left out and why.
// docs/formats.md, "Exports".
#ifndef GROUNDCAP_EXPORT_WRITER_H_
#define GROUNDCAP_EXPORT_WRITER_H_

#include <string>

#include "export/export_record.h"
#include "export/grounding_export.h"
#include "export/sft_export.h"

namespace groundcap {

/// Output formats of `groundcap export`.
enum class ExportFormat {
  kOdvg,           ///< ODVG grounding JSONL, one image per line
  kCoco,           ///< MDETR/GLIP COCO grounding JSON, one document
  kOdvgDetection,  ///< ODVG detection JSONL + label map JSON ("odvg_detection")
  kLlava,          ///< LLaVA conversation JSON array (boxes in --student's convention)
  kQwen25Vl,       ///< Qwen2.5-VL chat JSONL (pixels of the smart-resized input)
  kQwen3Vl,        ///< Qwen3-VL chat JSONL (0-1000)
  kInternVl,       ///< InternVL chat JSONL (<ref>/<box> on 0-1000)
  kGemini,         ///< Gemini tuning JSONL (box_2d [ymin, xmin, ymax, xmax] 0-1000)
  kLabelStudio,    ///< Label Studio tasks JSON with predictions + labeling config
  kDenseCaptions,  ///< Visual Genome region descriptions JSON ("vg_regions")
};

/// "odvg", "coco", "odvg_detection", "llava", "qwen2_5_vl", "qwen3_vl",
/// "internvl", "gemini", "label_studio", "vg_regions" -> the format; throws
/// SetupError naming the choices.
ExportFormat ExportFormatFromName(const std::string& name);
/// Inverse of ExportFormatFromName.
const char* ExportFormatName(ExportFormat format);
/// Every format name, for help texts.
std::vector<std::string> ExportFormatNames();

/// What to export and where.
struct ExportRequest {
  ExportFormat format = ExportFormat::kOdvg;
  std::string input;   ///< a results directory (its annotations.jsonl) or the JSONL file itself
  std::string output;  ///< file to write (replaced atomically)
  ExportFilters filters;  ///< `kinds` and, for odvg/coco, `drop_unlocated` are set from the format
  /// --image-root: written paths are relative to it, and images must lie
  /// under it. Empty: written paths are absolute.
  std::string image_root;
  /// Where relative `image_path`s of the records point: the run's
  /// `data.image_root` (read from RESULTS_DIR/spec.yaml when empty and
  /// present), else --image-root, else the working directory.
  std::string data_root;
  /// false: do not check that image files exist (paths are still rewritten).
  bool check_images = true;
  SftStudent student;  ///< llava: --student; the chat formats set it from the format
};

/// The annotations file `input` names: `input/annotations.jsonl` for a
/// directory, else `input` when it is a regular file. Throws SetupError when
/// neither exists.
std::string ResolveExportInput(const std::string& input);

/// The skipped list beside `output`: <dir of output>/export_skipped.jsonl.
std::string ExportSkippedPath(const std::string& output);
/// The side files: <output minus extension>_label_map.json (odvg_detection),
/// <output minus extension>_config.xml (label_studio).
std::string ExportSidePath(const std::string& output, const std::string& suffix);

/// Runs one export and returns its counts. Memory does not grow with the
/// input: line formats write each line as it is read; JSON documents stream
/// their arrays (COCO's `annotations` through an unlinked scratch file in the
/// output's directory); the label map holds one entry per category. Throws
/// SetupError (and leaves no output, nor a temporary) when the input cannot
/// be read, is the output itself, or the output cannot be written.
ExportCounts RunExport(const ExportRequest& request);

}  // namespace groundcap

#endif  // GROUNDCAP_EXPORT_WRITER_H_
