#include "sim/eval.h"

#include "cli/commands.h"

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace groundcap {
namespace {

using nlohmann::json;

std::vector<TruthImage> Truth() {
  // Two images: one with two objects named by distinct expressions, one with
  // two objects named by the same expression ("the cats").
  json a = json::parse(R"({"image_path": "images/a.jpg", "objects": [
      {"bbox": [0, 0, 100, 100], "color": "red", "shape": "circle", "expression": "a red circle"},
      {"bbox": [200, 0, 300, 100], "color": "blue", "shape": "square", "expression": "a small blue square"},
      {"bbox": [400, 400, 450, 450], "color": "pink", "shape": "star"}]})");
  json b = json::parse(R"({"image_path": "images/b.png", "objects": [
      {"bbox": [0, 0, 50, 50], "expression": "the cats"},
      {"bbox": [100, 100, 150, 150], "expression": "the cats"}]})");
  return {*ParseTruthRecord(a), *ParseTruthRecord(b)};
}

TEST(EvalTest, NormalisesExpressions) {
  EXPECT_EQ(NormalizeExpression("A small  Red circle."), "small red circle");
  EXPECT_EQ(NormalizeExpression("the cats"), "cats");
  EXPECT_EQ(NormalizeExpression("an orange"), "orange");
  EXPECT_EQ(NormalizeExpression("another cat"), "another cat");
  EXPECT_TRUE(CaptionNames("Two red circles on grey", "red", "circle"));
  EXPECT_TRUE(CaptionNames("a blue cross", "blue", "cross"));
  EXPECT_TRUE(CaptionNames("some crosses", "", "cross"));
  EXPECT_FALSE(CaptionNames("a reddish circle", "red", "circle"));
  EXPECT_FALSE(CaptionNames("a red square", "red", "circle"));
}

TEST(EvalTest, PerfectGroundingScoresOne) {
  json pred = json::parse(R"({"image_path": "images/a.jpg", "expressions": [
      {"text": "A red circle", "instances": [{"bbox": [0, 0, 100, 100], "score": 0.9}]},
      {"text": "a small blue square", "instances": [{"bbox": [200, 0, 300, 100], "score": 0.8}]}]})");
  EvalReport r = Evaluate({pred}, Truth());
  EXPECT_EQ(r.grounding.records, 1);
  EXPECT_EQ(r.grounding.expressions, 2);
  EXPECT_EQ(r.grounding.hits, 2);
  EXPECT_DOUBLE_EQ(r.grounding.accuracy(), 1.0);
  EXPECT_DOUBLE_EQ(r.grounding.mean_iou(), 1.0);
  EXPECT_EQ(r.grounding.recall_at_1, 2);
  EXPECT_EQ(r.grounding.recall_any, 2);
  EXPECT_EQ(r.grounding.missing, 0);
  EXPECT_EQ(r.grounding.extra, 0);
}

TEST(EvalTest, BestBoxDecidesAccuracyOtherBoxesCountForRecallAny) {
  // Red circle: the highest-score box is wrong, a lower one is right.
  // Blue square: missing. An expression not in the truth adds extras.
  json pred = json::parse(R"({"image_path": "a.jpg", "expressions": [
      {"text": "a red circle", "instances": [
          {"bbox": [0, 0, 100, 100], "score": 0.4},
          {"bbox": [500, 500, 600, 600], "score": 0.9}]},
      {"text": "a small blue square", "instances": []},
      {"text": "a green dog", "instances": [{"bbox": [1, 1, 5, 5], "score": 0.5}]}]})");
  EvalReport r = Evaluate({pred}, Truth());
  EXPECT_EQ(r.grounding.expressions, 2);
  EXPECT_EQ(r.grounding.hits, 0);
  EXPECT_EQ(r.grounding.recall_at_1, 0);
  EXPECT_EQ(r.grounding.recall_any, 1);
  EXPECT_EQ(r.grounding.missing, 1);
  EXPECT_EQ(r.grounding.extra, 2);  // the wrong red-circle box and the dog
  EXPECT_EQ(r.grounding.unmatched_expressions, 1);
  EXPECT_DOUBLE_EQ(r.grounding.mean_iou(), 0.0);
}

TEST(EvalTest, IouThresholdAndMultiObjectExpressions) {
  // 100x100 truth vs 100x80 prediction: IoU 0.8.
  json pred_a = json::parse(R"({"image_path": "images/a.jpg", "expressions": [
      {"text": "a red circle", "instances": [{"bbox": [0, 0, 100, 80], "score": 1}]}]})");
  // "the cats": one box on the second cat: accuracy hit, recall@1 for one of two.
  json pred_b = json::parse(R"({"image_path": "images/b.png", "expressions": [
      {"text": "The cats", "instances": [{"bbox": [100, 100, 150, 150]}, {"bbox": [0, 0, 50, 50]}]}]})");
  EvalReport r = Evaluate({pred_a, pred_b}, Truth(), 0.5);
  EXPECT_EQ(r.grounding.expressions, 3);  // red circle, blue square (missing), the cats
  EXPECT_EQ(r.grounding.hits, 2);
  EXPECT_NEAR(r.grounding.mean_iou(), (0.8 + 0 + 1.0) / 3, 1e-9);
  EXPECT_EQ(r.grounding.objects, 4);
  EXPECT_EQ(r.grounding.recall_at_1, 2);
  EXPECT_EQ(r.grounding.recall_any, 3);
  EXPECT_EQ(r.grounding.missing, 1);
  EvalReport strict = Evaluate({pred_a}, Truth(), 0.9);
  EXPECT_EQ(strict.grounding.hits, 0);
}

TEST(EvalTest, BoxPrecisionAndRecallBeforeAndAfterVerification) {
  // Red circle: a right box, a wrong-object box rejected by verification and
  // a background box that verification let through (score 0.6). Blue
  // square: a right box without verification fields (kept). The cats: one
  // kept box on the first cat, a rejected one on the second. The dog is not
  // in the truth: its box counts as extra, not in box precision.
  json pred_a = json::parse(R"({"image_path": "images/a.jpg", "expressions": [
      {"text": "a red circle", "instances": [
          {"bbox": [0, 0, 100, 100], "score": 0.9, "verified": true, "verify_score": 0.9},
          {"bbox": [200, 0, 300, 100], "score": 0.9, "verified": false, "verify_score": 0.2},
          {"bbox": [600, 600, 700, 700], "score": 0.9, "verified": true, "verify_score": 0.6}]},
      {"text": "a small blue square", "instances": [{"bbox": [200, 0, 300, 100], "score": 0.8}]},
      {"text": "a green dog", "instances": [{"bbox": [1, 1, 5, 5], "score": 0.5, "verified": true}]}]})");
  json pred_b = json::parse(R"({"image_path": "images/b.png", "expressions": [
      {"text": "the cats", "instances": [
          {"bbox": [0, 0, 50, 50], "verified": true, "verify_score": 0.95},
          {"bbox": [100, 100, 150, 150], "verified": false, "verify_score": 0.4}]}]})");
  EvalReport r = Evaluate({pred_a, pred_b}, Truth());
  const GroundingScore& g = r.grounding;
  EXPECT_EQ(g.objects, 4);
  EXPECT_EQ(g.boxes_all.boxes, 6);
  EXPECT_EQ(g.boxes_all.correct, 4);
  EXPECT_EQ(g.boxes_all.objects_hit, 4);
  EXPECT_EQ(g.boxes_verified.boxes, 4);
  EXPECT_EQ(g.boxes_verified.correct, 3);
  EXPECT_EQ(g.boxes_verified.objects_hit, 3);
  ASSERT_TRUE(g.has_verify_score);
  EXPECT_EQ(g.verify_curve[0].boxes, 4) << "threshold 0 keeps what verification kept";
  EXPECT_EQ(g.verify_curve[6].boxes, 4) << "a score of 0.6 passes the 0.6 threshold";
  EXPECT_EQ(g.verify_curve[7].boxes, 3);
  EXPECT_EQ(g.verify_curve[7].correct, 3);
  EXPECT_EQ(g.verify_curve[10].boxes, 1) << "only the box without a verify_score";
  json j = r.ToJson()["grounding"]["boxes"];
  EXPECT_NEAR(j["all"]["precision"].get<double>(), 4.0 / 6, 1e-9);
  EXPECT_DOUBLE_EQ(j["all"]["recall"].get<double>(), 1.0);
  EXPECT_EQ(j["all"]["count"], 6);
  EXPECT_DOUBLE_EQ(j["verified"]["precision"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(j["verified"]["recall"].get<double>(), 0.75);
  ASSERT_EQ(j["verify_score_curve"].size(), 11u);
  EXPECT_DOUBLE_EQ(j["verify_score_curve"][7]["threshold"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(j["verify_score_curve"][7]["precision"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(j["verify_score_curve"][7]["recall"].get<double>(), 0.75);
  std::string table = r.Table();
  EXPECT_NE(table.find("boxes, all"), std::string::npos) << table;
  EXPECT_NE(table.find("boxes, kept (verified)      precision 0.750  recall 0.750  (4 boxes)"), std::string::npos)
      << table;
}

TEST(EvalTest, BoxScoresWithoutVerification) {
  // No verification fields: the kept boxes are all boxes, no curve; no box
  // at all gives a null precision, not a made-up number.
  json pred = json::parse(R"({"image_path": "images/a.jpg", "expressions": [
      {"text": "a red circle", "instances": [{"bbox": [0, 0, 100, 100]}, {"bbox": [300, 300, 400, 400]}]}]})");
  EvalReport r = Evaluate({pred}, Truth());
  EXPECT_FALSE(r.grounding.has_verify_score);
  EXPECT_EQ(r.grounding.boxes_verified.boxes, 2);
  EXPECT_EQ(r.grounding.boxes_verified.correct, 1);
  json j = r.ToJson()["grounding"]["boxes"];
  EXPECT_DOUBLE_EQ(j["all"]["precision"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["all"]["recall"].get<double>(), 0.5);
  EXPECT_EQ(j["all"], j["verified"]);
  EXPECT_FALSE(j.contains("verify_score_curve"));
  json none = json::parse(R"({"image_path": "images/a.jpg", "expressions": []})");
  EXPECT_TRUE(Evaluate({none}, Truth()).ToJson()["grounding"]["boxes"]["all"]["precision"].is_null());
}

TEST(EvalTest, FailedRecordsAndUnknownImages) {
  json failed = json::parse(R"({"image_path": "images/a.jpg", "caption": "x", "status": "failed",
                                "error": {"kind": "timeout"}})");
  json unknown = json::parse(R"({"image_path": "images/zzz.jpg", "expressions": []})");
  EvalReport r = Evaluate({failed, unknown}, Truth());
  EXPECT_EQ(r.grounding.records, 1);
  EXPECT_EQ(r.grounding.failed, 1);
  EXPECT_EQ(r.grounding.expressions, 2);
  EXPECT_EQ(r.grounding.hits, 0);
  EXPECT_EQ(r.grounding.missing, 0) << "failures are counted as failed, not missing";
  EXPECT_EQ(r.images_without_truth, 1);
  EXPECT_NE(r.Table().find("1 failed"), std::string::npos);
  EXPECT_EQ(r.ToJson()["grounding"]["failed"], 1);
}

TEST(EvalTest, RegionCaptionsNameColourAndShape) {
  json structured = json::parse(R"({"image": "images/a.jpg", "regions": [
      {"region_id": 1, "bbox": [0, 0, 100, 100], "caption": "A red circle."},
      {"region_id": 2, "bbox": [200, 0, 300, 100], "caption": "a blue circle"},
      {"region_id": 3, "bbox": [400, 400, 450, 450], "caption": "a pink star"},
      {"region_id": 4, "bbox": [600, 600, 700, 700], "caption": "nothing"}]})");
  EvalReport r = Evaluate({structured}, Truth());
  EXPECT_EQ(r.regions.regions, 4);
  EXPECT_EQ(r.regions.matched, 3);
  EXPECT_EQ(r.regions.color_ok, 3);
  EXPECT_EQ(r.regions.shape_ok, 2);
  EXPECT_EQ(r.regions.both_ok, 2);
  EXPECT_DOUBLE_EQ(r.regions.accuracy(), 0.5);
  EXPECT_EQ(r.grounding.records, 0);
}

TEST(EvalTest, DataflowAnswersAreSplitPerRegion) {
  json dataflow = json::parse(R"({"image": "images/a.jpg", "bbox": [[0, 0, 100, 100], [200, 0, 100, 100]],
      "answer": "<region1>: a red circle. <region2>: a blue square on grey."})");
  EvalReport r = Evaluate({dataflow}, Truth());
  EXPECT_EQ(r.regions.regions, 2);
  EXPECT_EQ(r.regions.both_ok, 2);
}

TEST(EvalTest, TruthRecordsAreValidated) {
  EXPECT_FALSE(ParseTruthRecord(json::parse(R"({"objects": []})")));
  EXPECT_FALSE(ParseTruthRecord(json::parse(R"({"image_path": "a", "objects": [{"bbox": [1, 2, 3]}]})")));
  EXPECT_TRUE(ParseTruthRecord(json::parse(R"({"image_path": "a", "objects": []})")));
}

TEST(EvalTest, CommandWritesJsonReport) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("groundcap_eval_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "gt.jsonl") << R"({"image_path": "a.jpg", "objects": [{"bbox": [0, 0, 10, 10], "expression": "a dot"}]})"
                                  << "\n\n";
  std::ofstream(dir / "pred.jsonl")
      << R"({"image_path": "a.jpg", "status": "ok", "expressions": [{"text": "A dot", "instances": [{"bbox": [0, 0, 10, 9], "score": 0.5}]}]})"
      << "\n";
  EvalOptions opts;
  opts.pred = (dir / "pred.jsonl").string();
  opts.gt = (dir / "gt.jsonl").string();
  opts.json_out = (dir / "report.json").string();
  ASSERT_EQ(CmdEval(opts), kExitOk);
  json report = json::parse(std::ifstream(dir / "report.json"));
  EXPECT_DOUBLE_EQ(report["grounding"]["accuracy"].get<double>(), 1.0);
  EXPECT_NEAR(report["grounding"]["mean_iou"].get<double>(), 0.9, 1e-9);
  opts.gt = (dir / "missing.jsonl").string();
  EXPECT_EQ(CmdEval(opts), kExitSetupError);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace groundcap
