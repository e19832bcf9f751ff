// The two CPU stages of the JPEG teacher path after decoding, on the common
// 12 MP -> 1 MP case (a 1/2 DCT decode gives 2000x1500; the budget is
// 1156x867): lanczos3 with SIMD against the same arithmetic in plain C++,
// and the JPEG q90 encode. Decode time is in image_bench (decode_ms).
//
//   build/resample_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>

#include "image/jpeg_codec.h"
#include "image/resample.h"

namespace {

using groundcap::RgbImage;
using groundcap::Size;

/// Noise over smooth gradients: no fast path for flat areas in either stage.
RgbImage Photo(int w, int h) {
  RgbImage img = RgbImage::Filled(w, h);
  uint32_t s = 12345;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      s = s * 1664525u + 1013904223u;
      uint8_t* p = img.at(x, y);
      int noise = static_cast<int>(s >> 28) - 8;
      p[0] = static_cast<uint8_t>((x * 255 / w + noise) & 255);
      p[1] = static_cast<uint8_t>((y * 255 / h + noise) & 255);
      p[2] = static_cast<uint8_t>((128 + noise) & 255);
    }
  }
  return img;
}

const RgbImage& Half12Mp() {
  static const RgbImage img = Photo(2000, 1500);
  return img;
}

void BM_Lanczos3Simd(benchmark::State& state) {
  for (auto _ : state) {
    RgbImage out = groundcap::ResizeLanczos3(Half12Mp(), Size{1156, 867});
    benchmark::DoNotOptimize(out.pixels.data());
  }
}
BENCHMARK(BM_Lanczos3Simd)->Unit(benchmark::kMillisecond);

void BM_Lanczos3PlainCpp(benchmark::State& state) {
  for (auto _ : state) {
    RgbImage out = groundcap::ResizeLanczos3Reference(Half12Mp(), Size{1156, 867});
    benchmark::DoNotOptimize(out.pixels.data());
  }
}
BENCHMARK(BM_Lanczos3PlainCpp)->Unit(benchmark::kMillisecond);

void BM_EncodeJpegQ90(benchmark::State& state) {
  static const RgbImage img = groundcap::ResizeLanczos3(Half12Mp(), Size{1156, 867});
  for (auto _ : state) {
    auto bytes = groundcap::EncodeJpeg(img, 90);
    benchmark::DoNotOptimize(bytes->data());
  }
}
BENCHMARK(BM_EncodeJpegQ90)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
