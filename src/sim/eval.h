// Scoring a teacher's output against ground truth (`groundcap eval`).
// Grounding: REC-style accuracy of the best box per expression, recall over
// ground-truth objects, mean IoU, missing / extra / failed counts, and the
// precision and recall of the boxes kept before and after verification. Region
// captioning: the share of regions whose caption names the right colour and
// shape. The truth format is docs/formats.md "Synthetic scenes and ground
// truth"; users can write their own small gold set in it.
#ifndef GROUNDCAP_EVAL_H_
#define GROUNDCAP_EVAL_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/geometry.h"

namespace groundcap {

struct TruthObject {
  Box box;                 ///< upright original pixels, xyxy
  std::string color;       ///< optional (region-caption scoring)
  std::string shape;       ///< optional (region-caption scoring)
  std::string expression;  ///< the text that names it; "" = not named
};

struct TruthImage {
  std::string image_path;
  std::vector<TruthObject> objects;
};

/// Parses one truth.jsonl record. Error kInvalidInput naming the field.
Result<TruthImage> ParseTruthRecord(const nlohmann::json& record);

/// Lower case, punctuation dropped, spaces collapsed, leading article
/// (a/an/the) removed: "A small  Red circle." -> "small red circle".
std::string NormalizeExpression(std::string_view text);

/// True when `caption` names `color` and `shape` as words (plural allowed).
bool CaptionNames(std::string_view caption, std::string_view color, std::string_view shape);

/// Precision and recall of one set of kept predicted boxes (grounding):
/// every box of an expression that is in the truth, or only the boxes that
/// survived verification. Recall's denominator is GroundingScore::objects.
struct BoxSetScore {
  int64_t boxes = 0;        ///< kept boxes of expressions present in the truth
  int64_t correct = 0;      ///< of those, at IoU >= threshold with an object of their expression
  int64_t objects_hit = 0;  ///< truth objects hit by a kept box of their expression
  /// correct / boxes; nullopt when no box was kept.
  std::optional<double> precision() const {
    return boxes ? std::optional<double>(static_cast<double>(correct) / boxes) : std::nullopt;
  }
};

/// Thresholds of the verify_score curve: 0, 0.1, ..., 1.0.
inline constexpr int kVerifyCurvePoints = 11;

struct GroundingScore {
  int64_t records = 0;        ///< prediction records with expressions (failed included)
  int64_t failed = 0;         ///< records with status "failed"
  int64_t expressions = 0;    ///< ground-truth expressions scored
  int64_t hits = 0;           ///< best box at IoU >= threshold
  int64_t objects = 0;        ///< ground-truth objects named by an expression
  int64_t recall_at_1 = 0;    ///< objects hit by their expression's best box
  int64_t recall_any = 0;     ///< objects hit by any box of their expression
  double iou_sum = 0;         ///< sum over expressions of the best box's IoU (0 if none)
  int64_t missing = 0;        ///< expressions of successful records with no box
  int64_t extra = 0;          ///< predicted boxes hitting no object of their expression
  int64_t unmatched_expressions = 0;  ///< predicted expressions absent from the truth
  BoxSetScore boxes_all;      ///< every predicted box of a matched expression
  BoxSetScore boxes_verified; ///< the boxes whose instance is not `verified: false`
  /// Boxes with verified != false and verify_score >= i/10 (an instance
  /// without verify_score is kept at every threshold); only meaningful when
  /// has_verify_score.
  std::array<BoxSetScore, kVerifyCurvePoints> verify_curve{};
  bool has_verify_score = false;  ///< some instance carried a numeric verify_score
  bool has_verified = false;      ///< some instance carried a boolean verified
  double accuracy() const { return expressions ? static_cast<double>(hits) / expressions : 0; }
  double mean_iou() const { return expressions ? iou_sum / expressions : 0; }
};

struct RegionScore {
  int64_t records = 0;
  int64_t failed = 0;
  int64_t regions = 0;        ///< predicted regions with a caption
  int64_t matched = 0;        ///< regions matched to a truth object at IoU >= threshold
  int64_t color_ok = 0;
  int64_t shape_ok = 0;
  int64_t both_ok = 0;
  double accuracy() const { return regions ? static_cast<double>(both_ok) / regions : 0; }
};

struct EvalReport {
  double iou_threshold = 0.5;
  GroundingScore grounding;
  RegionScore regions;
  int64_t images_without_truth = 0;  ///< prediction records whose image is not in the truth
  nlohmann::ordered_json ToJson() const;
  /// Human-readable table (stdout of `groundcap eval`).
  std::string Table() const;
};

/// Scores prediction records (grounding output with expressions[].instances[],
/// region-caption output with regions[] or DataFlow's answer + bbox) against
/// the truth. Pure.
EvalReport Evaluate(const std::vector<nlohmann::json>& predictions, const std::vector<TruthImage>& truth,
                    double iou_threshold = 0.5);

/// Streaming form of Evaluate for callers that see records one at a time
/// (`groundcap report --truth`): the truth is held, the records are not.
class TruthIndex;  ///< truth lookup by image path (eval.cc)
class Evaluator {
 public:
  explicit Evaluator(std::vector<TruthImage> truth, double iou_threshold = 0.5);
  ~Evaluator();
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;
  /// Scores one prediction record: returns its own report (zero counts but
  /// images_without_truth = 1 when its image has no truth) and adds it to
  /// total(), which ends equal to Evaluate over every record added.
  EvalReport Add(const nlohmann::json& record);
  const EvalReport& total() const { return total_; }

 private:
  std::vector<TruthImage> truth_;
  std::unique_ptr<TruthIndex> index_;
  EvalReport total_;
};

/// Reads a JSONL file (blank lines skipped). Error kInvalidInput with file:line.
Result<std::vector<nlohmann::json>> ReadJsonl(const std::string& path);

}  // namespace groundcap

#endif  // GROUNDCAP_EVAL_H_
