// Separable lanczos3 in 2.14 fixed point: a vertical pass (output row =
// weighted sum of input rows) then a horizontal pass (a short dot product per
// output pixel). Each pass rounds and clamps to 8 bits, as PIL does.
//
// On x86-64 both passes use pmaddwd, which multiplies pairs of 16-bit values
// and adds each pair into 32 bits, so windows are padded to an even number
// of taps. The vertical pass is SSE2 (every x86-64 CPU); the horizontal pass
// needs SSSE3's byte shuffle to pair up neighbouring pixels' channels and is
// chosen at run time. Integer sums are exact, so every path gives the same
// bytes as the plain C++ one (resample_test checks).
#include "image/resample.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#define GROUNDCAP_X86 1
#endif

namespace groundcap {
namespace {

constexpr int kBits = 14;
constexpr int32_t kOne = 1 << kBits;
constexpr int32_t kHalf = 1 << (kBits - 1);

double Sinc(double x) {
  if (x == 0) return 1;
  x *= std::numbers::pi;
  return std::sin(x) / x;
}

double Lanczos3(double x) { return (x > -3 && x < 3) ? Sinc(x) * Sinc(x / 3) : 0; }

/// For each output index: the first input index of its window and `taps`
/// weights (zero where the kernel is). Every window has the same length
/// (even when the input allows) and lies inside [0, in), which keeps the
/// inner loops branch-free.
struct Weights {
  int taps = 0;
  std::vector<int> start;
  std::vector<int16_t> w;  ///< out x taps, row-major
  bool paired() const { return taps % 2 == 0; }
};

Weights MakeWeights(int in, int out) {
  const double scale = static_cast<double>(in) / out;
  const double stretch = std::max(scale, 1.0);  // antialias when shrinking
  const double support = 3.0 * stretch;
  Weights ws;
  ws.taps = static_cast<int>(std::ceil(2 * support)) + 1;
  ws.taps = std::min(in, ws.taps + ws.taps % 2);
  ws.start.resize(out);
  ws.w.resize(static_cast<size_t>(out) * ws.taps);
  std::vector<double> f(ws.taps);
  for (int i = 0; i < out; ++i) {
    const double center = (i + 0.5) * scale;  // pixel centres at +0.5
    int first = static_cast<int>(std::floor(center - support + 0.5));
    first = std::clamp(first, 0, in - ws.taps);
    double sum = 0;
    for (int k = 0; k < ws.taps; ++k) {
      f[k] = Lanczos3((first + k + 0.5 - center) / stretch);
      sum += f[k];
    }
    // Quantise, then give the rounding remainder to the largest tap so the
    // weights sum to exactly kOne.
    int16_t* w = &ws.w[static_cast<size_t>(i) * ws.taps];
    int32_t total = 0;
    int largest = 0;
    for (int k = 0; k < ws.taps; ++k) {
      w[k] = static_cast<int16_t>(std::lround(f[k] / sum * kOne));
      total += w[k];
      if (w[k] > w[largest]) largest = k;
    }
    w[largest] = static_cast<int16_t>(w[largest] + (kOne - total));
    ws.start[i] = first;
  }
  return ws;
}

uint8_t Clamp8(int32_t v) {
  v >>= kBits;
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

/// Output bytes [x, end) of one output row, plain C++.
void VerticalSpan(const uint8_t* const* rows, const int16_t* w, int taps, size_t x, size_t end,
                  uint8_t* out) {
  for (; x < end; ++x) {
    int32_t acc = kHalf;
    for (int k = 0; k < taps; ++k) acc += w[k] * rows[k][x];
    out[x] = Clamp8(acc);
  }
}

#if GROUNDCAP_X86
/// Two taps' weights as the (w0, w1) pair pmaddwd expects in each lane.
__m128i PairWeights(const int16_t* w) {
  return _mm_set1_epi32(static_cast<int32_t>(static_cast<uint16_t>(w[0]) |
                                             (static_cast<uint32_t>(static_cast<uint16_t>(w[1])) << 16)));
}

/// 16 output bytes at a time: interleave two rows' bytes, widen to 16 bits
/// and pmaddwd against the pair of weights; 4 x 4 int32 sums per chunk.
size_t VerticalSpanSse2(const uint8_t* const* rows, const int16_t* w, int taps, size_t end,
                        uint8_t* out) {
  const __m128i zero = _mm_setzero_si128();
  const __m128i half = _mm_set1_epi32(kHalf);
  size_t x = 0;
  for (; x + 16 <= end; x += 16) {
    __m128i a0 = half, a1 = half, a2 = half, a3 = half;
    for (int k = 0; k < taps; k += 2) {
      const __m128i pw = PairWeights(w + k);
      const __m128i r0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k] + x));
      const __m128i r1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[k + 1] + x));
      const __m128i lo = _mm_unpacklo_epi8(r0, r1);
      const __m128i hi = _mm_unpackhi_epi8(r0, r1);
      a0 = _mm_add_epi32(a0, _mm_madd_epi16(_mm_unpacklo_epi8(lo, zero), pw));
      a1 = _mm_add_epi32(a1, _mm_madd_epi16(_mm_unpackhi_epi8(lo, zero), pw));
      a2 = _mm_add_epi32(a2, _mm_madd_epi16(_mm_unpacklo_epi8(hi, zero), pw));
      a3 = _mm_add_epi32(a3, _mm_madd_epi16(_mm_unpackhi_epi8(hi, zero), pw));
    }
    const __m128i lo16 = _mm_packs_epi32(_mm_srai_epi32(a0, kBits), _mm_srai_epi32(a1, kBits));
    const __m128i hi16 = _mm_packs_epi32(_mm_srai_epi32(a2, kBits), _mm_srai_epi32(a3, kBits));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + x), _mm_packus_epi16(lo16, hi16));
  }
  return x;
}

/// Output pixels [0, end) of one row. Per pixel and pair of taps: shuffle
/// R0 G0 B0 R1 G1 B1 into the 16-bit pairs (R0,R1) (G0,G1) (B0,B1) and
/// pmaddwd. Each pair reads 8 bytes, so the caller keeps `end` to pixels
/// whose window ends before the row does.
__attribute__((target("ssse3"))) void HorizontalSpanSsse3(const uint8_t* row,
                                                            const Weights& ws, int end,
                                                            uint8_t* out) {
  const __m128i pairs = _mm_setr_epi8(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1);
  for (int x = 0; x < end; ++x) {
    const int16_t* w = &ws.w[static_cast<size_t>(x) * ws.taps];
    const uint8_t* p = row + static_cast<size_t>(ws.start[x]) * 3;
    __m128i acc = _mm_set1_epi32(kHalf);
    for (int k = 0; k < ws.taps; k += 2) {
      __m128i px = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 3 * k));
      acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_shuffle_epi8(px, pairs), PairWeights(w + k)));
    }
    const __m128i v = _mm_srai_epi32(acc, kBits);
    const __m128i bytes = _mm_packus_epi16(_mm_packs_epi32(v, v), v);
    uint32_t rgbx = static_cast<uint32_t>(_mm_cvtsi128_si32(bytes));
    std::memcpy(out + 3 * x, &rgbx, 3);
  }
}
#endif

void HorizontalPixel(const uint8_t* p, const int16_t* w, int taps, uint8_t* out) {
  int32_t r = kHalf, g = kHalf, b = kHalf;
  for (int k = 0; k < taps; ++k) {
    r += w[k] * p[3 * k];
    g += w[k] * p[3 * k + 1];
    b += w[k] * p[3 * k + 2];
  }
  out[0] = Clamp8(r);
  out[1] = Clamp8(g);
  out[2] = Clamp8(b);
}

void VerticalPass(const uint8_t* src, size_t row_bytes, int in_rows, uint8_t* dst,
                  int out_rows, bool simd) {
  const Weights ws = MakeWeights(in_rows, out_rows);
  std::vector<const uint8_t*> rows(ws.taps);
  for (int j = 0; j < out_rows; ++j) {
    for (int k = 0; k < ws.taps; ++k) {
      rows[k] = src + static_cast<size_t>(ws.start[j] + k) * row_bytes;
    }
    const int16_t* w = &ws.w[static_cast<size_t>(j) * ws.taps];
    uint8_t* out = dst + static_cast<size_t>(j) * row_bytes;
    size_t done = 0;
#if GROUNDCAP_X86
    if (simd && ws.paired()) done = VerticalSpanSse2(rows.data(), w, ws.taps, row_bytes, out);
#endif
    VerticalSpan(rows.data(), w, ws.taps, done, row_bytes, out);
  }
  (void)simd;
}

void HorizontalPass(const uint8_t* src, int in_width, int rows, uint8_t* dst, int out_width,
                    bool simd) {
  const Weights ws = MakeWeights(in_width, out_width);
  // Windows start in order, so the ones that end before the row does are a
  // prefix: those go to SSSE3, the last few to plain C++.
  int simd_end = 0;
#if GROUNDCAP_X86
  if (simd && ws.paired() && __builtin_cpu_supports("ssse3")) {
    while (simd_end < out_width && ws.start[simd_end] + ws.taps < in_width) ++simd_end;
  }
#endif
  (void)simd;
  for (int y = 0; y < rows; ++y) {
    const uint8_t* row = src + static_cast<size_t>(y) * in_width * 3;
    uint8_t* out = dst + static_cast<size_t>(y) * out_width * 3;
#if GROUNDCAP_X86
    if (simd_end > 0) HorizontalSpanSsse3(row, ws, simd_end, out);
#endif
    for (int x = simd_end; x < out_width; ++x) {
      HorizontalPixel(row + static_cast<size_t>(ws.start[x]) * 3,
                      &ws.w[static_cast<size_t>(x) * ws.taps], ws.taps, out + 3 * x);
    }
  }
}

RgbImage Resize(const RgbImage& image, Size target, bool simd) {
  RgbImage tall;  // after the vertical pass
  const RgbImage* cur = &image;
  if (target.height != image.height) {
    tall = RgbImage::Filled(image.width, target.height);
    VerticalPass(image.pixels.data(), static_cast<size_t>(image.width) * 3, image.height,
                 tall.pixels.data(), tall.height, simd);
    cur = &tall;
  }
  if (target.width == cur->width) {
    if (cur == &image) return image;
    return tall;
  }
  RgbImage out = RgbImage::Filled(target.width, cur->height);
  HorizontalPass(cur->pixels.data(), cur->width, cur->height, out.pixels.data(), out.width, simd);
  return out;
}

}  // namespace

RgbImage ResizeLanczos3(const RgbImage& image, Size target) { return Resize(image, target, true); }

RgbImage ResizeLanczos3Reference(const RgbImage& image, Size target) {
  return Resize(image, target, false);
}

}  // namespace groundcap
