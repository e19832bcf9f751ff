// Plain geometry types shared by the image layer, the box parsers and the
// pipelines. All boxes inside groundcap are [x1, y1, x2, y2] floats in pixels
// of the upright original image, origin top-left, x2/y2 exclusive edges.
#ifndef GROUNDCAP_GEOMETRY_H_
#define GROUNDCAP_GEOMETRY_H_

#include <algorithm>
#include <optional>
#include <string>

namespace groundcap {

struct Size {
  int width = 0;
  int height = 0;
  bool operator==(const Size&) const = default;
};

/// An axis-aligned box in original-image pixels.
struct Box {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  std::string label;            ///< text label from the reply, if any
  std::optional<double> score;  ///< confidence from the reply, if any

  double width() const { return x2 - x1; }
  double height() const { return y2 - y1; }
  double area() const { return std::max(0.0, width()) * std::max(0.0, height()); }
};

/// Intersection over union of two boxes (0 when either is empty).
inline double IoU(const Box& a, const Box& b) {
  double ix = std::max(0.0, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  double iy = std::max(0.0, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  double inter = ix * iy;
  double uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.0;
}

}  // namespace groundcap

#endif  // GROUNDCAP_GEOMETRY_H_
