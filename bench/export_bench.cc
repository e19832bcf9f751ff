// `groundcap export` at scale (docs/performance.md "Export"): time and peak
// RSS of exporting N image-grounding records to each format, N = 10k, 100k
// and 1M side by side in one run, to show that memory stays flat.
//
// Records are realistic step-1 records (a ~90-character caption, three
// expressions with spans, one or two boxes each with scores and ids, ~1 KB
// per line); every 100th record failed. All name one existing 640x480 JPEG,
// so the image check (a stat and a header read) runs; a format written as
// "odvg:nocheck" is exported with --no-image-check, to show that check's
// cost. Each export runs in a forked child that reports its wall time and
// VmHWM (peak RSS) through a pipe, so one export cannot inherit another's
// heap.
//
//   export_bench [--records 10000,100000,1000000] [--formats odvg,odvg:nocheck,...] [--dir DIR]
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "export/export_writer.h"
#include "image/image.h"
#include "proc_stats.h"

namespace {

namespace fs = std::filesystem;

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) out.push_back(part);
  return out;
}

void WriteRecords(const fs::path& path, int64_t n) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (int64_t i = 0; i < n; ++i) {
    const std::string sid = fmt::format("img{:08d}-{:08x}", i, static_cast<uint32_t>(i * 2654435761u));
    if (i % 100 == 99) {
      out << fmt::format(R"({{"image_path":"images/a.jpg","caption":"x","sample_id":"{}","status":"failed","error":{{"kind":"timeout","message":"deadline"}}}})",
                         sid)
          << "\n";
      continue;
    }
    const int a = static_cast<int>(i % 300);
    out << fmt::format(
        R"({{"image_path":"images/a.jpg","caption":"a man in a red hat walks a small brown dog past a blue car parked on the street","image_id":"{0}","cleaned_caption":"A man in a red hat walks a small brown dog past a blue car parked on the street.","expressions":[)"
        R"({{"text":"A man in a red hat","instances":[{{"bbox":[{1},20,{2},470],"score":0.93,"bbox_score":0.93,"bbox_id":"{0}:e0:b0"}}],"expression_id":"{0}:e0","char_span":[0,18],"noun_chunk":"man"}},)"
        R"({{"text":"a small brown dog","instances":[{{"bbox":[310,300,420,470],"score":0.8,"bbox_score":0.8,"bbox_id":"{0}:e1:b0"}},{{"bbox":[430,310,500,460],"score":0.6,"bbox_score":0.6,"bbox_id":"{0}:e1:b1"}}],"expression_id":"{0}:e1","char_span":[25,42],"noun_chunk":"dog"}},)"
        R"({{"text":"a blue car","instances":[{{"bbox":[500,200,630,330],"score":0.88,"bbox_score":0.88,"bbox_id":"{0}:e2:b0"}}],"expression_id":"{0}:e2","char_span":[48,58],"noun_chunk":"car"}}],)"
        R"("image_width":640,"image_height":480,"source":"image_grounding","pipeline_steps":["step0_expression_extraction","step1_grounding"],"sample_id":"{0}","status":"ok"}})",
        sid, a % 40, 260 + a % 40)
        << "\n";
  }
}

struct Measure {
  double seconds = 0;
  int64_t peak_rss = 0;
  int64_t written = 0;
};

Measure RunChild(const groundcap::ExportRequest& req) {
  int fds[2];
  if (::pipe(fds) != 0) std::abort();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    auto t0 = std::chrono::steady_clock::now();
    groundcap::ExportCounts c = groundcap::RunExport(req);
    Measure m;
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    m.peak_rss = groundcap::bench::PeakRss();
    m.written = c.records_written;
    if (::write(fds[1], &m, sizeof m) != sizeof m) ::_exit(1);
    ::_exit(0);
  }
  ::close(fds[1]);
  Measure m;
  if (::read(fds[0], &m, sizeof m) != sizeof m) std::abort();
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  std::string records = "10000,100000,1000000";
  std::string formats = "odvg,coco,odvg_detection,qwen2_5_vl,llava,label_studio";
  fs::path dir = fs::temp_directory_path() / "gc_export_bench";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--records") records = argv[i + 1];
    if (a == "--formats") formats = argv[i + 1];
    if (a == "--dir") dir = argv[i + 1];
  }
  fs::create_directories(dir / "images");
  // A real 640x480 JPEG, the size the records say: the image check reads
  // its header (image_size_changed) as it would a photo's. Encoded in a
  // child, so the image libraries do not count in the exports' peak RSS.
  if (pid_t writer = ::fork(); writer == 0) {
    groundcap::InitImageLibrary(argv[0]);
    groundcap::Result<std::string> jpeg =
        groundcap::EncodeImage(groundcap::RgbImage::Filled(640, 480, 128), "jpeg", 90);
    if (!jpeg) ::_exit(1);
    std::ofstream(dir / "images" / "a.jpg", std::ios::binary) << *jpeg;
    ::_exit(0);
  } else {
    int status = 0;
    ::waitpid(writer, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  }
  std::printf("%-16s %9s %10s %9s %12s %10s\n", "format", "records", "written", "seconds", "records/s", "peak MiB");
  for (const std::string& n_text : Split(records)) {
    const int64_t n = std::atoll(n_text.c_str());
    const fs::path input = dir / "annotations.jsonl";
    WriteRecords(input, n);
    std::printf("# %lld records, %.1f MB input\n", static_cast<long long>(n), fs::file_size(input) / 1e6);
    for (std::string f : Split(formats)) {
      // "<format>:nocheck": the same export with --no-image-check.
      const bool no_check = f.size() > 8 && f.compare(f.size() - 8, 8, ":nocheck") == 0;
      groundcap::ExportRequest req;
      req.check_images = !no_check;
      req.format = groundcap::ExportFormatFromName(no_check ? f.substr(0, f.size() - 8) : f);
      req.input = input.string();
      req.output = (dir / ("out_" + f)).string();
      req.image_root = dir.string();
      Measure m = RunChild(req);
      std::printf("%-16s %9lld %10lld %9.2f %12.0f %10.1f\n", f.c_str(), static_cast<long long>(n),
                  static_cast<long long>(m.written), m.seconds, n / m.seconds, m.peak_rss / 1048576.0);
      std::fflush(stdout);
      fs::remove(req.output);
    }
  }
  fs::remove_all(dir);
  return 0;
}
