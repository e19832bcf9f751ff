// Region captioning (autolabel_type: region_caption): boxes -> marks drawn on
// the image -> one description per region, as a StepLogic run by the engine.
//
// Two modes: `dataflow` reproduces DataFlow-MM's ImageRegionCaptionPipeline
// record for record (prompt, sampling, fields); `structured` (default) draws
// distinct numbered marks, names regions in the prompt exactly as drawn, asks
// for JSON with one caption per region id, checks every caption and re-asks
// only the regions that are missing or bad. See docs/formats.md
// "Region captioning".
#ifndef GROUNDCAP_REGION_CAPTION_H_
#define GROUNDCAP_REGION_CAPTION_H_

#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/pipeline.h"
#include "engine/step.h"
#include "image/image.h"
#include "region_caption/region_boxes.h"
#include "region_caption/region_quality.h"
#include "region_caption/region_reply.h"
#include "spec/spec.h"
#include "teacher/teacher.h"
#include "util/error.h"

namespace groundcap {

enum class RegionCaptionMode { kStructured, kDataflow };
enum class ProposalSource { kContours, kNone };

/// Everything the step needs, resolved from the spec (or built by tests).
struct RegionCaptionOptions {
  /// Marked images go to results_dir/region_caption_marks/; output records
  /// name them relative to results_dir (the folder can be moved as a whole).
  std::string results_dir;
  std::string image_root;         ///< prefix for relative image paths ("" = as given)
  std::string image_key = "image";
  std::string bbox_key = "bbox";
  RegionBoxFormat bbox_format = RegionBoxFormat::kXywh;
  RegionBoxUnits bbox_units = RegionBoxUnits::kPixels;
  int max_boxes = 10;
  OverflowPolicy overflow = OverflowPolicy::kInputOrder;
  ProposalSource proposals = ProposalSource::kContours;
  /// A record without boxes whose proposals find nothing (a plain wall, a
  /// blank scan) is captioned as one whole-image region instead of failing
  /// (DataFlow-MM drops it silently).
  bool whole_image_fallback = true;
  RegionCaptionMode mode = RegionCaptionMode::kStructured;
  int max_reasks = 2;             ///< structured: extra requests for missing/bad regions
  bool crop_context = false;      ///< structured: also send one crop per region
  double crop_margin = 0.25;      ///< crop margin, fraction of the box side, each side
  std::string marks_encoding = "jpeg";  ///< written marked image: jpeg | png
  int marks_jpeg_quality = 90;
  PrepareOptions prepare;         ///< how the marked image (and crops) are sent
  ImageLimits limits;
  /// Flags that make a record "flagged" (region_quality.h; not in fingerprints).
  std::set<std::string> blocking_flags = DefaultBlockingRegionFlags();
};

/// Reads region_caption.* (throws SetupError on an invalid combination).
RegionCaptionOptions RegionCaptionOptionsFromSpec(const Spec& spec);

/// The step itself (MakeRegionCaptionSteps wraps it in a StepPlan). `teacher`
/// must outlive the step; only its fingerprint is read.
std::unique_ptr<StepLogic> MakeRegionCaptionLogic(RegionCaptionOptions options,
                                                  const Teacher& teacher);

// ---- Pure helpers of structured mode (exposed for tests and docs) ----

/// The prompt naming `ids` (1-based, as drawn) with their boxes on a 0-1000
/// grid (`grid[i]` belongs to `ids[i]`). `total` is the number of regions
/// drawn; when ids.size() < total this is a re-ask. `crops` says one crop per
/// listed region follows the marked image. Reads well for one region.
std::string StructuredRegionPrompt(const std::vector<int>& ids,
                                   const std::vector<std::array<int, 4>>& grid, int total,
                                   bool crops);


/// region_caption: one step, step_0_region_caption.
std::vector<StepPlan> MakeRegionCaptionSteps(const Spec& spec, const Teacher& teacher);

}  // namespace groundcap

#endif  // GROUNDCAP_REGION_CAPTION_H_
