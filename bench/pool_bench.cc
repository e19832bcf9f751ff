// Teacher pool throughput as a ratio of ideal: three simulated endpoints on
// loopback with equal capacity (max_in_flight), one of them 4x slower and
// one stopped mid-run, against the ideal = the sum over endpoints of
// capacity / latency for the time each was up. A second scenario (three
// healthy, equal endpoints) is measured side by side as the reference.
// Prints one line per run and the medians; not run by ctest.
//
//   build/pool_bench [runs=5] [requests=900]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sim/sim_server.h"
#include "teacher/openai_backend.h"
#include "teacher/teacher_client.h"
#include "util/log.h"

namespace {

using groundcap::FaultConfig;
using groundcap::SimServer;

constexpr int kCapacity = 4;          // max_in_flight per endpoint
constexpr double kLatencyS = 0.05;    // per reply, healthy endpoints
constexpr double kSlowFactor = 4;

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

groundcap::SimReply Answer(const groundcap::SimRequest&) {
  groundcap::SimReply r;
  r.text = "ok";
  return r;
}

struct Outcome {
  double ratio = 0;
  double per_s = 0;
  int ok = 0;
};

/// One run: `requests` requests through a pool of three endpoints; with
/// `faults`, endpoint 2 is 4x slower and endpoint 1 stops at `die_at_s`.
Outcome RunOnce(int requests, bool faults, double die_at_s) {
  FaultConfig normal, slow;
  normal.latency_ms = kLatencyS * 1000;
  slow.latency_ms = kLatencyS * 1000 * (faults ? kSlowFactor : 1);
  SimServer a(Answer, normal), dying(Answer, normal), b(Answer, slow);
  a.Start();
  dying.Start();
  b.Start();
  std::vector<groundcap::TeacherEndpoint> pool;
  for (SimServer* s : {&a, &dying, &b}) {
    groundcap::OpenAiOptions o;
    o.base_url = s->OpenAiBaseUrl();
    o.model = "m";
    pool.push_back({groundcap::MakeOpenAiBackend(o), o.base_url, kCapacity});
  }
  groundcap::TeacherClientOptions options;
  options.max_in_flight = 3 * kCapacity;
  options.retry.max_attempts = 5;
  options.retry.initial_backoff_s = 0.05;
  std::unique_ptr<groundcap::Teacher> teacher = groundcap::MakeTeacherClient(std::move(pool), options);

  std::atomic<int> done{0}, ok{0};
  const double t0 = Now();
  for (int i = 0; i < requests; ++i) {
    groundcap::TeacherRequest r;
    r.sample_id = "s" + std::to_string(i);
    r.prompt = "p";
    teacher->Submit(r, [&](groundcap::TeacherReply reply) {
      if (reply.ok()) ok++;
      done++;
    });
  }
  double died = -1;
  while (done.load() < requests) {
    if (faults && died < 0 && Now() - t0 >= die_at_s) {
      dying.Stop();
      died = Now() - t0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const double wall = Now() - t0;
  teacher->Stop();
  const double healthy_rate = kCapacity / kLatencyS;  // per endpoint, replies/s
  const double slow_rate = kCapacity / (kLatencyS * (faults ? kSlowFactor : 1));
  const double dying_time = died < 0 ? wall : died;
  const double ideal = healthy_rate * wall + slow_rate * wall + healthy_rate * dying_time;
  Outcome out;
  out.ok = ok.load();
  out.per_s = out.ok / wall;
  out.ratio = out.ok / ideal;
  std::printf("%-22s wall %.2fs ok %d/%d  %.1f replies/s  ideal %.0f  ratio %.3f\n",
              faults ? "one slow, one dies" : "three healthy", wall, out.ok, requests, out.per_s, ideal, out.ratio);
  return out;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  const int requests = argc > 2 ? std::atoi(argv[2]) : 900;
  groundcap::SetLogLevel(groundcap::LogLevel::kError);
  std::vector<double> healthy, faulty, healthy_rate, faulty_rate;
  for (int k = 0; k < runs; ++k) {  // alternate the scenarios: side by side
    Outcome h = RunOnce(requests, false, 0);
    Outcome f = RunOnce(requests, true, 1.5);
    healthy.push_back(h.ratio);
    faulty.push_back(f.ratio);
    healthy_rate.push_back(h.per_s);
    faulty_rate.push_back(f.per_s);
  }
  std::printf("median of %d runs, %d requests, capacity %d x 3, latency %.0f ms:\n", runs, requests, kCapacity,
              kLatencyS * 1000);
  std::printf("  three healthy:       %.1f replies/s, ratio of ideal %.3f\n", Median(healthy_rate), Median(healthy));
  std::printf("  one 4x slow, one dies at 1.5 s: %.1f replies/s, ratio of ideal %.3f\n", Median(faulty_rate),
              Median(faulty));
  return 0;
}
