// The image layer: the only code that touches codecs (libvips inside
// image.cc). Everything returns Result: a bad image is a per-sample error.
//
// Every size here is of the upright image (EXIF orientation applied), which
// is what a person sees and what every box in groundcap refers to.
#ifndef GROUNDCAP_IMAGE_H_
#define GROUNDCAP_IMAGE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"
#include "util/geometry.h"

namespace groundcap {

/// Decoded 8-bit RGB pixels, row-major, 3 bytes per pixel, no padding.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;
  /// A `w` x `h` image with every byte set to `value`.
  static RgbImage Filled(int w, int h, uint8_t value = 0) {
    return RgbImage{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3, value)};
  }
  uint8_t* at(int x, int y) { return &pixels[(static_cast<size_t>(y) * width + x) * 3]; }
  const uint8_t* at(int x, int y) const { return &pixels[(static_cast<size_t>(y) * width + x) * 3]; }
};

/// What we learned about a file without decoding all of it.
struct ImageInfo {
  Size upright;          ///< size after EXIF orientation
  Size stored;           ///< size of the stored pixel grid
  int orientation = 1;   ///< EXIF orientation 1-8 (1 = none)
  std::string format;    ///< "jpeg", "png", "webp", ...
};

/// Limits applied to every untrusted image.
struct ImageLimits {
  int64_t max_pixels = 178956970;  ///< decompression-bomb guard (PIL's default)
};

/// Header-only probe: size and orientation. Errors: missing, unreadable,
/// unsupported, zero-size, over the pixel limit.
Result<ImageInfo> ProbeImage(const std::string& path, const ImageLimits& limits = {});

/// Full decode to upright RGB (alpha flattened onto white).
Result<RgbImage> LoadImage(const std::string& path, const ImageLimits& limits = {},
                           ImageInfo* info = nullptr);
/// Decode from memory (the simulated teacher decodes what it receives).
Result<RgbImage> DecodeImage(const std::string& bytes, const ImageLimits& limits = {},
                             ImageInfo* info = nullptr);

/// How to size the image sent to the teacher.
struct PrepareOptions {
  enum class Resize {
    kNone,         ///< send the upright image as is
    kPixelBudget,  ///< downscale (never upscale unless allow_upscale) to <= max_pixels
    kSmartResize,  ///< Qwen2.5-VL processor rule: sides multiple of `factor` in [min,max] pixels
  };
  Resize resize = Resize::kPixelBudget;
  int64_t max_pixels = 1003520;   ///< budget, or smart_resize max_pixels (1280*28*28)
  int64_t min_pixels = 3136;      ///< smart_resize min_pixels (4*28*28)
  int factor = 28;                ///< smart_resize factor
  bool allow_upscale = false;     ///< pixel budget only
  std::string encoding = "jpeg";  ///< "jpeg" or "png"
  int jpeg_quality = 90;
  /// Send the file's own bytes when nothing would change them: JPEG, PNG
  /// or WebP already at the target size, upright (EXIF orientation absent
  /// or 1), 8-bit sRGB or grey, no alpha, palette or CMYK, one frame. The
  /// size comes from the header; no pixel is decoded. Boxes are the same
  /// either way: the sent size is the original's.
  bool pass_through = true;
};

/// The image as sent, with what is needed to map boxes back.
struct PreparedImage {
  ImageInfo original;   ///< of the source file
  Size sent;            ///< size of the encoded image sent to the teacher
  std::string mime;     ///< "image/jpeg" / "image/png" / "image/webp" (passed through)
  std::string bytes;    ///< encoded image
  bool passed_through = false;  ///< bytes are the source file's, unchanged
};

/// Load + orient + resize + encode in one pass, using shrink-on-load.
Result<PreparedImage> PrepareForTeacher(const std::string& path, const PrepareOptions& options,
                                        const ImageLimits& limits = {});
/// Same from already decoded pixels (region captioning draws marks first).
Result<PreparedImage> PrepareForTeacher(const RgbImage& image, const PrepareOptions& options);

/// Target size for an image of `size` under `options` (pure; no I/O).
Size PreparedSize(Size size, const PrepareOptions& options);

/// Encodes pixels. `format` is "jpeg", "png" or "webp". A non-1 `exif_orientation`
/// stores the pixels rotated/flipped so that a viewer applying the tag shows
/// `image` upright (used to make test and synthetic images).
Result<std::string> EncodeImage(const RgbImage& image, const std::string& format,
                                int quality = 90, int exif_orientation = 1);

/// Pure: the stored pixel grid that a viewer applying EXIF `orientation`
/// (1-8) displays as `upright`. Used by EncodeImage and by tests.
RgbImage OrientForStorage(const RgbImage& upright, int orientation);

/// Standard base64 (RFC 4648, no line breaks).
std::string Base64Encode(const std::string& bytes);
/// Strict decode; nullopt-like error on bad input.
Result<std::string> Base64Decode(std::string_view text);


/// Process-wide libvips setup; call once from main before threads start.
void InitImageLibrary(const char* argv0);
void ShutdownImageLibrary();
/// Call at the end of every thread we created that used the image layer.
void ImageThreadCleanup();

}  // namespace groundcap

#endif  // GROUNDCAP_IMAGE_H_
