// `groundcap demo`: the whole job with no API key. Synthetic scenes, the
// simulated teacher on a free loopback port, image grounding (both steps),
// region captioning, and evaluation against the ground truth.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/core.h>

#include "cli/commands.h"
#include "sim/sim_server.h"
#include "sim/sim_vision.h"
#include "sim/synth.h"
#include "util/error.h"

namespace groundcap {

namespace {

namespace fs = std::filesystem;

/// How the demo talks to a teacher imitating `family`: the backend, the
/// model name a real deployment of that family would report, and the box
/// format to request (auto = chosen from the model name).
struct DemoTeacher {
  std::string backend;
  std::string model;
  std::string box_format;
};

DemoTeacher TeacherFor(const std::string& family) {
  if (family == "gemini") return {"gemini", "gemini-2.5-flash", "auto"};
  if (family == "qwen2_5_vl") return {"openai", "Qwen/Qwen2.5-VL-7B-Instruct", "auto"};
  if (family == "qwen3_vl") return {"openai", "Qwen/Qwen3-VL-8B-Instruct", "auto"};
  return {"openai", "simulated-vlm", family};
}

/// The `vlm:` block of a spec pointing at the simulated teacher.
std::string VlmYaml(const DemoTeacher& t, const SimServer& server) {
  if (t.backend == "gemini") {
    return fmt::format(
        "  vlm:\n    backend: gemini\n    gemini:\n      api_key: \"simulated\"\n"
        "      model: \"{}\"\n      base_url: \"{}\"\n",
        t.model, server.GeminiBaseUrl());
  }
  return fmt::format(
      "  vlm:\n    backend: openai\n    openai:\n      api_key: \"simulated\"\n"
      "      model_name: \"{}\"\n      base_url: \"{}\"\n",
      t.model, server.OpenAiBaseUrl());
}

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw SetupError("cannot write " + path.string());
}

/// `<pipeline>.image.max_pixels=N` when the demo was asked for a budget, and
/// `<pipeline>.verify.enabled=true` (with logprobs) when asked to verify.
std::vector<std::string> DemoOverrides(const std::string& pipeline, const DemoOptions& options) {
  std::vector<std::string> overrides;
  if (options.max_pixels > 0) {
    overrides.push_back(fmt::format("{}.image.max_pixels={}", pipeline, options.max_pixels));
  }
  if (options.verify) {
    overrides.push_back(pipeline + ".verify.enabled=true");
    overrides.push_back(pipeline + ".verify.logprobs=true");
  }
  return overrides;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

int CmdDemo(const DemoOptions& options) {
  auto start = std::chrono::steady_clock::now();
  // Our lines (stdout) interleave with the runs' logs (stderr): keep order.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  fs::path out = fs::absolute(options.out);
  fs::path data = out / "data";
  fs::create_directories(out);
  std::printf(
      "groundcap demo: the teacher is SIMULATED (a local server that looks at the pixels of\n"
      "synthetic scenes and answers like a %s model). No API key, no network.\n\n",
      options.imitate.c_str());

  // 1. Synthetic scenes with ground truth.
  Result<int> written = WriteSynthDataset(data.string(), options.count, options.seed);
  if (!written) throw SetupError("synth: " + written.error().message);
  std::printf("[1/5] wrote %d synthetic images with ground truth to %s\n", *written, data.c_str());

  // 2. The simulated teacher on a free loopback port.
  SimOptions sim;
  sim.imitate = options.imitate;
  sim.seed = static_cast<uint64_t>(options.seed);
  sim.noise = options.noise;
  FaultConfig listing;  // the sim lists the demo's model, so generate's preflight checks it
  listing.models = {TeacherFor(options.imitate).model};
  SimServer server(MakeSimResponder(sim), listing);
  server.Start("127.0.0.1", 0);
  std::printf("[2/5] simulated teacher listening on 127.0.0.1:%d\n", server.port());

  // 3. Image grounding, both steps, with a normal spec.
  DemoTeacher teacher = TeacherFor(options.imitate);
  fs::path grounding_dir = out / "grounding";
  fs::path grounding_spec = out / "grounding_spec.yaml";
  WriteText(grounding_spec,
            fmt::format("results_dir: \"{}\"\nautolabel_type: image_grounding\n"
                        "image_grounding:\n"
                        "  workflow:\n    steps: [\"0\", \"1\"]\n    max_workers: 8\n"
                        "  data:\n    input_jsonl: \"{}\"\n    image_root: \"{}\"\n"
                        "{}    box_format: \"{}\"\n",
                        grounding_dir.string(), (data / "input.jsonl").string(), data.string(),
                        VlmYaml(teacher, server), teacher.box_format));
  std::printf("[3/5] image grounding: groundcap generate -e %s\n", grounding_spec.c_str());
  // The habit the README recommends: a pilot on a few samples (then look at
  // it: groundcap report), then the full run, which resumes without redoing them.
  GenerateFlags pilot;
  pilot.limit = std::min(5, options.count);
  std::printf("      pilot first: groundcap generate -e %s --limit %lld, then the full run\n",
              grounding_spec.c_str(), static_cast<long long>(pilot.limit));
  CmdGenerate(grounding_spec.string(), DemoOverrides("image_grounding", options), pilot);
  int grounding_rc = CmdGenerate(grounding_spec.string(), DemoOverrides("image_grounding", options));

  // 4. Region captioning on the ground-truth boxes (DataFlow-style input).
  fs::path region_dir = out / "region_caption";
  fs::path region_spec = out / "region_caption_spec.yaml";
  WriteText(region_spec,
            fmt::format("results_dir: \"{}\"\nautolabel_type: region_caption\n"
                        "region_caption:\n"
                        "  workflow:\n    max_workers: 8\n"
                        "  data:\n    input_jsonl: \"{}\"\n    image_root: \"{}\"\n{}",
                        region_dir.string(), (data / "regions.jsonl").string(), data.string(),
                        VlmYaml(teacher, server)));
  std::printf("[4/5] region captioning: groundcap generate -e %s\n", region_spec.c_str());
  int region_rc = CmdGenerate(region_spec.string(), DemoOverrides("region_caption", options));
  server.Stop();

  // 5. Evaluation against the ground truth.
  std::printf("[5/5] evaluation against %s\n", (data / "truth.jsonl").c_str());
  EvalOptions eval;
  eval.gt = (data / "truth.jsonl").string();
  eval.pred = (grounding_dir / "annotations.jsonl").string();
  eval.json_out = (out / "eval_grounding.json").string();
  std::printf("\n== image grounding ==\n");
  int eval_rc = CmdEval(eval);
  eval.pred = (region_dir / "annotations.jsonl").string();
  eval.json_out = (out / "eval_region_caption.json").string();
  std::printf("\n== region captioning ==\n");
  eval_rc = std::max(eval_rc, CmdEval(eval));

  // The review pages, one per run (the grounding one scored against the truth).
  std::printf("\n== review pages (open in a browser) ==\n");
  ReportOptions report;
  report.results = grounding_dir.string();
  report.truth = (data / "truth.jsonl").string();
  report.out = (out / "report.html").string();
  int report_rc = CmdReport(report);
  report.results = region_dir.string();
  report.out = (out / "region_caption_report.html").string();
  report_rc = std::max(report_rc, CmdReport(report));

  std::printf(
      "\nResults (%.1f s):\n"
      "  grounding:        %s/annotations.jsonl  (summary: run_summary.json)\n"
      "  region captions:  %s/annotations.jsonl  (marked images: region_caption_marks/)\n"
      "  evaluation:       %s/eval_grounding.json, eval_region_caption.json\n"
      "  review pages:     %s/report.html, region_caption_report.html\n\n"
      "To use a real teacher, change two lines of %s:\n"
      "  vlm.backend: gemini           + vlm.gemini.api_key (or GOOGLE_API_KEY), or\n"
      "  vlm.backend: openai           + vlm.openai.base_url: http://host:8000/v1 (vLLM, NIM, ...)\n",
      Seconds(start), grounding_dir.c_str(), region_dir.c_str(), out.c_str(), out.c_str(),
      grounding_spec.c_str());
  if (grounding_rc != kExitOk) return grounding_rc;
  if (region_rc != kExitOk) return region_rc;
  return std::max(eval_rc, report_rc);
}

}  // namespace groundcap
