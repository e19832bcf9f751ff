// Resizing decoded pixels for the teacher: an antialiased lanczos3 filter
// (the kernel libvips and PIL use for LANCZOS), in fixed point, written so
// x86-64 runs it with SSE2/SSSE3. Pure: no I/O, no libraries.
#ifndef GROUNDCAP_RESAMPLE_H_
#define GROUNDCAP_RESAMPLE_H_

#include "image/image.h"
#include "util/geometry.h"

namespace groundcap {

/// Resizes `image` to exactly `target` (both sides >= 1) in either direction.
/// When shrinking, the kernel is stretched by the scale factor so every source
/// pixel contributes (no aliasing); each output pixel's weights sum to exactly
/// 1, so flat areas keep their exact value. An unchanged axis is copied.
RgbImage ResizeLanczos3(const RgbImage& image, Size target);

/// The same arithmetic in plain C++ only (no SIMD): tests check that both
/// give identical bytes.
RgbImage ResizeLanczos3Reference(const RgbImage& image, Size target);

}  // namespace groundcap

#endif  // GROUNDCAP_RESAMPLE_H_
