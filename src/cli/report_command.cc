// groundcap report: the review page of a results directory (report/),
// with the image root and pipeline read from its spec.yaml and, with
// --truth, every record scored by the streaming evaluator (sim/eval.h).
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/core.h>

#include "cli/commands.h"
#include "report/report_writer.h"
#include "sim/eval.h"
#include "spec/spec.h"
#include "util/error.h"
#include "util/log.h"

namespace groundcap {
namespace {

namespace fs = std::filesystem;

std::string Ratio(int64_t n, int64_t d) { return d ? fmt::format("{:.3f}", static_cast<double>(n) / d) : "-"; }

/// The evaluation as the page's summary shows it: label / value rows.
nlohmann::ordered_json EvalRows(const EvalReport& r) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  auto row = [&](std::string label, std::string value) { rows.push_back({std::move(label), std::move(value)}); };
  const GroundingScore& g = r.grounding;
  if (g.records > 0) {
    row(fmt::format("accuracy (best box, IoU \u2265 {})", r.iou_threshold), Ratio(g.hits, g.expressions));
    row("recall@1", Ratio(g.recall_at_1, g.objects));
    row("recall (any box)", Ratio(g.recall_any, g.objects));
    row("mean IoU of the best box", fmt::format("{:.3f}", g.mean_iou()));
    row("truth expressions scored", std::to_string(g.expressions));
    row("expressions with no box", std::to_string(g.missing));
    row("extra boxes", std::to_string(g.extra));
    if (g.has_verified) {
      row("box precision, all / verified",
          Ratio(g.boxes_all.correct, g.boxes_all.boxes) + " / " + Ratio(g.boxes_verified.correct, g.boxes_verified.boxes));
    }
  }
  const RegionScore& rc = r.regions;
  if (rc.records > 0) {
    row("regions scored", std::to_string(rc.regions));
    row("colour and shape right", Ratio(rc.both_ok, rc.regions));
    row("colour right", Ratio(rc.color_ok, rc.regions));
    row("shape right", Ratio(rc.shape_ok, rc.regions));
    row(fmt::format("regions on a truth object (IoU \u2265 {})", r.iou_threshold), Ratio(rc.matched, rc.regions));
  }
  row("records without truth", std::to_string(r.images_without_truth));
  return rows;
}

/// The truth file, parsed; SetupError naming the file and line.
std::vector<TruthImage> LoadTruth(const std::string& path) {
  Result<std::vector<nlohmann::json>> records = ReadJsonl(path);
  if (!records) throw SetupError("--truth: " + records.error().message);
  std::vector<TruthImage> truth;
  for (size_t i = 0; i < records->size(); ++i) {
    Result<TruthImage> t = ParseTruthRecord((*records)[i]);
    if (!t) throw SetupError(fmt::format("--truth: {}:{}: {}", path, i + 1, t.error().message));
    truth.push_back(std::move(*t));
  }
  return truth;
}

}  // namespace

int CmdReport(const ReportOptions& options) {
  ReportRequest request;
  fs::path input = options.results;
  fs::path dir;
  if (fs::is_directory(input)) {
    dir = input;
    request.annotations = (input / "annotations.jsonl").string();
    if (!fs::exists(request.annotations)) {
      throw SetupError(fmt::format("{} has no annotations.jsonl: is it a results directory?", input.string()));
    }
  } else if (fs::is_regular_file(input)) {
    dir = input.parent_path().empty() ? fs::path(".") : input.parent_path();
    request.annotations = input.string();
  } else {
    throw SetupError(fmt::format("{} does not exist (give a results directory or its annotations.jsonl)",
                                 input.string()));
  }
  if (fs::exists(dir / "run_summary.json")) request.run_summary = (dir / "run_summary.json").string();
  request.results_dir = dir.string();
  request.title = fs::absolute(dir).lexically_normal().filename().string();
  request.out = options.out.empty() ? (dir / "report.html").string() : options.out;
  std::error_code ec;
  if (fs::equivalent(request.out, request.annotations, ec)) {
    throw SetupError(fmt::format("--out {} is the results file itself", request.out));
  }
  request.limit = options.limit;
  request.thumbnails = !options.no_thumbnails;

  // The image root and pipeline from the run's resolved spec.
  if (fs::exists(dir / "spec.yaml")) {
    try {
      Spec spec = Spec::Load((dir / "spec.yaml").string(), {});
      const std::string p = spec.pipeline() + ".";
      request.image_root = spec.Str(p + "data.image_root");
      if (spec.pipeline() == kRegionCaption) {
        request.kind = ReportKind::kRegionCaption;
        request.image_key = spec.Str(p + "data.image_key");
      } else {
        request.kind = ReportKind::kGrounding;
      }
    } catch (const SetupError& e) {
      GC_WARN("report: {} not used ({}); image paths are taken as written", (dir / "spec.yaml").string(), e.what());
    }
  }
  if (!options.image_root.empty()) request.image_root = options.image_root;

  std::unique_ptr<Evaluator> evaluator;
  if (!options.truth.empty()) {
    evaluator = std::make_unique<Evaluator>(LoadTruth(options.truth), options.iou);
    request.eval = [&evaluator](const nlohmann::ordered_json& record) -> std::optional<SampleEval> {
      EvalReport one = evaluator->Add(nlohmann::json(record));
      if (one.images_without_truth > 0) return std::nullopt;
      SampleEval e;
      if (one.grounding.records > 0) {
        e.items = one.grounding.expressions;
        e.correct = one.grounding.hits;
        e.mean_iou = one.grounding.mean_iou();
      } else if (one.regions.records > 0) {
        e.items = one.regions.regions;
        e.correct = one.regions.both_ok;
      } else {
        return std::nullopt;
      }
      return e;
    };
    request.eval_summary = [&evaluator] {
      return nlohmann::ordered_json{{"rows", EvalRows(evaluator->total())}};
    };
  }

  ReportCounts counts = WriteReport(request);
  std::fputs(counts.ToText().c_str(), stderr);
  std::printf("%s\n", fs::absolute(request.out).lexically_normal().c_str());
  return counts.unreadable > 0 ? kExitSomeFailed : kExitOk;
}

}  // namespace groundcap
