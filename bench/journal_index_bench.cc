// Memory of the checkpoint journal's in-memory index (docs/performance.md
// "Journal index memory"): peak RSS growth per record of opening a journal
// of N entries, for the current Journal and for a replica of the index it
// replaced (unordered_map<string id, {string fp, status, int64 offset}>),
// side by side in one run.
//
// Each measurement runs in a forked child, so one load cannot inherit the
// heap of another: the child reads VmHWM (peak RSS), loads the journal,
// reads VmHWM again and reports the growth through a pipe. Records are
// realistic: ids derived by SampleIdDeriver from image paths (~30-60
// characters, with ~N suffixes for repeated records), 16-hex fingerprints,
// about 1% superseded entries (failures retried).
//
//   journal_index_bench [--records 100000,1000000] [--runs 5] [--dir DIR]
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/journal.h"
#include "engine/sample_id.h"
#include "proc_stats.h"

namespace {

using groundcap::JournalEntry;
using groundcap::JournalStatus;

/// Writes a journal of `n` live entries (plus ~1% superseded ones) to `path`;
/// prints the shape of what it wrote.
void WriteJournal(const std::string& path, int64_t n) {
  size_t min_id = SIZE_MAX, max_id = 0, bytes = 0, lines = 0;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << "{\"format\":\"groundcap-journal\",\"version\":1}\n";
  groundcap::SampleIdDeriver deriver;
  int64_t written = 0;
  for (int64_t i = 0; written < n; ++i) {
    nlohmann::ordered_json rec;
    char path_buf[160];
    if (i % 5 == 4) {  // longer stems: open-images-like hashes with a crop suffix
      std::snprintf(path_buf, sizeof path_buf, "openimages/v7/train/%016llx_%016llx_crop_%s.jpg",
                    static_cast<unsigned long long>(groundcap::Fnv1a64(std::to_string(i))),
                    static_cast<unsigned long long>(groundcap::Fnv1a64(std::to_string(-i))),
                    i % 2 ? "left_top" : "center");
    } else {
      std::snprintf(path_buf, sizeof path_buf, "datasets/coco/train2014/COCO_train2014_%012lld.jpg",
                    static_cast<long long>(i / 20 * 20 + (i % 20 == 3 ? 2 : i % 20)));  // some repeats
    }
    rec["image_path"] = path_buf;
    rec["caption"] = "A person riding a bicycle down a street next to a red bus.";
    const std::string id = deriver.Derive(rec);  // repeats get "~2"
    JournalEntry e;
    e.id = id;
    e.fingerprint = groundcap::Hex64(groundcap::Fnv1a64(id, 0x9e3779b97f4a7c15ULL));
    e.record = rec;
    e.record["sample_id"] = id;
    e.record["status"] = "ok";
    e.record["expressions"] = nlohmann::ordered_json::array(
        {{{"text", "a person"}, {"instances", {{{"bbox", {12, 40, 200, 280}}, {"score", 0.9}}}}}});
    if (i % 100 == 7) {  // a failure, retried later: one superseded line
      JournalEntry f = e;
      f.status = JournalStatus::kFailed;
      f.error = groundcap::Error::Make(groundcap::ErrorKind::kTimeout, "timed out after 60 s");
      f.record = {{"sample_id", id}, {"status", "failed"}};
      const std::string line = groundcap::JournalLine(f);
      out << line;
      bytes += line.size(), ++lines;
    }
    const std::string line = groundcap::JournalLine(e);
    out << line;
    bytes += line.size(), ++lines;
    min_id = std::min(min_id, id.size()), max_id = std::max(max_id, id.size());
    ++written;
  }
  std::printf("# %lld entries in %zu lines, %.0f bytes a line, ids of %zu-%zu characters\n",
              static_cast<long long>(n), lines, static_cast<double>(bytes) / static_cast<double>(lines), min_id,
              max_id);
}

/// The index the journal kept before (journal.h at f4a7a11), loaded the way
/// Journal::Load did: parse every line, last entry of an id wins.
struct LegacyEntry {
  std::string fingerprint;
  JournalStatus status = JournalStatus::kOk;
  int64_t offset = 0;
};

size_t LoadLegacy(const std::string& path) {
  std::unordered_map<std::string, LegacyEntry> index;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::vector<char> buf(1 << 20);  // the same 1 MiB read buffer and line accumulation
  std::string line;
  int64_t pos = 0, line_start = 0;
  bool header = true;
  auto handle_line = [&]() {
    if (header) {
      header = false;
      return;
    }
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return;
    JournalEntry e;
    e.id = j["id"].get<std::string>();
    e.fingerprint = j["fp"].get<std::string>();
    e.status = j["status"] == "ok" ? JournalStatus::kOk : JournalStatus::kFailed;
    e.record = std::move(j["record"]);
    index[e.id] = LegacyEntry{e.fingerprint, e.status, line_start};
  };
  for (ssize_t n; (n = ::pread(fd, buf.data(), buf.size(), pos)) > 0;) {
    for (ssize_t i = 0; i < n; ++i) {
      ++pos;
      if (buf[i] == '\n') {
        handle_line();
        line.clear();
        line_start = pos;
      } else {
        line.push_back(buf[i]);
      }
    }
  }
  ::close(fd);
  return index.size();
}

struct Sample {
  double bytes_per_record = 0;
  double seconds = 0;
};

/// Loads the journal in a child process; returns its peak RSS growth.
Sample Measure(const std::string& path, int64_t n, bool legacy) {
  int fds[2];
  if (::pipe(fds) != 0) std::abort();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const int64_t before = groundcap::bench::PeakRss();
    auto t0 = std::chrono::steady_clock::now();
    // The Journal is closed before the second reading; VmHWM keeps its peak.
    const size_t live = legacy ? LoadLegacy(path) : groundcap::Journal(path).size();
    const int64_t peak = groundcap::bench::PeakRss();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    Sample out{static_cast<double>(peak - before) / static_cast<double>(n), s};
    if (live != static_cast<size_t>(n)) out.bytes_per_record = -1;
    (void)!::write(fds[1], &out, sizeof out);
    ::_exit(0);
  }
  ::close(fds[1]);
  Sample s;
  if (::read(fds[0], &s, sizeof s) != static_cast<ssize_t>(sizeof s)) s.bytes_per_record = -2;
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return s;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes = {100000, 1000000};
  int runs = 5;
  std::string dir = "/tmp/journal_index_bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--records") {
      sizes.clear();
      std::stringstream ss(v);
      for (std::string x; std::getline(ss, x, ',');) sizes.push_back(std::atoll(x.c_str()));
    } else if (a == "--runs") {
      runs = std::max(1, std::atoi(v.c_str()));
    } else if (a == "--dir") {
      dir = v;
    }
  }
  std::printf("%-9s %-8s %22s %14s %12s\n", "records", "index", "peak RSS growth B/rec", "(min..max)",
              "load s");
  for (int64_t n : sizes) {
    const std::string path = dir + "/n" + std::to_string(n) + "/.ckpt/journal.jsonl";
    WriteJournal(path, n);
    std::vector<double> bytes[2], secs[2];
    for (int r = 0; r < runs; ++r) {
      for (int legacy = 1; legacy >= 0; --legacy) {  // interleaved: same machine state for both
        Sample s = Measure(path, n, legacy == 1);
        bytes[legacy].push_back(s.bytes_per_record);
        secs[legacy].push_back(s.seconds);
      }
    }
    for (int legacy = 1; legacy >= 0; --legacy) {
      auto [lo, hi] = std::minmax_element(bytes[legacy].begin(), bytes[legacy].end());
      std::printf("%-9lld %-8s %22.1f %6.1f..%-7.1f %12.2f\n", static_cast<long long>(n),
                  legacy ? "before" : "Journal", Median(bytes[legacy]), *lo, *hi, Median(secs[legacy]));
    }
    std::filesystem::remove_all(dir + "/n" + std::to_string(n));
  }
  return 0;
}
