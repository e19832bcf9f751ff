// Subcommand entry points. cli.cc parses arguments (the only file that sees
// CLI11) and calls these; each returns the process exit code (error.h).
#ifndef GROUNDCAP_COMMANDS_H_
#define GROUNDCAP_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace groundcap {

/// groundcap generate -e SPEC [key=value ...]   (generate.cc)
int CmdGenerate(const std::string& spec_path, const std::vector<std::string>& overrides);

/// Command-line flags of `generate` besides the spec and overrides.
struct GenerateFlags {
  int64_t limit = -1;  ///< --limit N: sets <pipeline>.workflow.limit (-1 = not given)
};
/// groundcap generate -e SPEC [--limit N] [key=value ...]   (generate.cc)
int CmdGenerate(const std::string& spec_path, const std::vector<std::string>& overrides,
                const GenerateFlags& flags);

struct PlanOptions {
  std::string spec_path;
  std::vector<std::string> overrides;
  int64_t limit = -1;        ///< --limit N, as for generate
  std::string prices;        ///< --prices FILE: sets <pipeline>.workflow.price_table
  bool json = false;         ///< --json: the report as JSON on stdout
};
/// groundcap plan -e SPEC [key=value ...]: what a run would send and cost,
/// sending nothing (plan_command.cc). 0, or 2 on a setup error.
int CmdPlan(const PlanOptions& options);

/// groundcap default_specs [--type T]           (generate.cc)
int CmdDefaultSpecs(const std::string& type);

struct ParseReplyOptions {
  std::string format = "auto";
  std::string model;        ///< for --format auto
  std::string image_size;   ///< "WxH", required
  std::string input_size;   ///< "WxH", optional (size of the image sent)
  std::string file = "-";   ///< reply file, "-" = stdin
  double min_size = 1.0;
  double dedupe_iou = 0;
  double range_tolerance = 0.5;  ///< as grounding.box_range_tolerance
};
/// groundcap parse-reply ...                    (parse_reply.cc)
int CmdParseReply(const ParseReplyOptions& options);

struct ServeSimOptions {
  std::string host = "127.0.0.1";
  int port = 0;               ///< 0 = pick a free port, printed on stdout
  std::string imitate = "gemini";
  std::string faults;         ///< fault spec, see sim_server.h
  double latency_ms = 0;
  double noise = 0;           ///< 0..1 box jitter / miss / confusion level
  int threads = 64;
  int seed = 1;
};
/// groundcap serve-sim ...                      (sim_commands.cc)
int CmdServeSim(const ServeSimOptions& options);

struct SynthOptions {
  std::string out;
  int count = 20;
  int seed = 1;
};
/// groundcap synth --out DIR --count N --seed S (sim_commands.cc)
int CmdSynth(const SynthOptions& options);

struct DemoOptions {
  std::string out = "demo_out";
  int count = 24;
  int seed = 1;
  std::string imitate = "gemini";
  int64_t max_pixels = 0;   ///< >0: pixel budget of images sent (forces resizing)
  double noise = 0;         ///< simulated teacher noise, 0..1
  bool verify = false;      ///< image grounding with the verification step
};
/// groundcap demo                               (demo.cc)
int CmdDemo(const DemoOptions& options);

struct EvalOptions {
  std::string pred;
  std::string gt;
  std::string json_out;     ///< optional path for the JSON report
  double iou = 0.5;
};
/// groundcap eval --pred P --gt G               (sim_commands.cc)
int CmdEval(const EvalOptions& options);

struct ExportOptions {
  std::string to;           ///< a format name (ExportFormatNames)
  std::string input;        ///< results directory or annotations.jsonl
  std::string out;          ///< output file, replaced atomically
  std::string status = "ok";  ///< comma-separated record statuses kept
  double min_score = -1;    ///< < 0: off
  bool drop_unlocated = false;
  double min_box_size = 0;
  bool verified_only = false;
  std::string image_root;   ///< write paths relative to it (else absolute)
  std::string data_root;    ///< where relative record paths point (default: the run's data.image_root)
  bool no_image_check = false;
  std::string student = "qwen2_5_vl";  ///< llava: the box convention of the answers
  int64_t min_pixels = 3136;           ///< qwen2_5_vl smart_resize bounds
  int64_t max_pixels = 12845056;
};
/// groundcap export --to F INPUT --out PATH     (export_command.cc). Prints
/// the summary to stderr; 0 when every line was readable, 1 when some line
/// was unusable (not JSON / not image grounding), 2 on a setup error.
int CmdExport(const ExportOptions& options);

struct MergeOptions {
  std::string results_dir;  ///< the run's results_dir (holding shard-i-of-n/)
  bool allow_partial = false;  ///< merge even when shards are missing or unfinished
};
/// groundcap merge RESULTS_DIR [--allow-partial] (merge_command.cc): joins
/// the shards in input order. 0 when every shard was merged, 1 when some
/// were left out (--allow-partial), 2 when it refuses (SetupError).
int CmdMerge(const MergeOptions& options);
struct ReportOptions {
  std::string results;        ///< results directory or its annotations.jsonl
  std::string out;            ///< the page ("" = RESULTS_DIR/report.html)
  std::string truth;          ///< optional ground-truth JSONL (eval's format)
  int64_t limit = 0;          ///< at most this many records (0 = all)
  bool no_thumbnails = false; ///< draw boxes on blank frames, read no image
  std::string image_root;     ///< overrides the spec's data.image_root
  double iou = 0.5;           ///< IoU threshold of the evaluation
};
/// groundcap report RESULTS_DIR [--out F] [--truth T] [--limit N]
/// (report_command.cc). Writes the review page, prints its path on stdout
/// and a summary on stderr; 0, 1 when some line was unreadable, 2 on a
/// setup error.
int CmdReport(const ReportOptions& options);
struct ImportReviewOptions {
  std::string label_studio_export;  ///< the JSON Label Studio exported
  std::string results;              ///< results directory or annotations.jsonl
  std::string out;                  ///< merged annotations.jsonl, replaced atomically
};
/// groundcap import-review LS_EXPORT RESULTS --out PATH (export_command.cc):
/// folds corrected Label Studio tasks back into the records; 0, or 2 on a
/// setup error.
int CmdImportReview(const ImportReviewOptions& options);

}  // namespace groundcap

#endif  // GROUNDCAP_COMMANDS_H_
