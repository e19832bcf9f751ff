// groundcap: a thin main. Global library setup, then the CLI, with fatal
// setup errors reported once here.
#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "cli/cli.h"
#include "engine/cpu_pool.h"
#include "image/image.h"
#include "util/error.h"

int main(int argc, char** argv) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  groundcap::InitImageLibrary(argv[0]);
  int rc = groundcap::kExitSetupError;
  try {
    rc = groundcap::RunCli(argc, argv);
  } catch (const groundcap::SetupError& e) {
    std::fprintf(stderr, "groundcap: error: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "groundcap: internal error: %s\n", e.what());
  }
  if (groundcap::StuckCpuWorkers() > 0) {
    // A step round is still blocked on a thread the runner left behind (grace
    // period over, or its deadline passed). Everything is written: leave
    // without tearing libvips/libcurl down or running static destructors
    // under it.
    std::fflush(nullptr);
    std::_Exit(rc);
  }
  groundcap::ShutdownImageLibrary();
  curl_global_cleanup();
  return rc;
}
