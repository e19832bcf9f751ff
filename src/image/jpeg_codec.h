// JPEG straight through libjpeg-turbo (the only libjpeg user), for the one
// path where speed matters: every teacher request decodes a camera JPEG at
// reduced size and encodes a small one. libvips (image.cc) handles the rest.
#ifndef GROUNDCAP_JPEG_CODEC_H_
#define GROUNDCAP_JPEG_CODEC_H_

#include <cstdint>
#include <string>

#include "image/image.h"
#include "util/error.h"

namespace groundcap {

/// Decodes `bytes` to RGB with DCT scaling: `shrink` is 1, 2, 4 or 8 and each
/// side becomes ceil(side / shrink). The stored pixel grid is returned (EXIF
/// orientation is the caller's business). Refused, with errors naming
/// `name`: truncated data (a decoder would otherwise pad with grey) and
/// files over `max_pixels` at full size (checked on the header, before any
/// pixel is decoded). CMYK and YCCK files give an error with
/// `*unsupported = true`: the caller may fall back to a slower decoder that
/// converts them.
Result<RgbImage> DecodeJpeg(const std::string& bytes, int shrink, const std::string& name,
                            int64_t max_pixels, bool* unsupported = nullptr);

/// Encodes RGB as a baseline JPEG, 4:2:0 chroma, no metadata.
Result<std::string> EncodeJpeg(const RgbImage& image, int quality);

}  // namespace groundcap

#endif  // GROUNDCAP_JPEG_CODEC_H_
