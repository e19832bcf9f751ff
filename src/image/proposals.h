// Automatic region proposals for records without boxes: DataFlow-MM's
// contour heuristic, reproduced exactly (OpenCV imgproc inside proposals.cc,
// the only OpenCV user).
#ifndef GROUNDCAP_PROPOSALS_H_
#define GROUNDCAP_PROPOSALS_H_

#include <array>
#include <vector>

#include "image/image.h"

namespace groundcap {

/// Grey, 5x5 Gaussian blur, adaptive Gaussian threshold (block 11, C 2,
/// inverted), 8x8 close, external contours, area ratio 0.01-0.8, aspect
/// 0.1-5, at most 0.9 of either side, containment suppression at 0.3,
/// sorted by area descending. Boxes are [x, y, w, h] integer pixels.
std::vector<std::array<int, 4>> ProposeRegions(const RgbImage& image);

}  // namespace groundcap

#endif  // GROUNDCAP_PROPOSALS_H_
