// Image preparation throughput on one core: PrepareForTeacher (load, EXIF
// orientation, downscale to a ~1 megapixel budget with shrink-on-load, JPEG
// q90) + Base64Encode, the work done for every teacher request.
//
//   image_bench --generate DIR
//       writes DIR/12mp.jpg (4000x3000) and DIR/1mp.jpg (1152x864), q92
//   image_bench --case FILE [--reps 5] [--iters N]
//       one case in this process (so peak RSS is per case); prints one line
//       `groundcap case=... img_per_s=<median> ... peak_rss_kib=... floor_ms=...`
//       (floor_ms and decode_ms: decode alone at 1/8 and at the scale used,
//       see DecodeMs)
//   image_bench            generate into a temp dir and run both cases, each
//                          in its own child process
//
// bench/run_image_bench.sh runs this side by side with bench/pil_prep.py.
// Results go in docs/performance.md.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "image/image.h"
#include "image/jpeg_codec.h"
#include "util/jsonl.h"

namespace fs = std::filesystem;
using namespace groundcap;

namespace {

constexpr int64_t kPixelBudget = 1003520;  // PrepareOptions' default (1280*28*28)
constexpr int kSendQuality = 90;
constexpr int kSourceQuality = 92;

/// Deterministic xorshift so the images are the same on every run.
struct Rng {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  uint32_t Next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<uint32_t>(s >> 32);
  }
  int Uniform(int n) { return static_cast<int>(Next() % static_cast<uint32_t>(n)); }
};

uint8_t Clamp8(int v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); }

/// Photo-like content so the codec does real work: smooth two-axis colour
/// gradients, a low-frequency texture, random filled rectangles and discs
/// with hard edges, and per-pixel sensor-like noise.
RgbImage Synthesize(int width, int height) {
  RgbImage img;
  img.width = width;
  img.height = height;
  img.pixels.resize(static_cast<size_t>(width) * height * 3);
  Rng rng;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      double fx = static_cast<double>(x) / width, fy = static_cast<double>(y) / height;
      double texture = 18.0 * std::sin(x * 0.021 + 3.0 * std::sin(y * 0.013)) *
                       std::cos(y * 0.017 + 2.0 * std::cos(x * 0.007));
      uint8_t* p = img.at(x, y);
      p[0] = Clamp8(static_cast<int>(40 + 170 * fx + texture));
      p[1] = Clamp8(static_cast<int>(60 + 120 * fy - texture * 0.5));
      p[2] = Clamp8(static_cast<int>(200 - 150 * fx * fy + texture * 0.3));
    }
  }
  const int shapes = 60;
  for (int i = 0; i < shapes; ++i) {
    int cx = rng.Uniform(width), cy = rng.Uniform(height);
    int r = 20 + rng.Uniform(std::max(1, std::min(width, height) / 6));
    uint8_t colour[3] = {static_cast<uint8_t>(rng.Uniform(256)),
                         static_cast<uint8_t>(rng.Uniform(256)),
                         static_cast<uint8_t>(rng.Uniform(256))};
    bool disc = (i % 2) == 0;
    for (int y = std::max(0, cy - r); y < std::min(height, cy + r); ++y) {
      for (int x = std::max(0, cx - r); x < std::min(width, cx + r); ++x) {
        if (disc && (x - cx) * (x - cx) + (y - cy) * (y - cy) > r * r) continue;
        uint8_t* p = img.at(x, y);
        // Shade across the shape so it is not flat.
        int shade = ((x - cx) + (y - cy)) * 40 / r;
        for (int c = 0; c < 3; ++c) p[c] = Clamp8(colour[c] + shade);
      }
    }
  }
  for (size_t i = 0; i < img.pixels.size(); ++i) {
    int noise = static_cast<int>(rng.Next() % 21) - 10;  // +-10 grey levels
    img.pixels[i] = Clamp8(img.pixels[i] + noise);
  }
  return img;
}

int Generate(const std::string& dir) {
  fs::create_directories(dir);
  struct Spec {
    const char* name;
    int w, h;
  };
  for (const Spec& s : {Spec{"12mp.jpg", 4000, 3000}, Spec{"1mp.jpg", 1152, 864}}) {
    auto bytes = EncodeImage(Synthesize(s.w, s.h), "jpeg", kSourceQuality);
    if (!bytes) {
      std::fprintf(stderr, "encode failed: %s\n", bytes.error().message.c_str());
      return 1;
    }
    std::string path = (fs::path(dir) / s.name).string();
    if (auto ok = WriteFileAtomic(path, *bytes); !ok) {
      std::fprintf(stderr, "%s\n", ok.error().message.c_str());
      return 1;
    }
    std::printf("wrote %s %dx%d %.2f MB\n", path.c_str(), s.w, s.h, bytes->size() / 1e6);
  }
  return 0;
}

long PeakRssKib() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;  // KiB on Linux
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Median ms of a libjpeg-turbo decode of `path` at 1/`shrink` scale. At 1/8
/// (one DC value per 8x8 block) Huffman decoding of every coefficient still
/// happens, so that is the least time any libjpeg-based preparation of the
/// file can take, whatever the resize and encode cost; at the scale the
/// preparation needs it is the least any preparation sending as many pixels
/// can take.
double DecodeMs(const std::string& path, int shrink) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<double> ms;
  for (int i = 0; i < 9; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (!DecodeJpeg(bytes, shrink, path, ImageLimits{}.max_pixels)) return -1;
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return Median(ms);
}

int RunCase(const std::string& path, int reps, int iters) {
  PrepareOptions options;
  options.resize = PrepareOptions::Resize::kPixelBudget;
  options.max_pixels = kPixelBudget;
  options.encoding = "jpeg";
  options.jpeg_quality = kSendQuality;

  long baseline_rss_kib = PeakRssKib();  // libraries mapped, libvips initialised, no pixels yet
  auto info = ProbeImage(path);
  if (!info) {
    std::fprintf(stderr, "%s\n", info.error().message.c_str());
    return 1;
  }
  if (iters <= 0) {
    // About half a second of work per repetition at ~100 ms per 12 MP image.
    int64_t mp = static_cast<int64_t>(info->upright.width) * info->upright.height;
    iters = mp > 4000000 ? 4 : 20;
  }
  size_t sink = 0;
  Size sent;
  size_t jpeg_bytes = 0;
  auto one = [&]() -> bool {
    auto prepared = PrepareForTeacher(path, options);
    if (!prepared) {
      std::fprintf(stderr, "%s\n", prepared.error().message.c_str());
      return false;
    }
    std::string b64 = Base64Encode(prepared->bytes);
    sink += b64.size();
    sent = prepared->sent;
    jpeg_bytes = prepared->bytes.size();
    return true;
  };
  if (!one()) return 1;  // warm-up: page cache, codec tables, first allocations
  std::vector<double> rates;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; ++i) {
      if (!one()) return 1;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(iters / s);
  }
  double median = Median(rates);
  std::string all;
  for (double v : rates) all += (all.empty() ? "" : ",") + std::to_string(v);
  long peak_rss_kib = PeakRssKib();
  // The DCT scale PrepareForTeacher picks: the smallest that is not smaller
  // than the sent size (the file is upright, so no axes swap).
  int shrink = 1;
  for (int s : {8, 4, 2}) {
    if ((info->stored.width + s - 1) / s >= sent.width &&
        (info->stored.height + s - 1) / s >= sent.height) {
      shrink = s;
      break;
    }
  }
  double floor_ms = DecodeMs(path, 8);
  double decode_ms = DecodeMs(path, shrink);
  std::printf(
      "groundcap case=%s src=%dx%d sent=%dx%d out_bytes=%zu reps=%d iters=%d "
      "img_per_s=%.3f all=%s peak_rss_kib=%ld baseline_rss_kib=%ld floor_ms=%.2f shrink=%d "
      "decode_ms=%.2f sink=%zu\n",
      fs::path(path).filename().c_str(), info->upright.width, info->upright.height, sent.width,
      sent.height, jpeg_bytes, reps, iters, median, all.c_str(), peak_rss_kib, baseline_rss_kib,
      floor_ms, shrink, decode_ms, sink);
  return 0;
}

/// Runs `self --case path` in a child so each case has its own peak RSS.
int RunChild(const std::string& self, const std::string& path) {
  pid_t pid = fork();
  if (pid == 0) {
    execl(self.c_str(), self.c_str(), "--case", path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string generate_dir, case_path;
  int reps = 5, iters = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--generate" && has_value) {
      generate_dir = argv[++i];
    } else if (a == "--case" && has_value) {
      case_path = argv[++i];
    } else if (a == "--reps" && has_value) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--iters" && has_value) {
      iters = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: %s [--generate DIR] [--case FILE [--reps N] [--iters N]]\n", argv[0]);
      return 2;
    }
  }
  InitImageLibrary(argv[0]);
  int rc = 0;
  if (!generate_dir.empty()) {
    rc = Generate(generate_dir);
  } else if (!case_path.empty()) {
    rc = RunCase(case_path, reps, iters);
  } else {
    std::string dir = (fs::temp_directory_path() / ("image_bench." + std::to_string(getpid())))
                          .string();
    rc = Generate(dir);
    std::string self = fs::read_symlink("/proc/self/exe").string();
    for (const char* name : {"12mp.jpg", "1mp.jpg"}) {
      if (rc == 0) rc = RunChild(self, (fs::path(dir) / name).string());
    }
    fs::remove_all(dir);
  }
  ShutdownImageLibrary();
  return rc;
}
