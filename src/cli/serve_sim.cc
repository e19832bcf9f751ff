// `groundcap serve-sim`: the simulated teacher (sim_vision.h) behind the fake
// API server (sim_server.h), until SIGINT or SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <cstdio>

#include "cli/commands.h"
#include "util/error.h"
#include "sim/sim_server.h"
#include "sim/sim_vision.h"

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

}  // namespace groundcap
