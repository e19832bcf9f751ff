// Full two-step image-grounding run against the fake teacher server at a
// fixed latency, then the same run resumed after it completed.
//
//   grounding_bench [samples=10000] [latency_ms=50] [max_workers=64]
//
// Prints samples/s, teacher requests per sample, peak RSS and the resumed
// run's wall time. Results go in docs/performance.md.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "image/image.h"
#include "util/log.h"
#include "sim/sim_server.h"
#include "fixed_teacher.h"

namespace fs = std::filesystem;
using namespace groundcap;

namespace {

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  const double latency_ms = argc > 2 ? std::atof(argv[2]) : 50;
  const int workers = argc > 3 ? std::atoi(argv[3]) : 64;
  InitImageLibrary(argv[0]);
  SetLogLevel(LogLevel::kWarn);

  fs::path dir = fs::temp_directory_path() / ("groundcap_grounding_bench_" + std::to_string(::getpid()));
  fs::create_directories(dir / "images");
  const int kImages = 16;
  for (int i = 0; i < kImages; ++i) {
    RgbImage img;
    img.width = 640;
    img.height = 480;
    img.pixels.assign(640 * 480 * 3, static_cast<uint8_t>(i * 13));
    Result<std::string> bytes = EncodeImage(img, "jpeg", 90);
    if (!bytes) return 2;
    std::ofstream(dir / "images" / ("img" + std::to_string(i) + ".jpg"), std::ios::binary) << *bytes;
  }
  {
    std::ofstream in(dir / "input.jsonl");
    for (int i = 0; i < n; ++i) {
      in << nlohmann::json{{"image_path", "img" + std::to_string(i % kImages) + ".jpg"},
                           {"caption", "we can see a red box and a blue ball, take " + std::to_string(i)}}
                .dump()
         << "\n";
    }
  }
  FaultConfig faults;
  faults.latency_ms = latency_ms;
  SimServer server(bench::FixedReply, faults, 128);
  server.Start();
  std::ofstream(dir / "spec.yaml")
      << "results_dir: " << (dir / "results").string()
      << "\nautolabel_type: image_grounding\nimage_grounding:\n  data:\n    input_jsonl: "
      << (dir / "input.jsonl").string() << "\n    image_root: " << (dir / "images").string()
      << "\n  workflow:\n    max_workers: " << workers
      << "\n  vlm:\n    backend: openai\n    openai:\n      base_url: " << server.OpenAiBaseUrl()
      << "\n      model_name: gemini-2.5-flash\n      api_key: bench\n"
      << "    rate_limit:\n      requests_per_minute: 0\n";

  auto t0 = std::chrono::steady_clock::now();
  int rc = CmdGenerate((dir / "spec.yaml").string(), {});
  double full_s = Seconds(t0);
  int64_t requests = server.requests();
  auto t1 = std::chrono::steady_clock::now();
  int rc2 = CmdGenerate((dir / "spec.yaml").string(), {});
  double resume_s = Seconds(t1);
  int64_t resume_requests = server.requests() - requests;
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);

  std::printf("samples=%d latency_ms=%.0f max_workers=%d exit=%d/%d\n", n, latency_ms, workers, rc, rc2);
  std::printf("full run: %.2f s, %.1f samples/s, %.3f teacher requests/sample\n", full_s,
              n / full_s, static_cast<double>(requests) / n);
  std::printf("resumed run: %.3f s, %lld requests\n", resume_s, static_cast<long long>(resume_requests));
  std::printf("peak RSS (both runs, this process incl. server): %.1f MiB\n", ru.ru_maxrss / 1024.0);
  server.Stop();
  fs::remove_all(dir);
  ShutdownImageLibrary();
  return rc == 0 && rc2 == 0 ? 0 : 1;
}
