// Image size from the first bytes of a JPEG or PNG file, without a codec:
// cheap enough to estimate every sample at admission (cost/estimate.h), for
// the simulated teacher to count the tokens of what it receives, and for
// `export` to notice an image that changed size since it was labelled.
#ifndef GROUNDCAP_IMAGE_HEADER_H_
#define GROUNDCAP_IMAGE_HEADER_H_

#include <string>

#include "util/geometry.h"

namespace groundcap {

/// Width and height of the stored pixel grid from a PNG (IHDR) or JPEG
/// (SOFn marker) header; {0, 0} for anything else or a header cut short.
/// Pure. EXIF orientation is not applied: every token rule and the pixel
/// budget are symmetric in width and height, so counts do not change.
Size EncodedImageSize(const std::string& bytes);

/// EncodedImageSize of a file, reading its first 4 KiB, then 64 KiB and
/// 1 MiB when a JPEG's SOF marker lies behind large APPn segments (EXIF
/// thumbnails, ICC profiles); {0, 0}
/// when it is not a readable regular JPEG or PNG file.
Size EncodedFileSize(const std::string& path);

}  // namespace groundcap

#endif  // GROUNDCAP_IMAGE_HEADER_H_
