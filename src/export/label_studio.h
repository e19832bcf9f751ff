// Label Studio round trip: tasks with the teacher's boxes as pre-annotations
// (`predictions`), and folding a Label Studio export (the corrected tasks)
// back into groundcap records (`groundcap import-review`). Pure functions;
// export_writer.h and RunImportReview stream the files.
// docs/formats.md, "Label Studio".
#ifndef GROUNDCAP_LABEL_STUDIO_H_
#define GROUNDCAP_LABEL_STUDIO_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "export/grounding_export.h"

namespace groundcap {

/// The region id of a box in Label Studio: "e<k>b<j>" from the bbox_id
/// "<sample_id>:e<k>:b<j>" (the rectangle and its text share it), or
/// "r<n>" for region <n> of a region-caption record.
std::string LabelStudioRegionId(const std::string& bbox_id, const std::string& sample_id);

/// One task: {"data": {"image", "caption", "groundcap_sample_id", "width",
/// "height", "groundcap_ids"}, "predictions": [{"model_version": "groundcap", "score",
/// "result": [...]}]}; per box a `rectanglelabels` result (x, y, width,
/// height in percent of the upright image, label = the category) and a
/// `textarea` result with the same id holding the expression or caption.
nlohmann::ordered_json ToLabelStudioTask(const ExportImage& image);

/// The labeling config matching the tasks (Image, caption Text,
/// RectangleLabels with `categories`, a per-region TextArea), written beside
/// the export.
std::string LabelStudioConfig(const std::vector<std::string>& categories);

/// One reviewed region of a task (rectangle and text merged by id).
struct ReviewedRegion {
  std::string id;
  bool has_box = false;
  double x = 0, y = 0, width = 0, height = 0;  ///< percent of the upright image
  std::string label;                           ///< first rectanglelabels entry
  bool has_text = false;
  std::string text;                            ///< first textarea entry
};

/// The human's last (not cancelled) annotation of one task.
struct ReviewedTask {
  std::vector<ReviewedRegion> regions;
  /// Ids of the boxes the task showed (`data.groundcap_ids`): a box not
  /// shown (left out by the export's filters) is not deleted by its absence.
  std::set<std::string> shown;
};

/// What import-review changed and left alone.
struct ReviewCounts {
  int64_t tasks_read = 0;            ///< tasks in the Label Studio export
  int64_t tasks_without_annotation = 0;  ///< only predictions, never submitted
  int64_t tasks_unknown = 0;         ///< no groundcap_sample_id, or no record with it
  int64_t records_read = 0;
  int64_t records_reviewed = 0;
  int64_t boxes_kept = 0;            ///< unchanged (within 0.5 px): source stays teacher
  int64_t boxes_moved = 0;           ///< corrected: source human
  int64_t boxes_deleted = 0;         ///< removed by the reviewer (kept under review_deleted)
  int64_t boxes_added = 0;           ///< drawn by the reviewer
  int64_t boxes_unmatched = 0;       ///< drawn, but their text names no expression (review_unmatched)
  int64_t captions_changed = 0;      ///< region captions rewritten

  std::string ToText() const;
};

/// Streams a Label Studio JSON export file (an array of tasks, read one
/// task at a time) into sample_id -> reviewed task. Throws SetupError
/// naming the file and the byte or task index when it is not such an array.
std::map<std::string, ReviewedTask> ReadLabelStudioExport(const std::string& path, ReviewCounts* counts);

/// Folds one reviewed task into its record (either pipeline): moved boxes
/// get the new pixels and `source: "human"` (the teacher's in
/// `teacher_bbox`), unchanged boxes `source: "teacher"`, deleted ones move
/// to `review_deleted`, new ones are added with `source: "human"`; the
/// record gains `reviewed: true` and "human_review" in pipeline_steps.
void ApplyReview(const ReviewedTask& task, nlohmann::ordered_json* record, ReviewCounts* counts);

/// What `groundcap import-review` does.
struct ImportReviewRequest {
  std::string label_studio_export;  ///< the JSON file Label Studio exported
  std::string results;              ///< results directory or its annotations.jsonl
  std::string output;               ///< the merged annotations.jsonl (atomic)
};

/// Streams the results through ApplyReview into `output`. Records of tasks
/// not reviewed pass unchanged. Throws SetupError on unreadable inputs.
ReviewCounts RunImportReview(const ImportReviewRequest& request);

}  // namespace groundcap

#endif  // GROUNDCAP_LABEL_STUDIO_H_
