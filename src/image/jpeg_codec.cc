// libjpeg reports fatal errors through a callback that must not return, and
// nothing may throw through C code, so errors longjmp back to the frame that
// called setjmp. That frame (RunDecode / RunEncode) holds only plain data;
// every C++ object it touches belongs to the caller and outlives the jump.
#include "image/jpeg_codec.h"

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>

// jpeglib.h needs <cstdio> first; jerror.h gives the message codes.
#include <jpeglib.h>
#include <jerror.h>

namespace groundcap {
namespace {

struct ErrorTrap {
  jpeg_error_mgr mgr;  // first: libjpeg hands us &mgr as cinfo->err
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = "";
};

[[noreturn]] void TrapError(j_common_ptr cinfo) {
  auto* trap = reinterpret_cast<ErrorTrap*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, trap->message);
  std::longjmp(trap->jump, 1);
}

/// Warnings (level -1) are tolerated as every viewer tolerates them (stray
/// bytes before a marker, say), except running out of data: libjpeg would
/// pad the missing rows with grey and call it a success.
void TrapMessage(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) TrapError(cinfo);
}

void InstallTrap(ErrorTrap* trap) {
  jpeg_std_error(&trap->mgr);
  trap->mgr.error_exit = TrapError;
  trap->mgr.emit_message = TrapMessage;
}

bool RunDecode(jpeg_decompress_struct* cinfo, ErrorTrap* trap, const std::string& bytes,
               int shrink, int64_t max_pixels, RgbImage* out, bool* unsupported) {
  if (setjmp(trap->jump)) {
    jpeg_destroy_decompress(cinfo);
    return false;
  }
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  jpeg_read_header(cinfo, TRUE);
  if (static_cast<int64_t>(cinfo->image_width) * cinfo->image_height > max_pixels) {
    std::snprintf(trap->message, sizeof trap->message,
                  "%ux%u is over the limit of %lld pixels", cinfo->image_width,
                  cinfo->image_height, static_cast<long long>(max_pixels));
    jpeg_destroy_decompress(cinfo);
    return false;
  }
  if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK) {
    *unsupported = true;
    std::snprintf(trap->message, sizeof trap->message, "CMYK JPEG");
    jpeg_destroy_decompress(cinfo);
    return false;
  }
  cinfo->out_color_space = JCS_RGB;  // also expands greyscale
  cinfo->scale_num = 1;
  cinfo->scale_denom = static_cast<unsigned>(shrink);
  jpeg_start_decompress(cinfo);
  out->width = static_cast<int>(cinfo->output_width);
  out->height = static_cast<int>(cinfo->output_height);
  const size_t stride = static_cast<size_t>(out->width) * 3;
  try {
    out->pixels.resize(stride * out->height);
  } catch (const std::bad_alloc&) {
    std::snprintf(trap->message, sizeof trap->message, "out of memory for %dx%d pixels",
                  out->width, out->height);
    jpeg_destroy_decompress(cinfo);
    return false;
  }
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW rows[4];
    const unsigned left = cinfo->output_height - cinfo->output_scanline;
    const unsigned n = left < 4 ? left : 4;
    for (unsigned i = 0; i < n; ++i) {
      rows[i] = out->pixels.data() + (cinfo->output_scanline + i) * stride;
    }
    jpeg_read_scanlines(cinfo, rows, n);
  }
  jpeg_finish_decompress(cinfo);
  jpeg_destroy_decompress(cinfo);
  return true;
}

bool RunEncode(jpeg_compress_struct* cinfo, ErrorTrap* trap, const RgbImage& image, int quality,
               unsigned char** buffer, unsigned long* size) {
  if (setjmp(trap->jump)) {
    jpeg_destroy_compress(cinfo);
    return false;
  }
  jpeg_create_compress(cinfo);
  jpeg_mem_dest(cinfo, buffer, size);
  cinfo->image_width = static_cast<JDIMENSION>(image.width);
  cinfo->image_height = static_cast<JDIMENSION>(image.height);
  cinfo->input_components = 3;
  cinfo->in_color_space = JCS_RGB;
  jpeg_set_defaults(cinfo);  // YCbCr 4:2:0, baseline, JFIF header only
  jpeg_set_quality(cinfo, quality, TRUE);
  jpeg_start_compress(cinfo, TRUE);
  const size_t stride = static_cast<size_t>(image.width) * 3;
  while (cinfo->next_scanline < cinfo->image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(image.pixels.data() + cinfo->next_scanline * stride);
    jpeg_write_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_compress(cinfo);
  jpeg_destroy_compress(cinfo);
  return true;
}

}  // namespace

Result<RgbImage> DecodeJpeg(const std::string& bytes, int shrink, const std::string& name,
                            int64_t max_pixels, bool* unsupported) {
  bool cmyk = false;
  if (unsupported) *unsupported = false;
  if (shrink != 1 && shrink != 2 && shrink != 4 && shrink != 8) {
    return Fail(ErrorKind::kInternal, "JPEG shrink must be 1, 2, 4 or 8, not " +
                                          std::to_string(shrink));
  }
  jpeg_decompress_struct cinfo{};
  ErrorTrap trap;
  InstallTrap(&trap);
  cinfo.err = &trap.mgr;
  RgbImage out;
  if (!RunDecode(&cinfo, &trap, bytes, shrink, max_pixels, &out, &cmyk)) {
    if (unsupported) *unsupported = cmyk;
    return Fail(ErrorKind::kImage, "cannot decode JPEG '" + name + "': " + trap.message);
  }
  return out;
}

Result<std::string> EncodeJpeg(const RgbImage& image, int quality) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3) {
    return Fail(ErrorKind::kImage, "cannot encode JPEG: empty or inconsistent pixel buffer");
  }
  // Room for the worst case (TurboJPEG's bound for 4:2:0), so libjpeg never
  // reallocates: its reallocation is not safe to unwind after an error.
  // Pages the encoder does not reach are never touched.
  const size_t capacity = static_cast<size_t>((image.width + 15) / 16 * 16) *
                              ((image.height + 15) / 16 * 16) * 3 + 2048;
  std::unique_ptr<unsigned char[]> storage(new unsigned char[capacity]);
  unsigned char* buffer = storage.get();
  unsigned long size = capacity;
  jpeg_compress_struct cinfo{};
  ErrorTrap trap;
  InstallTrap(&trap);
  cinfo.err = &trap.mgr;
  bool ok = RunEncode(&cinfo, &trap, image, quality, &buffer, &size);
  if (buffer != storage.get()) {  // libjpeg grew the buffer after all
    std::string grown = ok ? std::string(reinterpret_cast<char*>(buffer), size) : "";
    std::free(buffer);
    if (ok) return grown;
  }
  if (!ok) return Fail(ErrorKind::kImage, std::string("cannot encode JPEG: ") + trap.message);
  return std::string(reinterpret_cast<char*>(storage.get()), size);
}

}  // namespace groundcap
