// Teacher client throughput and CPU cost against the loopback SimServer.
//
//   client_bench [--quick]
//
// The server runs in a forked child process (its own 600-thread pool), so the
// client's CPU time is measured alone and the server's CPU time is reported
// next to it (read from /proc) to show which side is the bottleneck.
// 1) Fixed 200 ms latency, 1..512 requests in flight: throughput as a ratio
//    to the ideal in_flight / 0.2 s (median of 3 runs).
// 2) Zero latency: client CPU time per request (small prompt; 100 KB image).
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "util/log.h"
#include "teacher/openai_backend.h"
#include "sim/sim_server.h"
#include "teacher/teacher_client.h"
#include "fake_teacher_process.h"

namespace {

using groundcap::FaultConfig;
using groundcap::SimReply;
using groundcap::SimRequest;
using groundcap::SimServer;

double CpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/// Fake teachers at 200 ms and 0 ms latency.
std::vector<groundcap::bench::FakeTeacherSpec> Servers() {
  auto respond = [](const SimRequest&) {
    SimReply r;
    r.text = R"([{"box_2d":[100,200,300,400],"label":"mug"}])";
    return r;
  };
  FaultConfig slow;
  slow.latency_ms = 200;
  return {{respond, slow}, {respond, FaultConfig{}}};
}

struct Result {
  double wall_s = 0;
  double client_cpu_s = 0;
  double server_cpu_s = 0;
  int failed = 0;
  double p50_latency_s = 0;  ///< per-request latency as the client saw it
};

Result Run(int port, int in_flight, int n, const std::string& image_b64,
           const groundcap::bench::FakeTeacherProcess& server) {
  groundcap::OpenAiOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  o.model = "bench";
  groundcap::TeacherClientOptions c;
  c.max_in_flight = in_flight;
  c.timeout_s = 30;
  c.retry.max_attempts = 1;
  auto teacher = groundcap::MakeTeacherClient(groundcap::MakeOpenAiBackend(o), c);
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::atomic<int> failed{0};
  std::vector<double> latencies;
  double cpu0 = CpuSeconds();
  double srv0 = server.CpuSeconds();
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    groundcap::TeacherRequest r;
    r.sample_id = std::to_string(i);
    r.prompt = "Locate every mug in the image. Return JSON.";
    if (!image_b64.empty()) r.images = {{"image/jpeg", image_b64}};
    teacher->Submit(std::move(r), [&](groundcap::TeacherReply reply) {
      if (!reply.ok()) failed++;
      std::lock_guard<std::mutex> lock(mu);
      latencies.push_back(reply.latency_s);
      if (++done == n) cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done == n; });
  }
  Result res;
  res.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.client_cpu_s = CpuSeconds() - cpu0;
  res.server_cpu_s = server.CpuSeconds() - srv0;
  res.failed = failed;
  std::nth_element(latencies.begin(), latencies.begin() + latencies.size() / 2, latencies.end());
  res.p50_latency_s = latencies[latencies.size() / 2];
  return res;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  groundcap::bench::FakeTeacherProcess servers(Servers());
  groundcap::SetLogLevel(groundcap::LogLevel::kWarn);

  std::printf("## 200 ms server latency: throughput vs in-flight (median of %d runs)\n\n", quick ? 1 : 3);
  std::printf("| in flight | requests | req/s | ideal req/s | ratio | p50 latency ms | client CPU us/req | server CPU us/req | failed |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int in_flight : {1, 2, 4, 8, 16, 32, 64, 128, 256, 512}) {
    int n = std::max(20, in_flight * 6);
    std::vector<Result> runs;
    for (int rep = 0; rep < (quick ? 1 : 3); ++rep) runs.push_back(Run(servers.port(0), in_flight, n, "", servers));
    std::sort(runs.begin(), runs.end(), [](const Result& a, const Result& b) { return a.wall_s < b.wall_s; });
    const Result& m = runs[runs.size() / 2];
    double rate = n / m.wall_s;
    double ideal = in_flight / 0.2;
    std::printf("| %d | %d | %.1f | %.1f | %.3f | %.0f | %.0f | %.0f | %d |\n", in_flight, n, rate,
                ideal, rate / ideal, m.p50_latency_s * 1e3, m.client_cpu_s / n * 1e6, m.server_cpu_s / n * 1e6, m.failed);
    std::fflush(stdout);
  }

  std::printf("\n## zero latency: CPU per request (64 in flight)\n\n");
  std::printf("| payload | requests | req/s | client CPU us/req | server CPU us/req | failed |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  std::string image(100 * 1024 / 3 * 4, 'A');  // ~100 KB of base64
  for (const auto& [name, payload, n] :
       {std::tuple<const char*, std::string, int>{"prompt only", "", quick ? 1000 : 5000},
        std::tuple<const char*, std::string, int>{"100 KB image", image, quick ? 300 : 1000}}) {
    Run(servers.port(1), 64, 200, payload, servers);  // warm up connections
    Result r = Run(servers.port(1), 64, n, payload, servers);
    std::printf("| %s | %d | %.0f | %.0f | %.0f | %d |\n", name, n, n / r.wall_s,
                r.client_cpu_s / n * 1e6, r.server_cpu_s / n * 1e6, r.failed);
  }
  return 0;
}
