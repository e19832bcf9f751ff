// Image size from the first bytes of a JPEG or PNG file, without a codec:
// cheap enough to estimate every sample at admission (cost/estimate.h) and
// for the simulated teacher to count the tokens of what it receives.
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

}  // namespace groundcap

#endif  // GROUNDCAP_IMAGE_HEADER_H_
