// Client efficiency, groundcap against a TAO-style Python runner
// (bench/tao_runner.py), side by side in one run, on 640x480 JPEGs that pass
// through unchanged (image.pass_through) and a fake teacher in a forked child
// process (so its CPU is not counted as the client's).
//
//   efficiency_bench [samples_cpu=2000] [samples_rate=1024] [reps=3] [tao_runner.py]
//
// 1) Image + body path alone, per sample (steps 0 and 1): prepare, base64,
//    request body, with and without pass-through, and the body built with
//    nlohmann's dump() over the base64 against the spliced one.
// 2) Client CPU per sample, whole run (both steps, journal, outputs), fake
//    teacher at 0 ms: groundcap generate vs tao_runner.py.
// 3) Throughput at 256 in flight, fake teacher at 1 s per reply: wall time
//    against the ideal (2 requests per sample, 256 per second), medians of
//    `reps` alternating runs.
// Results go in docs/performance.md.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "image/image.h"
#include "sim/sim_server.h"
#include "fake_teacher_process.h"
#include "fixed_teacher.h"
#include "teacher/openai_backend.h"
#include "util/jsonl.h"
#include "util/log.h"

namespace fs = std::filesystem;
using namespace groundcap;

namespace {

/// Fake teachers at 1000 ms and 0 ms.
std::vector<bench::FakeTeacherSpec> Servers() {
  FaultConfig slow;
  slow.latency_ms = 1000;
  return {{bench::FixedReply, slow}, {bench::FixedReply, FaultConfig{}}};
}

double ProcessCpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
}

double ThreadCpu() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

/// A photo-like 640x480 picture: gradients, shapes and noise (JPEG q90 of
/// it is ~100 KB, the size of a typical camera thumbnail).
RgbImage Picture(int seed) {
  std::mt19937 rng(seed);
  RgbImage img = RgbImage::Filled(640, 480);
  for (int y = 0; y < 480; ++y)
    for (int x = 0; x < 640; ++x) {
      uint8_t* p = img.at(x, y);
      int n = static_cast<int>(rng() % 24);
      p[0] = static_cast<uint8_t>((x * 255 / 640 + seed * 37 + n) & 255);
      p[1] = static_cast<uint8_t>((y * 255 / 480 + n) & 255);
      p[2] = static_cast<uint8_t>(((x ^ y) + n) & 255);
    }
  return img;
}

struct Dataset {
  fs::path dir;
  int samples = 0;
};

Dataset MakeDataset(const fs::path& dir, int n) {
  fs::create_directories(dir / "images");
  for (int i = 0; i < 16; ++i) {
    Result<std::string> jpeg = EncodeImage(Picture(i), "jpeg", 90);
    if (!jpeg) std::exit(2);
    std::ofstream(dir / "images" / ("img" + std::to_string(i) + ".jpg"), std::ios::binary) << *jpeg;
  }
  std::ofstream in(dir / "input.jsonl");
  for (int i = 0; i < n; ++i) {
    in << nlohmann::json{{"image_path", "img" + std::to_string(i % 16) + ".jpg"},
                         {"caption", "we can see a red box and a blue ball, take " + std::to_string(i)}}
              .dump()
       << "\n";
  }
  return {dir, n};
}

struct RunResult {
  double wall_s = 0;
  double cpu_s = 0;
  double teacher_cpu_s = 0;  ///< the fake teacher's, from /proc
  int failed = 0;
};

RunResult RunGroundcap(const Dataset& d, int port, int workers, bool pass_through) {
  fs::remove_all(d.dir / "results");
  std::ofstream(d.dir / "spec.yaml")
      << "results_dir: " << (d.dir / "results").string()
      << "\nautolabel_type: image_grounding\nimage_grounding:\n  data:\n    input_jsonl: "
      << (d.dir / "input.jsonl").string() << "\n    image_root: " << (d.dir / "images").string()
      << "\n  workflow:\n    max_workers: " << workers << "\n  image:\n    pass_through: "
      << (pass_through ? "true" : "false")
      << "\n  vlm:\n    backend: openai\n    preflight: false\n    openai:\n      base_url: http://127.0.0.1:"
      << port << "/v1\n      model_name: gemini-2.5-flash\n      api_key: bench\n      timeout: 120\n";
  RunResult r;
  double cpu0 = ProcessCpu();
  auto t0 = std::chrono::steady_clock::now();
  int rc = CmdGenerate((d.dir / "spec.yaml").string(), {});
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.cpu_s = ProcessCpu() - cpu0;
  r.failed = rc == 0 ? 0 : 1;
  return r;
}

RunResult RunPython(const Dataset& d, const std::string& script, int port, int workers) {
  fs::remove_all(d.dir / "py_results");
  std::string cmd = "python3 " + script + " --url http://127.0.0.1:" + std::to_string(port) +
                    "/v1 --input " + (d.dir / "input.jsonl").string() + " --image-root " +
                    (d.dir / "images").string() + " --out " + (d.dir / "py_results").string() +
                    " --workers " + std::to_string(workers);
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  if (p) pclose(p);
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  RunResult r;
  if (!j.is_object()) {
    std::fprintf(stderr, "tao_runner.py failed: %s\n", out.c_str());
    r.failed = 1;
    return r;
  }
  r.wall_s = j["wall_s"].get<double>();
  r.cpu_s = j["cpu_s"].get<double>();
  r.failed = j["failed"].get<int>() + (j["done"].get<int>() != d.samples ? 1 : 0);
  return r;
}

/// Part 1: the image + request path of one sample (step 0 and step 1 each
/// prepare the image and build one request body), in this thread's CPU.
void ImagePath(const Dataset& d) {
  OpenAiOptions o;
  o.base_url = "http://127.0.0.1:1/v1";
  o.model = "bench";
  auto backend = MakeOpenAiBackend(o);
  const int iters = 800;
  std::printf("## 1. Image + request body per sample (steps 0 and 1), one thread\n\n");
  std::printf("| path | us per sample (median of 5 x %d) | bytes sent per image |\n|---|---:|---:|\n", iters);
  for (int mode = 0; mode < 3; ++mode) {
    PrepareOptions p;
    p.pass_through = mode != 0;
    const bool old_body = mode == 2;
    std::vector<double> runs;
    size_t sent = 0;
    for (int rep = 0; rep < 5; ++rep) {
      double t0 = ThreadCpu();
      for (int i = 0; i < iters; ++i) {
        const std::string path = (d.dir / "images" / ("img" + std::to_string(i % 16) + ".jpg")).string();
        for (int step = 0; step < 2; ++step) {
          Result<PreparedImage> img = PrepareForTeacher(path, p);
          if (!img) std::exit(3);
          TeacherRequest req;
          req.prompt = "Ground each expression.\nE0: a red box\nE1: a blue ball\n";
          req.images.push_back(ImagePart::Shared(img->mime, Base64Encode(img->bytes)));
          std::string body = old_body ? DumpJsonLine(BuildOpenAiBody(o, req)) : backend->Build(req).body;
          sent = img->bytes.size();
          if (body.size() < sent) std::exit(4);
        }
      }
      runs.push_back((ThreadCpu() - t0) / iters * 1e6);
    }
    const char* names[] = {"decode + re-encode (pass_through: false), spliced body",
                           "pass-through, spliced body",
                           "pass-through, body from dump() with the base64 inside (before)"};
    std::printf("| %s | %.0f | %zu |\n", names[mode], Median(runs), sent);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  const int n_cpu = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int n_rate = argc > 2 ? std::atoi(argv[2]) : 1024;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 3;
  bench::FakeTeacherProcess servers(Servers());
  const int ports[2] = {servers.port(0), servers.port(1)};
  InitImageLibrary(argv[0]);
  SetLogLevel(LogLevel::kError);
#ifdef GROUNDCAP_SOURCE_DIR
  const std::string script = argc > 4 ? argv[4] : std::string(GROUNDCAP_SOURCE_DIR) + "/bench/tao_runner.py";
#else
  const std::string script = argc > 4 ? argv[4] : "bench/tao_runner.py";
#endif
  setvbuf(stdout, nullptr, _IOLBF, 0);
  const fs::path root = fs::temp_directory_path() / ("groundcap_effic_" + std::to_string(getpid()));

  Dataset cpu_set = MakeDataset(root / "cpu", n_cpu);
  ImagePath(cpu_set);

  std::printf("## 2. Client CPU per sample, whole run (both steps), fake teacher at 0 ms, "
              "64 in flight, %d samples, median of %d\n\n", n_cpu, reps);
  std::printf("| runner | CPU ms/sample | wall s | failed runs |\n|---|---:|---:|---:|\n");
  std::vector<double> g_cpu, g_off_cpu, py_cpu, g_wall, g_off_wall, py_wall;
  int g_failed = 0, g_off_failed = 0, py_failed = 0;
  for (int rep = 0; rep < reps; ++rep) {
    RunResult g = RunGroundcap(cpu_set, ports[1], 64, true);
    RunResult off = RunGroundcap(cpu_set, ports[1], 64, false);
    RunResult py = RunPython(cpu_set, script, ports[1], 64);
    g_cpu.push_back(g.cpu_s / n_cpu * 1e3), g_wall.push_back(g.wall_s), g_failed += g.failed;
    g_off_cpu.push_back(off.cpu_s / n_cpu * 1e3), g_off_wall.push_back(off.wall_s), g_off_failed += off.failed;
    py_cpu.push_back(py.cpu_s / n_cpu * 1e3), py_wall.push_back(py.wall_s), py_failed += py.failed;
  }
  std::printf("| groundcap, pass-through | %.2f | %.1f | %d |\n", Median(g_cpu), Median(g_wall), g_failed);
  std::printf("| groundcap, pass_through: false | %.2f | %.1f | %d |\n", Median(g_off_cpu), Median(g_off_wall), g_off_failed);
  std::printf("| TAO-style Python (tao_runner.py) | %.2f | %.1f | %d |\n", Median(py_cpu), Median(py_wall), py_failed);
  std::printf("\nratio Python / groundcap CPU per sample: %.1fx\n\n", Median(py_cpu) / Median(g_cpu));

  Dataset rate_set = MakeDataset(root / "rate", n_rate);
  const double ideal_s = 2.0 * std::ceil(n_rate / 256.0);  // two steps, 256 replies per second each
  std::printf("## 3. Throughput at 256 in flight, fake teacher at 1 s, %d samples (ideal %.0f s = "
              "%.0f samples/s), median of %d\n\n", n_rate, ideal_s, n_rate / ideal_s, reps);
  std::printf("| runner | wall s | samples/s | ratio to ideal | CPU ms/sample | fake teacher CPU ms/request "
              "| failed runs |\n|---|---:|---:|---:|---:|---:|---:|\n");
  std::vector<double> gw, pw, gc, pc, gt, pt;
  int gf = 0, pf = 0;
  auto timed = [&](auto run) {
    const double t0 = servers.CpuSeconds();
    RunResult r = run();
    r.teacher_cpu_s = servers.CpuSeconds() - t0;
    return r;
  };
  for (int rep = 0; rep < reps; ++rep) {
    RunResult g = timed([&] { return RunGroundcap(rate_set, ports[0], 256, true); });
    RunResult py = timed([&] { return RunPython(rate_set, script, ports[0], 256); });
    gw.push_back(g.wall_s), gc.push_back(g.cpu_s / n_rate * 1e3), gt.push_back(g.teacher_cpu_s / n_rate / 2 * 1e3);
    pw.push_back(py.wall_s), pc.push_back(py.cpu_s / n_rate * 1e3), pt.push_back(py.teacher_cpu_s / n_rate / 2 * 1e3);
    gf += g.failed, pf += py.failed;
  }
  std::printf("| groundcap | %.2f | %.1f | %.3f | %.2f | %.2f | %d |\n", Median(gw), n_rate / Median(gw),
              ideal_s / Median(gw), Median(gc), Median(gt), gf);
  std::printf("| TAO-style Python | %.2f | %.1f | %.3f | %.2f | %.2f | %d |\n", Median(pw), n_rate / Median(pw),
              ideal_s / Median(pw), Median(pc), Median(pt), pf);
  std::printf("\nratio groundcap / Python samples/s: %.3f\n", Median(pw) / Median(gw));

  fs::remove_all(root);
  ShutdownImageLibrary();
  return 0;
}
