// The image layer on libvips (the only libvips user in groundcap), except
// the hot path, JPEG files prepared for the teacher, which goes straight
// through libjpeg-turbo (jpeg_codec.h) and our own lanczos3 (resample.h),
// 1.56x faster than libvips on 12 MP (docs/performance.md).
//
// Every function takes an untrusted file or buffer: formats are sniffed from
// magic bytes (JPEG, PNG, WebP only), loaders other than those are blocked,
// truncated data fails instead of producing grey bands, and the header is
// checked against the pixel limit before any pixel is decoded. libvips keeps
// one error buffer for all threads, so after a failure we take and clear it
// and write our own message naming the file.
#include "image/image.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>

#include <vips/vips8>

#include "boxes/box_format.h"
#include "image/jpeg_codec.h"
#include "image/png_chunks.h"
#include "image/resample.h"
#include "util/log.h"

namespace groundcap {
namespace {

using vips::VError;
using vips::VImage;

std::once_flag g_init_once;
std::atomic<bool> g_initialised{false};

/// libvips warns on stderr for every failed tile of a bad file; the error we
/// return already says so, so route them to debug logging. A C callback:
/// nothing may escape.
void VipsWarningHandler(const gchar*, GLogLevelFlags, const gchar* message, gpointer) {
  try {
    GC_DEBUG("libvips: {}", message ? message : "");
  } catch (...) {
  }
}

/// Every sample allocates and frees 10-30 MB of pixel buffers. glibc would
/// hand each back to the kernel (its dynamic mmap threshold stops at 32 MB
/// and it trims the heap top past twice the last freed mmap size), so every
/// sample paid for page faults and zeroing: 19% of the time of a 12 MP JPEG
/// preparation, 1.2x fewer images per second (docs/performance.md). Keep up
/// to 128 MB of freed heap for reuse instead.
void KeepPixelBuffersInHeap() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
}

void DoInit(const char* argv0) {
  KeepPixelBuffersInHeap();
  if (VIPS_INIT(argv0 ? argv0 : "groundcap") != 0) {
    char* text = vips_error_buffer_copy();
    std::string message = text ? text : "";
    g_free(text);
    throw SetupError("cannot initialise libvips: " + message);
  }
  g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING, VipsWarningHandler, nullptr);
  vips_cache_set_max(0);     // every image is processed once: the cache only holds memory
  vips_concurrency_set(1);   // we run our own pool of workers
  vips_block_untrusted_set(TRUE);
  // Only the three formats we sniff for may be decoded.
  vips_operation_block_set("VipsForeignLoad", TRUE);
  vips_operation_block_set("VipsForeignLoadJpeg", FALSE);
  vips_operation_block_set("VipsForeignLoadPng", FALSE);
  vips_operation_block_set("VipsForeignLoadWebp", FALSE);
  g_initialised = true;
}

void EnsureInit() { std::call_once(g_init_once, DoInit, "groundcap"); }

/// Takes and clears libvips' global error buffer, keeping its first line.
std::string TakeVipsError() {
  char* text = vips_error_buffer_copy();
  std::string message = text ? text : "";
  g_free(text);
  size_t nl = message.find('\n');
  if (nl != std::string::npos) message.resize(nl);
  if (message.size() > 300) message.resize(300);
  return message.empty() ? "unknown libvips error" : message;
}

tl::unexpected<Error> ImageFail(const std::string& what, const std::string& name,
                                const std::string& detail) {
  return Fail(ErrorKind::kImage, what + " '" + name + "': " + detail);
}

/// Opens an image file for reading without ever blocking: O_NONBLOCK keeps
/// open() from waiting on a FIFO's writer, and anything but a regular file
/// (FIFO, device, directory, socket) is refused, so a worker cannot hang on
/// an input path. Returns the descriptor, or the error naming the file.
Result<int> OpenImageFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return ImageFail("cannot open image", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const char* kind = S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISDIR(st.st_mode) ? "a directory"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                     : "not a regular file";
    ::close(fd);
    return ImageFail("not a regular file", path, kind);
  }
  return fd;
}

/// "jpeg", "png", "webp" or "" from the first bytes.
std::string SniffFormat(const unsigned char* p, size_t n) {
  if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return "jpeg";
  if (n >= 8 && std::memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) return "png";
  if (n >= 12 && std::memcmp(p, "RIFF", 4) == 0 && std::memcmp(p + 8, "WEBP", 4) == 0) {
    return "webp";
  }
  return "";
}

/// Where pixels come from: a file path, or bytes in memory (read from
/// `path` when both are set: the path then only names the file in errors).
struct Source {
  const std::string* path = nullptr;
  const std::string* bytes = nullptr;
  std::string Name() const { return path ? *path : std::string("<memory>"); }
};

/// Sniffs the format (reading 16 bytes of a file). Refuses missing, empty and
/// unsupported input.
Result<std::string> Sniff(const Source& src) {
  unsigned char head[16];
  size_t n = 0;
  if (!src.bytes) {
    auto opened = OpenImageFile(*src.path);
    if (!opened) return tl::unexpected(opened.error());
    const int fd = *opened;
    ssize_t got = ::read(fd, head, sizeof head);
    int saved = errno;
    ::close(fd);
    if (got < 0) return ImageFail("cannot read image", *src.path, std::strerror(saved));
    n = static_cast<size_t>(got);
  } else {
    n = std::min(src.bytes->size(), sizeof head);
    std::memcpy(head, src.bytes->data(), n);
  }
  if (n == 0) return ImageFail("empty image file", src.Name(), "0 bytes");
  std::string format = SniffFormat(head, n);
  if (format.empty()) {
    return ImageFail("unsupported image format", src.Name(), "not JPEG, PNG or WebP");
  }
  return format;
}

/// Random access (the default) because rotating by 90 degrees reads out of
/// order; full decodes hold the whole image anyway.
vips::VOption* LoadOptions() {
  return VImage::option()->set("fail_on", VIPS_FAIL_ON_TRUNCATED);
}

/// Opens the header (lazy: no pixels decoded) and checks size and limits.
Result<VImage> OpenHeader(const Source& src, const ImageLimits& limits, ImageInfo* info) {
  EnsureInit();
  auto format = Sniff(src);
  if (!format) return tl::unexpected(format.error());
  VImage image;
  try {
    if (!src.bytes) {
      image = VImage::new_from_file(src.path->c_str(), LoadOptions());
    } else {
      image = VImage::new_from_buffer(src.bytes->data(), src.bytes->size(), "", LoadOptions());
    }
  } catch (const VError&) {
    return ImageFail("cannot read image", src.Name(), TakeVipsError());
  }
  int64_t w = image.width(), h = image.height();
  if (w <= 0 || h <= 0) return ImageFail("zero-size image", src.Name(), "no pixels");
  if (w * h > limits.max_pixels) {
    return ImageFail("image too large", src.Name(),
                     std::to_string(w) + "x" + std::to_string(h) + " is over the limit of " +
                         std::to_string(limits.max_pixels) + " pixels");
  }
  info->stored = Size{static_cast<int>(w), static_cast<int>(h)};
  info->orientation = vips_image_get_orientation(image.get_image());
  if (info->orientation < 1 || info->orientation > 8) info->orientation = 1;
  info->upright = info->orientation >= 5 ? Size{info->stored.height, info->stored.width}
                                         : info->stored;
  info->format = *format;
  return image;
}

/// sRGB, 3 bands, 8 bits, alpha flattened onto white.
VImage ToRgb8(VImage image) {
  if (image.interpretation() != VIPS_INTERPRETATION_sRGB ||
      image.format() != VIPS_FORMAT_UCHAR) {
    image = image.colourspace(VIPS_INTERPRETATION_sRGB);
  }
  if (image.has_alpha()) {
    image = image.flatten(VImage::option()->set("background", std::vector<double>{255, 255, 255}));
  }
  if (image.bands() > 3) image = image.extract_band(0, VImage::option()->set("n", 3));
  if (image.bands() == 1) image = image.bandjoin({image, image});
  if (image.format() != VIPS_FORMAT_UCHAR) image = image.cast(VIPS_FORMAT_UCHAR);
  return image;
}

RgbImage ToRgbImage(VImage image) {
  size_t size = 0;
  void* data = image.write_to_memory(&size);
  RgbImage out;
  out.width = image.width();
  out.height = image.height();
  const uint8_t* p = static_cast<const uint8_t*>(data);
  out.pixels.assign(p, p + size);
  g_free(data);
  return out;
}

VImage FromRgbImage(const RgbImage& image) {
  return VImage::new_from_memory(const_cast<uint8_t*>(image.pixels.data()), image.pixels.size(),
                                 image.width, image.height, 3, VIPS_FORMAT_UCHAR);
}

Result<RgbImage> Decode(const Source& src, const ImageLimits& limits, ImageInfo* info) {
  ImageInfo local;
  auto header = OpenHeader(src, limits, &local);
  if (!header) return tl::unexpected(header.error());
  try {
    RgbImage out = ToRgbImage(ToRgb8(header->autorot()));
    if (info) *info = local;
    return out;
  } catch (const VError&) {
    return ImageFail("cannot decode image", src.Name(), TakeVipsError());
  }
}

/// Resizes to exactly `target` (vips rounds each axis; fix any off-by-one).
VImage ResizeExact(VImage image, Size target) {
  if (image.width() != target.width || image.height() != target.height) {
    double hs = static_cast<double>(target.width) / image.width();
    double vs = static_cast<double>(target.height) / image.height();
    image = image.resize(hs, VImage::option()->set("vscale", vs));
  }
  if (image.width() != target.width || image.height() != target.height) {
    image = image.embed(0, 0, target.width, target.height,
                        VImage::option()->set("extend", VIPS_EXTEND_COPY));
  }
  return image;
}

/// JPEG DCT-scaling factor for shrink-on-load: the largest of 8, 4, 2 that
/// keeps the decoded grid at least `target` on both axes (libjpeg rounds
/// scaled sides up), so the resize after it only ever shrinks. This is
/// PIL's draft() rule. vips thumbnail instead keeps the last 2x for its
/// lanczos pass (notes B.7), which for the common 12 MP -> 1 MP budget
/// (3.46x) meant decoding every pixel at full size.
int JpegShrinkFactor(Size stored, Size target_stored) {
  for (int s : {8, 4, 2}) {
    if ((stored.width + s - 1) / s >= target_stored.width &&
        (stored.height + s - 1) / s >= target_stored.height) {
      return s;
    }
  }
  return 1;
}

/// Inverse of an EXIF orientation: 6 and 8 undo each other, the rest are
/// their own inverse.
int InverseOrientation(int orientation) {
  return orientation == 6 ? 8 : (orientation == 8 ? 6 : orientation);
}

/// Reads a whole file; errors name it.
Result<std::string> ReadWholeFile(const std::string& path) {
  auto opened = OpenImageFile(path);
  if (!opened) return tl::unexpected(opened.error());
  const int fd = *opened;
  std::string bytes;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) bytes.reserve(static_cast<size_t>(st.st_size));
  char chunk[1 << 16];
  for (;;) {
    ssize_t got = ::read(fd, chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int saved = errno;
      ::close(fd);
      return ImageFail("cannot read image", path, std::strerror(saved));
    }
    if (got == 0) break;
    bytes.append(chunk, static_cast<size_t>(got));
  }
  ::close(fd);
  return bytes;
}

/// The hot path, a camera JPEG to the upright `target`, straight through
/// libjpeg-turbo: DCT-scaled decode (JpegShrinkFactor), lanczos3 on the
/// stored grid, then EXIF rotation of the small result. nullopt for CMYK
/// files, which the libvips path converts.
Result<std::optional<RgbImage>> ShrinkJpeg(const std::string& path, const std::string* read,
                                           const ImageInfo& info, Size target,
                                           const ImageLimits& limits) {
  Result<std::string> owned;
  if (!read) {
    owned = ReadWholeFile(path);
    if (!owned) return tl::unexpected(owned.error());
    read = &*owned;
  }
  Size target_stored = info.orientation >= 5 ? Size{target.height, target.width} : target;
  const int shrink = JpegShrinkFactor(info.stored, target_stored);
  bool cmyk = false;
  auto decoded = DecodeJpeg(*read, shrink, path, limits.max_pixels, &cmyk);
  if (!decoded) {
    if (cmyk) return std::optional<RgbImage>();
    return tl::unexpected(decoded.error());
  }
  // The header was read by libvips a moment ago; a file replaced since then
  // would make every box wrong.
  if (decoded->width != (info.stored.width + shrink - 1) / shrink ||
      decoded->height != (info.stored.height + shrink - 1) / shrink) {
    return ImageFail("image changed while being read", path, "its size is not the header's");
  }
  RgbImage pixels = Size{decoded->width, decoded->height} == target_stored
                        ? std::move(*decoded)
                        : ResizeLanczos3(*decoded, target_stored);
  if (info.orientation != 1) {
    pixels = OrientForStorage(pixels, InverseOrientation(info.orientation));
  }
  return std::optional<RgbImage>(std::move(pixels));
}

std::string SaveToBuffer(VImage image, const std::string& format, int quality, bool strip) {
  void* data = nullptr;
  size_t size = 0;
  if (format == "jpeg") {
    image.write_to_buffer(".jpg", &data, &size,
                          VImage::option()
                              ->set("Q", quality)
                              ->set("strip", strip)
                              ->set("subsample_mode", VIPS_FOREIGN_SUBSAMPLE_ON));
  } else if (format == "png") {
    image.write_to_buffer(".png", &data, &size, VImage::option()->set("strip", strip));
  } else {
    image.write_to_buffer(".webp", &data, &size,
                          VImage::option()->set("Q", quality)->set("strip", strip));
  }
  std::string out(static_cast<const char*>(data), size);
  g_free(data);
  return out;
}

Result<bool> CheckEncoding(const PrepareOptions& options) {
  if (options.encoding != "jpeg" && options.encoding != "png") {
    return Fail(ErrorKind::kInvalidInput, "unknown image encoding '" + options.encoding + "'");
  }
  return true;
}

const char* MimeOf(const std::string& encoding) {
  return encoding == "png" ? "image/png" : "image/jpeg";
}

/// Encodes prepared pixels as `options.encoding` (checked by CheckEncoding).
Result<std::string> EncodePrepared(const RgbImage& image, const PrepareOptions& options) {
  if (options.encoding == "jpeg") return EncodeJpeg(image, options.jpeg_quality);
  try {
    return SaveToBuffer(FromRgbImage(image), options.encoding, options.jpeg_quality, true);
  } catch (const VError&) {
    return Fail(ErrorKind::kImage, "cannot encode " + options.encoding + " image: " +
                                       TakeVipsError());
  }
}

/// Whether the file can go to the teacher byte for byte (PrepareOptions::
/// pass_through): upright as stored (no EXIF rotation), 8-bit sRGB or grey
/// without alpha (no CMYK, 16-bit, palette or transparency to convert or
/// flatten onto white) and a single frame. The size check is the caller's.
bool SendableAsIs(VImage& header, const ImageInfo& info, const std::string& bytes) {
  if (info.orientation != 1 || info.stored != info.upright) return false;
  if (header.format() != VIPS_FORMAT_UCHAR || header.has_alpha()) return false;
  const VipsInterpretation interpretation = header.interpretation();
  if (!(header.bands() == 3 && interpretation == VIPS_INTERPRETATION_sRGB) &&
      !(header.bands() == 1 && interpretation == VIPS_INTERPRETATION_B_W)) {
    return false;
  }
  if (vips_image_get_n_pages(header.get_image()) != 1) return false;
  if (!EncodedLooksComplete(bytes, info.format)) return false;  // let the decoder name it
  if (info.format == "png") return PngIsPlain8Bit(bytes);
  return info.format == "jpeg" || info.format == "webp";
}

}  // namespace

void InitImageLibrary(const char* argv0) { std::call_once(g_init_once, DoInit, argv0); }

void ShutdownImageLibrary() {
  if (g_initialised.exchange(false)) vips_shutdown();
}

void ImageThreadCleanup() {
  if (g_initialised) vips_thread_shutdown();
}

Result<ImageInfo> ProbeImage(const std::string& path, const ImageLimits& limits) {
  ImageInfo info;
  auto header = OpenHeader(Source{&path, nullptr}, limits, &info);
  if (!header) return tl::unexpected(header.error());
  return info;
}

Result<RgbImage> LoadImage(const std::string& path, const ImageLimits& limits, ImageInfo* info) {
  return Decode(Source{&path, nullptr}, limits, info);
}

Result<RgbImage> DecodeImage(const std::string& bytes, const ImageLimits& limits,
                             ImageInfo* info) {
  return Decode(Source{nullptr, &bytes}, limits, info);
}

Size PreparedSize(Size size, const PrepareOptions& options) {
  if (size.width <= 0 || size.height <= 0) return size;
  switch (options.resize) {
    case PrepareOptions::Resize::kNone:
      return size;
    case PrepareOptions::Resize::kSmartResize:
      return SmartResize(size, options.factor, options.min_pixels, options.max_pixels);
    case PrepareOptions::Resize::kPixelBudget: {
      int64_t pixels = static_cast<int64_t>(size.width) * size.height;
      if (options.max_pixels <= 0) return size;
      if (pixels <= options.max_pixels && !options.allow_upscale) return size;
      if (pixels == options.max_pixels) return size;
      double scale = std::sqrt(static_cast<double>(options.max_pixels) / pixels);
      // Floor keeps the result within the budget; a side is never below 1.
      int w = std::max(1, static_cast<int>(std::floor(size.width * scale + 1e-9)));
      int h = std::max(1, static_cast<int>(std::floor(size.height * scale + 1e-9)));
      // A side clamped to 1 can push the product over the budget: trim the other.
      if (static_cast<int64_t>(w) * h > options.max_pixels) {
        if (h == 1) w = static_cast<int>(std::max<int64_t>(1, options.max_pixels));
        if (w == 1) h = static_cast<int>(std::max<int64_t>(1, options.max_pixels));
      }
      return Size{w, h};
    }
  }
  return size;
}

Result<PreparedImage> PrepareForTeacher(const std::string& path, const PrepareOptions& options,
                                        const ImageLimits& limits) {
  if (auto ok = CheckEncoding(options); !ok) return tl::unexpected(ok.error());
  PreparedImage out;
  // With pass-through the file is read once: its header is opened from the
  // bytes, which are then sent as they are or decoded from memory.
  Result<std::string> file;
  if (options.pass_through) {
    file = ReadWholeFile(path);
    if (!file) return tl::unexpected(file.error());
  }
  const std::string* read = options.pass_through ? &*file : nullptr;
  auto header = OpenHeader(Source{&path, read}, limits, &out.original);
  if (!header) return tl::unexpected(header.error());
  Size target = PreparedSize(out.original.upright, options);
  out.sent = target;
  if (read && target == out.original.upright && SendableAsIs(*header, out.original, *read)) {
    out.mime = "image/" + out.original.format;
    out.bytes = std::move(*file);
    out.passed_through = true;
    return out;
  }
  out.mime = MimeOf(options.encoding);
  if (out.original.format == "jpeg") {
    auto pixels = ShrinkJpeg(path, read, out.original, target, limits);
    if (!pixels) return tl::unexpected(pixels.error());
    if (*pixels) {
      auto bytes = EncodePrepared(**pixels, options);
      if (!bytes) return tl::unexpected(bytes.error());
      out.bytes = std::move(*bytes);
      return out;
    }
  }
  try {
    VImage image;
    if (target == out.original.upright) {
      image = ResizeExact(ToRgb8(header->autorot()), target);
    } else {
      // thumbnail shrinks on load where the decoder can (WebP), streams, and
      // rotates after shrinking. The target box is of the upright image;
      // thumbnail swaps it for rotated files itself.
      image = VImage::thumbnail(path.c_str(), target.width,
                                VImage::option()
                                    ->set("height", target.height)
                                    ->set("size", VIPS_SIZE_FORCE)
                                    ->set("fail_on", VIPS_FAIL_ON_TRUNCATED));
      image = ResizeExact(ToRgb8(image), target);
    }
    out.bytes = SaveToBuffer(image, options.encoding, options.jpeg_quality, true);
  } catch (const VError&) {
    return ImageFail("cannot prepare image", path, TakeVipsError());
  }
  return out;
}

Result<PreparedImage> PrepareForTeacher(const RgbImage& image, const PrepareOptions& options) {
  if (auto ok = CheckEncoding(options); !ok) return tl::unexpected(ok.error());
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3) {
    return Fail(ErrorKind::kImage, "cannot prepare image: empty or inconsistent pixel buffer");
  }
  EnsureInit();
  PreparedImage out;
  out.original.upright = out.original.stored = Size{image.width, image.height};
  out.original.format = "rgb";
  out.sent = PreparedSize(out.original.upright, options);
  out.mime = MimeOf(options.encoding);
  auto bytes = out.sent == out.original.upright
                   ? EncodePrepared(image, options)
                   : EncodePrepared(ResizeLanczos3(image, out.sent), options);
  if (!bytes) return tl::unexpected(bytes.error());
  out.bytes = std::move(*bytes);
  return out;
}

RgbImage OrientForStorage(const RgbImage& upright, int orientation) {
  if (orientation < 2 || orientation > 8) return upright;
  const int W = upright.width, H = upright.height;
  RgbImage stored;
  bool swap = orientation >= 5;
  stored.width = swap ? H : W;
  stored.height = swap ? W : H;
  stored.pixels.resize(upright.pixels.size());
  for (int sy = 0; sy < stored.height; ++sy) {
    for (int sx = 0; sx < stored.width; ++sx) {
      int ux = sx, uy = sy;
      switch (orientation) {
        case 2: ux = W - 1 - sx; uy = sy; break;
        case 3: ux = W - 1 - sx; uy = H - 1 - sy; break;
        case 4: ux = sx; uy = H - 1 - sy; break;
        case 5: ux = sy; uy = sx; break;
        case 6: ux = W - 1 - sy; uy = sx; break;
        case 7: ux = W - 1 - sy; uy = H - 1 - sx; break;
        case 8: ux = sy; uy = H - 1 - sx; break;
      }
      std::memcpy(stored.at(sx, sy), upright.at(ux, uy), 3);
    }
  }
  return stored;
}

Result<std::string> EncodeImage(const RgbImage& image, const std::string& format, int quality,
                                int exif_orientation) {
  if (format != "jpeg" && format != "png" && format != "webp") {
    return Fail(ErrorKind::kInvalidInput, "unknown image format '" + format + "'");
  }
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3) {
    return Fail(ErrorKind::kImage, "cannot encode image: empty or inconsistent pixel buffer");
  }
  EnsureInit();
  bool oriented = exif_orientation >= 2 && exif_orientation <= 8;
  RgbImage stored = oriented ? OrientForStorage(image, exif_orientation) : RgbImage{};
  const RgbImage& source = oriented ? stored : image;
  try {
    VImage v = FromRgbImage(source).copy();
    if (oriented && format == "png") {
      return WithPngOrientation(SaveToBuffer(v, format, quality, true), exif_orientation);
    }
    if (oriented) v.set(VIPS_META_ORIENTATION, exif_orientation);
    return SaveToBuffer(v, format, quality, /*strip=*/!oriented);
  } catch (const VError&) {
    return Fail(ErrorKind::kImage, "cannot encode " + format + " image: " + TakeVipsError());
  }
}


}  // namespace groundcap
