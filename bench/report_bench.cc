// `groundcap report` at scale (docs/performance.md "Review report"): time
// and peak RSS of writing the page for N synthetic image-grounding result
// records, without thumbnails (images are not the subject: the page data
// is), and, when Chromium is installed, how long the page takes to open
// and render its first page of cards, against a 1,000-record page opened
// the same way (the difference is the cost of the data).
//
// The report runs as the real binary in a child process; its peak RSS is
// the child's ru_maxrss (wait4), so nothing of the generator is counted.
// Records look like the demo's: a 100-200 character caption, 2-5
// expressions with spans, 1-2 boxes each, scores, 3% failed, 5% with
// warnings.
//
//   report_bench [--records 10000,100000] [--runs 3] [--dir DIR]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/run_process.h"

namespace {

namespace fs = std::filesystem;

/// Writes `n` result records to `path` (one annotations.jsonl).
void WriteRecords(const fs::path& path, int64_t n) {
  static const char* kColors[] = {"red", "orange", "yellow", "green", "blue", "purple", "pink"};
  static const char* kShapes[] = {"circle", "square", "triangle", "star", "diamond", "cross"};
  std::mt19937_64 rng(42);
  auto pick = [&](int k) { return static_cast<int>(rng() % k); };
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (int64_t i = 0; i < n; ++i) {
    nlohmann::ordered_json r;
    char name[32];
    std::snprintf(name, sizeof name, "images/%06lld.jpg", static_cast<long long>(i));
    const std::string id = std::string(name + 7, 6) + "-" + std::to_string(1000000 + i);
    r["image_path"] = name;
    const bool failed = pick(100) < 3;
    std::string cleaned;
    nlohmann::ordered_json expressions = nlohmann::ordered_json::array();
    const int count = 2 + pick(4);
    for (int e = 0; e < count; ++e) {
      std::string text = std::string("a ") + kColors[pick(7)] + " " + kShapes[pick(6)];
      if (!cleaned.empty()) cleaned += e + 1 == count ? " and " : ", ";
      const int start = static_cast<int>(cleaned.size());
      cleaned += text;
      nlohmann::ordered_json inst = nlohmann::ordered_json::array();
      for (int b = 0, nb = 1 + pick(2); b < nb; ++b) {
        const int x = pick(900), y = pick(600), w = 20 + pick(100), h = 20 + pick(100);
        const double score = 0.3 + pick(70) / 100.0;
        inst.push_back({{"bbox", {x, y, x + w, y + h}}, {"score", score}, {"bbox_score", score},
                        {"bbox_id", id + ":e" + std::to_string(e) + ":b" + std::to_string(b)}});
      }
      expressions.push_back({{"text", text}, {"instances", inst}, {"expression_id", id + ":e" + std::to_string(e)},
                             {"char_span", {start, start + static_cast<int>(text.size())}}, {"noun_chunk", "shape"}});
    }
    cleaned += " on a light grey background.";
    r["caption"] = "in this image we can see " + cleaned;
    if (failed) {
      r["sample_id"] = id;
      r["status"] = "failed";
      r["error"] = {{"kind", pick(2) ? "parse" : "timeout"}, {"message", "reply could not be read"}, {"attempts", 3}};
    } else {
      r["image_id"] = id;
      r["cleaned_caption"] = cleaned;
      r["expressions"] = expressions;
      r["image_width"] = 1024;
      r["image_height"] = 768;
      r["source"] = "image_grounding";
      r["pipeline_steps"] = {"step0_expression_extraction", "step1_grounding"};
      r["sample_id"] = id;
      r["status"] = "ok";
      if (pick(100) < 5) r["warnings"] = {"grounding reply 0: box with unknown label \"sky\" dropped"};
    }
    out << r.dump() << "\n";
  }
}


double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::vector<int64_t> ParseList(const char* s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::atoll(item.c_str()));
  return out;
}

/// Wall time of headless Chromium opening `page` and dumping its DOM after
/// the script ran; 0 when Chromium is absent.
double OpenInChromium(const fs::path& page, const fs::path& profile) {
  if (::access("/usr/bin/chromium", X_OK) != 0) return 0;
  fs::remove_all(profile);
  const groundcap::ProcessRun run =
      groundcap::RunProcess({"chromium", "--headless", "--no-sandbox", "--disable-gpu",
                             "--user-data-dir=" + profile.string(), "--virtual-time-budget=60000", "--dump-dom",
                             "file://" + page.string()});
  return run.exited_ok() ? run.wall_s : -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes = {1000, 10000, 100000};
  int runs = 3;
  fs::path dir = fs::temp_directory_path() / "groundcap_report_bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--records")) sizes = ParseList(argv[i + 1]);
    if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
  }
  std::printf("report_bench: %d runs per size, medians; groundcap report --no-thumbnails\n", runs);
  std::printf("%10s %10s %10s %10s %12s %10s %10s\n", "records", "input MB", "wall s", "CPU s", "peak RSS MB",
              "page MB", "open s");
  for (int64_t n : sizes) {
    const fs::path results = dir / ("r" + std::to_string(n));
    WriteRecords(results / "annotations.jsonl", n);
    const fs::path page = results / "report.html";
    std::vector<double> seconds, cpu, rss, open;
    for (int r = 0; r < runs; ++r) {
      const groundcap::ProcessRun run = groundcap::RunProcess({GROUNDCAP_BINARY, "report", results.string(), "--no-thumbnails", "--out", page.string()});
      if (!run.exited_ok()) {
        std::fprintf(stderr, "groundcap report failed with status %d\n", run.status);
        return 1;
      }
      seconds.push_back(run.wall_s);
      cpu.push_back(run.cpu_s);
      rss.push_back(run.peak_rss / 1048576.0);
      open.push_back(OpenInChromium(page, dir / "profile"));
    }
    std::printf("%10lld %10.1f %10.2f %10.2f %12.1f %10.1f %10.2f\n", static_cast<long long>(n),
                fs::file_size(results / "annotations.jsonl") / 1048576.0, Median(seconds), Median(cpu), Median(rss),
                fs::file_size(page) / 1048576.0, Median(open));
  }
  fs::remove_all(dir);
  return 0;
}
