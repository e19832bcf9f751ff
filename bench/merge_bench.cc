// `groundcap merge` (docs/performance.md "Merging shards"): wall time and
// peak RSS growth of MergeShards over N records in 4 shards, side by side
// with the floor it cannot beat, a plain block copy of the same shard
// outputs into one file (no input re-stream, no ids, no order). Each
// measurement runs in a forked child (peak RSS is per process); the median
// of --runs is printed.
//
// Records are realistic: image-grounding step-1-sized records (~450 bytes),
// ids derived by SampleIdDeriver, 1% exact-duplicate input lines.
//
//   merge_bench [--records 200000] [--runs 5] [--dir DIR]
#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/sample_id.h"
#include "engine/shard.h"
#include "engine/shard_merge.h"
#include "proc_stats.h"

namespace {

namespace fs = std::filesystem;
constexpr int kShards = 4;
constexpr const char* kStep = "step_1_grounding";

void WriteRun(const fs::path& dir, int64_t n) {
  fs::remove_all(dir);
  fs::create_directories(dir / "results");
  std::ofstream input(dir / "input.jsonl", std::ios::binary);
  std::vector<std::ofstream> outs;
  groundcap::SampleIdDeriver deriver;
  for (int i = 0; i < kShards; ++i) {
    fs::path sd = dir / "results" / groundcap::ShardDirName({i, kShards});
    fs::create_directories(sd / kStep);
    nlohmann::json info = {{"shard", i},
                           {"count", kShards},
                           {"pipeline", "image_grounding"},
                           {"input_jsonl", fs::absolute(dir / "input.jsonl").string()},
                           {"image_key", "image_path"},
                           {"steps", {kStep}},
                           {"spec_fingerprint", "0123456789abcdef"},
                           {"complete", true}};
    std::ofstream(sd / "shard.json") << info.dump(2);
    std::ofstream(sd / "run_summary.json") << R"({"read": 1, "teacher": {"requests": 2}})";
    outs.emplace_back(sd / kStep / "annotations.jsonl", std::ios::binary);
  }
  nlohmann::ordered_json prev;
  for (int64_t k = 0; k < n; ++k) {
    nlohmann::ordered_json rec;
    if (k % 100 == 99) {
      rec = prev;  // an exact duplicate line
    } else {
      rec["image_path"] = fmt::format("coco/train2017/{:012d}.jpg", k * 7919 % 1000003);
      rec["caption"] = fmt::format("a person riding a bike next to a red car number {}", k);
    }
    prev = rec;
    input << rec.dump() << "\n";
    const std::string id = deriver.Derive(rec);
    nlohmann::ordered_json out = rec;
    out["sample_id"] = id;
    out["status"] = "ok";
    out["expressions"] = nlohmann::ordered_json::array();
    for (int e = 0; e < 3; ++e)
      out["expressions"].push_back({{"text", "a person"},
                                    {"span", {0, 8}},
                                    {"boxes", {{{"bbox", {12.5, 40.25, 300.0, 410.75}}, {"score", 0.91}}}}});
    outs[groundcap::ShardOf(id, kShards)] << out.dump() << "\n";
  }
}

/// Runs `fn` in a forked child; returns {seconds, peak RSS growth in bytes}.
template <class Fn>
std::pair<double, int64_t> InChild(Fn fn) {
  int fds[2];
  if (::pipe(fds) != 0) std::abort();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    int64_t before = groundcap::bench::PeakRss();
    auto t0 = std::chrono::steady_clock::now();
    fn();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    int64_t growth = groundcap::bench::PeakRss() - before;
    ssize_t w1 = ::write(fds[1], &s, sizeof s), w2 = ::write(fds[1], &growth, sizeof growth);
    (void)w1;
    (void)w2;
    ::_exit(0);
  }
  ::close(fds[1]);
  double s = 0;
  int64_t growth = 0;
  ssize_t r1 = ::read(fds[0], &s, sizeof s), r2 = ::read(fds[0], &growth, sizeof growth);
  (void)r1;
  (void)r2;
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {s, growth};
}

void CopyShards(const fs::path& results) {
  std::ofstream out(results / "copy.jsonl", std::ios::binary | std::ios::trunc);
  std::vector<char> buf(1 << 20);
  for (int i = 0; i < kShards; ++i) {
    std::ifstream in(results / groundcap::ShardDirName({i, kShards}) / kStep / "annotations.jsonl", std::ios::binary);
    while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0)
      out.write(buf.data(), in.gcount());
  }
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int64_t records = 200000;
  int runs = 5;
  fs::path dir = fs::temp_directory_path() / "groundcap_merge_bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--records")) records = std::atoll(argv[i + 1]);
    if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  WriteRun(dir, records);
  const fs::path results = dir / "results";
  int64_t bytes = 0;
  for (int i = 0; i < kShards; ++i)
    bytes += static_cast<int64_t>(
        fs::file_size(results / groundcap::ShardDirName({i, kShards}) / kStep / "annotations.jsonl"));
  std::vector<double> merge_s, copy_s, merge_rss, copy_rss;
  for (int r = 0; r < runs; ++r) {  // alternating, so both see the same machine state
    auto m = InChild([&] { groundcap::MergeShards(results.string(), false); });
    auto c = InChild([&] { CopyShards(results); });
    merge_s.push_back(m.first);
    merge_rss.push_back(static_cast<double>(m.second));
    copy_s.push_back(c.first);
    copy_rss.push_back(static_cast<double>(c.second));
  }
  const double ms = Median(merge_s), cs = Median(copy_s);
  std::printf("records %lld in %d shards, shard outputs %.1f MB, %d runs (medians)\n", static_cast<long long>(records),
              kShards, bytes / 1e6, runs);
  std::printf("merge: %.3f s (%.0f records/s, %.1f MB/s), peak RSS growth %.1f MB\n", ms, records / ms,
              bytes / 1e6 / ms, Median(merge_rss) / 1e6);
  std::printf("block copy of the same outputs: %.3f s, peak RSS growth %.1f MB\n", cs, Median(copy_rss) / 1e6);
  std::printf("merge / copy time: %.2f\n", ms / cs);
  fs::remove_all(dir);
  return 0;
}
