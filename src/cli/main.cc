// groundcap: a thin main. Global library setup, then the CLI, with fatal
// setup errors reported once here.
#include <curl/curl.h>

#include <cstdio>
#include <exception>

#include "cli/cli.h"
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
  groundcap::ShutdownImageLibrary();
  curl_global_cleanup();
  return rc;
}
