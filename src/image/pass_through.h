// Pure checks on an image file's bytes for pass-through: whether a file can
// be sent to the teacher as it is instead of being decoded and re-encoded
// (PrepareOptions::pass_through, image.cc). No codec calls: only headers.
#ifndef GROUNDCAP_PASS_THROUGH_H_
#define GROUNDCAP_PASS_THROUGH_H_

#include <string>

namespace groundcap {

/// True for a well-formed PNG header (IHDR first) of 8-bit grey or RGB
/// (colour types 0 and 2) without a tRNS chunk before the image data: what
/// every teacher reads the same way we would. False for palette, alpha,
/// 16-bit, transparency and anything unreadable (then the file is
/// prepared as usual).
bool PngIsPlain8Bit(const std::string& bytes);

}  // namespace groundcap

#endif  // GROUNDCAP_PASS_THROUGH_H_
