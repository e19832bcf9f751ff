#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "util/error.h"

namespace groundcap {

int RunCli(int argc, char** argv) {
  CLI::App app{
      "groundcap: grounded training data from vision-language teachers.\n"
      "Image grounding (caption -> referring expressions -> boxes) and region\n"
      "captioning (boxes -> numbered marks -> one description per region),\n"
      "resumable, concurrent and exact about coordinates."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "groundcap 0.1.0");

  // generate
  std::string spec_path;
  std::vector<std::string> overrides;
  CLI::App* gen = app.add_subcommand(
      "generate",
      "Run the pipeline named by the spec's autolabel_type (image_grounding | region_caption).\n"
      "Every spec field can be overridden with dot notation, e.g.\n"
      "  groundcap generate -e spec.yaml results_dir=/out image_grounding.workflow.max_workers=16\n"
      "  groundcap generate -e spec.yaml 'image_grounding.workflow.steps=[\"0\"]'\n"
      "Re-running the same command resumes. Exit status: 0 all samples succeeded, 1 some\n"
      "failed, 2 setup error, 3 stopped early (signal, quota, auth; resumable).");
  gen->add_option("-e,--experiment_spec", spec_path, "YAML spec file (see default_specs)")->required();
  gen->add_option("overrides", overrides, "key=value overrides in dot notation");
  GenerateFlags gen_flags;
  gen->add_option("--limit", gen_flags.limit,
                  "a pilot on the first N input records (workflow.limit); a later run without it resumes")
      ->check(CLI::NonNegativeNumber);

  // plan
  PlanOptions pl;
  CLI::App* plan_cmd = app.add_subcommand(
      "plan",
      "What `generate` would send and cost, sending nothing: samples still to do (resume state\n"
      "respected), images that would be refused, requests, input tokens (text and image) and\n"
      "output tokens per step, and the cost from the price table.");
  plan_cmd->add_option("-e,--experiment_spec", pl.spec_path, "YAML spec file")->required();
  plan_cmd->add_option("overrides", pl.overrides, "key=value overrides in dot notation");
  plan_cmd->add_option("--limit", pl.limit, "plan a pilot on the first N input records")
      ->check(CLI::NonNegativeNumber);
  plan_cmd->add_option("--prices", pl.prices, "price table YAML instead of the built-in one");
  plan_cmd->add_flag("--json", pl.json, "print the plan as JSON");

  // default_specs
  std::string spec_type = "image_grounding";
  CLI::App* defs = app.add_subcommand("default_specs", "Print a complete, commented default spec.");
  defs->add_option("--type", spec_type, "image_grounding | region_caption")
      ->check(CLI::IsMember({"image_grounding", "region_caption"}))
      ->capture_default_str();
  // TAO passes results_dir=... module_name=...; accept and ignore them.
  std::vector<std::string> defs_extra;
  defs->add_option("extra", defs_extra, "ignored key=value arguments (TAO compatibility)");

  // parse-reply
  ParseReplyOptions pr;
  CLI::App* parse = app.add_subcommand(
      "parse-reply",
      "Read boxes out of a teacher reply and print them in original-image pixels as JSON:\n"
      "{\"boxes\": [{\"bbox\": [x1,y1,x2,y2], \"label\": ..., \"score\": ...}], \"diagnostics\": [...]}");
  parse->add_option("--format", pr.format, "box format name, or auto (with --model)")->capture_default_str();
  parse->add_option("--model", pr.model, "model name, for --format auto");
  parse->add_option("--image-size", pr.image_size, "WxH of the upright original image")->required();
  parse->add_option("--input-size", pr.input_size, "WxH of the image the model received (qwen2_5_vl, xyxy_pixels)");
  parse->add_option("--min-size", pr.min_size, "drop boxes smaller than this many pixels")->capture_default_str();
  parse->add_option("--dedupe-iou", pr.dedupe_iou, "drop same-label boxes overlapping more than this IoU (0 = off)")
      ->capture_default_str();
  parse->add_option("--range-tolerance", pr.range_tolerance,
                    "clamp coordinates up to this fraction of the format's range outside it; drop boxes beyond")
      ->capture_default_str();
  parse->add_option("file", pr.file, "reply file, - for stdin")->capture_default_str();

  // serve-sim
  ServeSimOptions ss;
  CLI::App* sim = app.add_subcommand(
      "serve-sim",
      "Serve the simulated teacher (OpenAI-compatible /v1/chat/completions and Gemini\n"
      "generateContent) on loopback. It looks at the pixels it is sent.");
  sim->add_option("--host", ss.host, "address to bind")->capture_default_str();
  sim->add_option("--port", ss.port, "port (0 = a free port, printed on stdout)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  sim->add_option("--imitate", ss.imitate, "model family whose box convention to reply in")->capture_default_str();
  sim->add_option("--faults", ss.faults, "fault injection, e.g. 'rate=0.2,kinds=429|500|drop,quota_after=100'");
  sim->add_option("--latency-ms", ss.latency_ms, "added latency per reply")->capture_default_str();
  sim->add_option("--noise", ss.noise, "0..1: box jitter, missed objects, shape confusions")->capture_default_str();
  sim->add_option("--threads", ss.threads, "server threads")->capture_default_str();
  sim->add_option("--seed", ss.seed, "random seed for noise and faults")->capture_default_str();

  // synth
  SynthOptions sy;
  CLI::App* synth = app.add_subcommand(
      "synth", "Write synthetic scenes with ground truth: images/, input.jsonl (captions),\ntruth.jsonl (boxes, colours, shapes) and regions.jsonl (region-caption input).");
  synth->add_option("--out", sy.out, "output directory")->required();
  synth->add_option("--count", sy.count, "number of images")->capture_default_str();
  synth->add_option("--seed", sy.seed, "random seed")->capture_default_str();

  // demo
  DemoOptions dm;
  CLI::App* demo = app.add_subcommand(
      "demo",
      "The whole job with no API key: synthetic scenes, the simulated teacher on loopback,\n"
      "image grounding, region captioning and evaluation.");
  demo->add_option("--out", dm.out, "output directory")->capture_default_str();
  demo->add_option("--count", dm.count, "number of synthetic images")->capture_default_str();
  demo->add_option("--seed", dm.seed, "random seed")->capture_default_str();
  demo->add_option("--imitate", dm.imitate, "model family the simulated teacher imitates")->capture_default_str();
  demo->add_option("--max-pixels", dm.max_pixels, "pixel budget of the images sent (0 = the spec default)");
  demo->add_flag("--verify", dm.verify, "add the verification step (a crop of every box is checked)");
  demo->add_option("--noise", dm.noise, "simulated teacher noise 0..1 (box jitter, misses, confusions)")
      ->capture_default_str();

  // eval
  EvalOptions ev;
  CLI::App* eval = app.add_subcommand(
      "eval", "Score predictions (grounding or region captions) against a ground-truth JSONL.");
  eval->add_option("--pred", ev.pred, "annotations.jsonl from generate")->required();
  eval->add_option("--gt", ev.gt, "ground-truth JSONL (docs/formats.md)")->required();
  eval->add_option("--json", ev.json_out, "also write the report as JSON to this file");
  eval->add_option("--iou", ev.iou, "IoU threshold for a hit")->capture_default_str();

  // export
  ExportOptions ex;
  CLI::App* exp = app.add_subcommand(
      "export",
      "Convert results to a trainer's or a review tool's format (docs/formats.md, \"Exports\"):\n"
      "  odvg, coco           image grounding -> ODVG grounding JSONL / MDETR-GLIP COCO grounding JSON\n"
      "  odvg_detection       either pipeline -> ODVG detection JSONL + <out>_label_map.json\n"
      "  llava                either pipeline -> LLaVA conversations JSON (boxes as --student writes them)\n"
      "  qwen2_5_vl, qwen3_vl, internvl, gemini   chat/tuning JSONL in that family's box convention\n"
      "  label_studio         tasks JSON with predictions + <out>_config.xml (fix them, then import-review)\n"
      "  vg_regions           region captions -> Visual Genome region descriptions JSON\n"
      "Only ok records and boxes not rejected by verification go out; the summary on stderr counts\n"
      "what was left out and export_skipped.jsonl beside the output lists it with reasons.\n"
      "Exit status: 0; 1 when records were unusable or their images missing; 2 setup error.");
  exp->add_option("--to", ex.to, "output format")->required();
  exp->add_option("input", ex.input, "results directory or its annotations.jsonl")->required();
  exp->add_option("--out", ex.out, "output file")->required();
  exp->add_option("--status", ex.status, "record statuses to export, comma-separated (ok, flagged, ...)")
      ->capture_default_str();
  exp->add_option("--min-score", ex.min_score, "leave out boxes whose score is below this");
  exp->add_flag("--drop-unlocated", ex.drop_unlocated,
                "leave out expressions with no span in the caption (always for odvg/coco)");
  exp->add_option("--min-box-size", ex.min_box_size, "leave out boxes narrower or lower than this many pixels");
  exp->add_flag("--verified-only", ex.verified_only, "only boxes the verification pass accepted");
  exp->add_option("--image-root", ex.image_root,
                  "write image paths relative to this directory (images outside it are left out); "
                  "default: absolute paths");
  exp->add_option("--data-root", ex.data_root,
                  "where the records' relative image paths point (default: the run's data.image_root "
                  "from RESULTS_DIR/spec.yaml, else --image-root, else the working directory)");
  exp->add_flag("--no-image-check", ex.no_image_check, "do not check that image files exist and are still the size their records say");
  exp->add_option("--student", ex.student, "llava: box convention of the answers (a box format name)")
      ->capture_default_str();
  exp->add_option("--min-pixels", ex.min_pixels, "qwen2_5_vl: the student processor's min_pixels")
      ->capture_default_str();
  exp->add_option("--max-pixels", ex.max_pixels, "qwen2_5_vl: the student processor's max_pixels")
      ->capture_default_str();

  // import-review
  ImportReviewOptions ir;
  CLI::App* review = app.add_subcommand(
      "import-review",
      "Fold a Label Studio export (tasks from `export --to label_studio`, corrected by hand) back\n"
      "into groundcap records: corrected boxes get source: human, unchanged ones source: teacher.");
  review->add_option("label_studio_export", ir.label_studio_export, "the JSON Label Studio exported")->required();
  review->add_option("results", ir.results, "results directory or its annotations.jsonl")->required();
  review->add_option("--out", ir.out, "merged annotations.jsonl")->required();

  // merge
  MergeOptions mg;
  CLI::App* merge = app.add_subcommand(
      "merge",
      "Join a sharded run (results_dir/shard-i-of-n/, from workflow.shard) into\n"
      "results_dir/step_<N>_<name>/annotations.jsonl, annotations.jsonl and run_summary.json,\n"
      "in input order. Refuses (status 2) while a run holds a shard, when shards ran with\n"
      "different specs, or when shards are missing or unfinished (unless --allow-partial;\n"
      "status 1 then). docs/scale-out.md.");
  merge->add_option("results_dir", mg.results_dir, "the run's results_dir")->required();
  merge->add_flag("--allow-partial", mg.allow_partial, "merge the complete shards even if others are missing");
  // report
  ReportOptions rp;
  CLI::App* report = app.add_subcommand(
      "report",
      "Write one self-contained HTML page to review results (image grounding or region\n"
      "captions): every sample's thumbnail with its boxes, captions with their spans,\n"
      "failures and warnings, filters and a summary; opens offline from file://.\n"
      "Prints the page's path.");
  report->add_option("results", rp.results, "results directory or its annotations.jsonl")->required();
  report->add_option("--out", rp.out, "the page (default RESULTS_DIR/report.html; thumbnails go beside it)");
  report->add_option("--truth", rp.truth, "ground-truth JSONL: show accuracy and recall, worst samples first");
  report->add_option("--limit", rp.limit, "show at most N records (0 = all)")->check(CLI::NonNegativeNumber);
  report->add_flag("--no-thumbnails", rp.no_thumbnails, "read no images; boxes are drawn on blank frames");
  report->add_option("--image-root", rp.image_root, "folder relative image paths are in (default: the run's spec)");
  report->add_option("--iou", rp.iou, "IoU threshold for --truth")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitSetupError;
  }

  if (gen->parsed()) return CmdGenerate(spec_path, overrides, gen_flags);
  if (plan_cmd->parsed()) return CmdPlan(pl);
  if (defs->parsed()) return CmdDefaultSpecs(spec_type);
  if (parse->parsed()) return CmdParseReply(pr);
  if (sim->parsed()) return CmdServeSim(ss);
  if (synth->parsed()) return CmdSynth(sy);
  if (demo->parsed()) return CmdDemo(dm);
  if (eval->parsed()) return CmdEval(ev);
  if (exp->parsed()) return CmdExport(ex);
  if (merge->parsed()) return CmdMerge(mg);
  if (report->parsed()) return CmdReport(rp);
  if (review->parsed()) return CmdImportReview(ir);
  return kExitSetupError;
}

}  // namespace groundcap
