// The simulation tools' commands: `serve-sim` (the simulated teacher behind
// the fake API server, until SIGINT or SIGTERM), `synth` (synthetic scenes
// with ground truth) and `eval` (scores predictions against that truth).
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "sim/eval.h"
#include "sim/sim_server.h"
#include "sim/sim_vision.h"
#include "sim/synth.h"
#include "util/error.h"

namespace groundcap {

int CmdServeSim(const ServeSimOptions& options) {
  SimOptions sim;
  sim.imitate = options.imitate;
  sim.noise = options.noise;
  sim.seed = static_cast<uint64_t>(options.seed);
  if (sim.noise < 0 || sim.noise > 1) throw SetupError("--noise must be in [0, 1]");
  FaultConfig faults = FaultConfig::Parse(options.faults);
  if (options.latency_ms > 0) faults.latency_ms = options.latency_ms;
  faults.seed = static_cast<uint64_t>(options.seed);

  // Block the stop signals before the server starts its threads (they
  // inherit the mask), then wait for one here: no handler runs in a server
  // thread and nothing async-signal-unsafe happens in a handler.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  SimServer server(MakeSimResponder(sim), faults, options.threads);
  int port = server.Start(options.host, options.port);
  std::printf("%d\n", port);
  std::fflush(stdout);
  std::fprintf(stderr,
               "groundcap serve-sim: simulated teacher imitating %s on %s:%d (noise %.2f)\n"
               "  OpenAI-compatible base URL: %s\n  Gemini base URL:            %s\n",
               options.imitate.c_str(), options.host.c_str(), port, options.noise, server.OpenAiBaseUrl().c_str(),
               server.GeminiBaseUrl().c_str());
  int sig = 0;
  sigwait(&stop, &sig);
  std::fprintf(stderr, "groundcap serve-sim: signal %d, stopping after %lld requests\n", sig,
               static_cast<long long>(server.requests()));
  server.Stop();
  return kExitOk;
}

int CmdSynth(const SynthOptions& options) {
  if (options.count < 0) {
    std::fprintf(stderr, "groundcap synth: --count must be >= 0\n");
    return kExitSetupError;
  }
  Result<int> n = WriteSynthDataset(options.out, options.count, static_cast<uint64_t>(options.seed));
  if (!n) {
    std::fprintf(stderr, "groundcap synth: %s\n", n.error().message.c_str());
    return kExitSetupError;
  }
  std::printf("wrote %d images to %s/images, input.jsonl, truth.jsonl, regions.jsonl\n", *n,
              options.out.c_str());
  return kExitOk;
}

int CmdEval(const EvalOptions& options) {
  Result<std::vector<nlohmann::json>> preds = ReadJsonl(options.pred);
  Result<std::vector<nlohmann::json>> gt_lines = ReadJsonl(options.gt);
  if (!preds || !gt_lines) {
    std::fprintf(stderr, "groundcap eval: %s\n", (!preds ? preds.error() : gt_lines.error()).message.c_str());
    return kExitSetupError;
  }
  std::vector<TruthImage> truth;
  for (size_t i = 0; i < gt_lines->size(); ++i) {
    Result<TruthImage> t = ParseTruthRecord((*gt_lines)[i]);
    if (!t) {
      std::fprintf(stderr, "groundcap eval: %s:%zu: %s\n", options.gt.c_str(), i + 1, t.error().message.c_str());
      return kExitSetupError;
    }
    truth.push_back(std::move(*t));
  }
  EvalReport report = Evaluate(*preds, truth, options.iou);
  std::fputs(report.Table().c_str(), stdout);
  if (!options.json_out.empty()) {
    std::ofstream out(options.json_out);
    out << report.ToJson().dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "groundcap eval: cannot write %s\n", options.json_out.c_str());
      return kExitSetupError;
    }
  }
  return kExitOk;
}

}  // namespace groundcap
