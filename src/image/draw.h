// Region marks drawn on RGB pixels for region captioning, and crops of
// regions (pure; no codecs).
#ifndef GROUNDCAP_DRAW_H_
#define GROUNDCAP_DRAW_H_

#include <string>
#include <vector>

#include "image/image.h"
#include "util/geometry.h"

namespace groundcap {

enum class MarkStyle {
  /// DataFlow-MM parity: whole image dimmed to 80%, green rectangles as
  /// OpenCV draws them at thickness 2 (3 px lines, corner pixels left out),
  /// 1-based white numbers on black patches at (x+4, y+20).
  kDataflow,
  /// Default: a distinct colour per region, line width and label size scaled
  /// to the image, labels "[n]" kept inside the image and clear of each
  /// other, regions themselves not dimmed.
  kNumbered,
};

/// How a region is named in drawn labels and prompts for a style:
/// kNumbered -> "[3]", kDataflow -> "3". Prompts must use the same text.
std::string RegionLabel(MarkStyle style, int number);

/// The rectangle around `box` (xyxy pixels), widened by `margin` times the
/// box's width / height on each side and clipped to an image of size
/// `image` (at least 1x1), in whole pixels. Pure: cost estimates use it too.
Box CropRect(const Box& box, double margin, Size image);

/// The part of `image` in CropRect(box, margin, its size). `rect`, when
/// given, receives that rectangle in `image` pixels.
RgbImage CropAround(const RgbImage& image, const Box& box, double margin, Box* rect = nullptr);

/// Returns a copy of `image` with boxes[i] drawn as region number i+1.
/// Boxes are in `image` pixels (xyxy); parts outside the image are clipped.
RgbImage DrawMarks(const RgbImage& image, const std::vector<Box>& boxes, MarkStyle style);

/// The colour used for region `number` in kNumbered style (RGB).
void MarkColor(int number, uint8_t rgb[3]);

/// A label patch in image pixels: [x1, x2) x [y1, y2).
struct LabelRect {
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

/// Where DrawMarks puts things (pure; exposed for tests and the viewer).
struct MarkLayout {
  int line_width = 2;             ///< outline width in pixels
  int glyph_height = 14;          ///< digit height in pixels
  std::vector<LabelRect> labels;  ///< one per box, in box order
};

/// The layout DrawMarks uses for `boxes` on an image of `size`. kNumbered
/// labels lie inside the image and do not overlap each other when there is
/// room; kDataflow labels sit at DataFlow's fixed offset, even off-image.
MarkLayout LayoutMarks(Size size, const std::vector<Box>& boxes, MarkStyle style);

/// Reads the number DrawMarks wrote in kDataflow style for the region whose
/// box starts at (x, y) (its top-left in whole pixels, as drawn), on the
/// image as drawn or after lossy encoding. Each candidate 1..max_number is
/// rendered in place (give or take a pixel) and the one whose strokes best
/// cover the label's white pixels wins; 0 when none matches (no label there,
/// or one drawn over). The simulated teacher reads marks this way, like a
/// model does, so a wrong or illegible digit fails tests.
int ReadDataflowLabel(const RgbImage& image, int x, int y, int max_number);

}  // namespace groundcap

#endif  // GROUNDCAP_DRAW_H_
