// Pure work on PNG chunks (no codec calls): the header check behind
// pass-through (PrepareOptions::pass_through, image.cc) and the eXIf chunk
// that EncodeImage adds for test images with an EXIF orientation.
#ifndef GROUNDCAP_PNG_CHUNKS_H_
#define GROUNDCAP_PNG_CHUNKS_H_

#include <string>

namespace groundcap {

/// True for a well-formed PNG header (IHDR first) of 8-bit grey or RGB
/// (colour types 0 and 2) without a tRNS chunk before the image data: what
/// every teacher reads the same way we would. False for palette, alpha,
/// 16-bit, transparency and anything unreadable (then the file is
/// prepared as usual).
bool PngIsPlain8Bit(const std::string& bytes);

/// Whether an encoded file of `format` ("jpeg", "png", "webp") ends where
/// its structure says: JPEG with the EOI marker (FF D9, trailing zero
/// padding allowed), PNG with the IEND chunk, WebP with as many bytes as
/// its RIFF header declares. A truncated file must not pass through: its
/// header alone looks fine.
bool EncodedLooksComplete(const std::string& bytes, const std::string& format);

/// `png` (as libvips writes it: IHDR first) with an eXIf chunk holding only
/// the EXIF Orientation tag inserted after IHDR: libvips 8.14 writes eXIf
/// only from an EXIF blob, never from the orientation alone.
std::string WithPngOrientation(const std::string& png, int orientation);

}  // namespace groundcap

#endif  // GROUNDCAP_PNG_CHUNKS_H_
