// The simulated teacher: a Responder (sim_server.h) that answers like a VLM
// would for synthetic scenes (synth.h), by looking at the pixels it receives,
// never at the ground truth. It decodes the image, finds shapes by colour
// segmentation, classifies them, and answers the four prompt kinds of
// docs/formats.md "Prompt protocol" in the imitated model family's own
// coordinate convention for the image it received. Any client mistake in
// orientation, resizing or coordinate mapping therefore shows as wrong boxes.
#ifndef GROUNDCAP_SIM_VISION_H_
#define GROUNDCAP_SIM_VISION_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "boxes/box_format.h"
#include "image/image.h"
#include "sim/sim_server.h"
#include "sim/synth.h"
#include "util/geometry.h"

namespace groundcap {

struct SimOptions {
  std::string imitate = "gemini";  ///< a BoxFormat name, or "auto" (from the request's model)
  double noise = 0;                ///< 0..1: box jitter, missed objects, shape confusions, wrong boxes, wrong verifications
  uint64_t seed = 1;               ///< noise seed; the same request always gets the same reply
};

/// A shape found in pixels. The box is in pixels of the analysed image
/// (x2/y2 exclusive edges, sub-pixel precise).
struct FoundShape {
  Box box;
  int color = 0;                   ///< ObjectPalette() index
  ShapeKind shape = ShapeKind::kCircle;
  int64_t area = 0;                ///< pixels in the component
};

/// Finds every object: connected components of non-background colour
/// (background = median of the image border), each refined to a sub-pixel
/// box, coloured by the nearest palette colour and classified by shape.
std::vector<FoundShape> FindShapes(const RgbImage& image);

/// Classifies a binary mask (row-major, w*h, non-zero = object) by fill
/// ratio, convex-hull solidity and how much of each bbox side it covers.
ShapeKind ClassifyMask(const std::vector<uint8_t>& mask, int w, int h);

/// The dominant object inside `region` (pixels of `image`): the largest
/// connected patch of one palette colour. `margin` pixels along the region's
/// border are ignored (marks are drawn there); pixels inside `hidden`
/// rectangles (labels drawn over the object) are filled in from their
/// left-right mirror image, as every synthetic shape is symmetric. nullopt
/// when the region holds no object colour.
std::optional<FoundShape> DescribeRegion(const RgbImage& image, const Box& region, int margin,
                                        const std::vector<Box>& hidden = {});

/// Which task a prompt asks for (docs/formats.md "Prompt protocol").
/// kVerify (a `Crop <k>: box ...` line) wins over the others but DataFlow's.
enum class SimTask { kExtraction, kGrounding, kRegionStructured, kRegionDataflow, kVerify, kUnknown };
SimTask DetectTask(std::string_view prompt);

/// A shape named in text: "a small red circle" -> color red, shape circle.
struct Mention {
  size_t begin = 0, end = 0;       ///< byte span in the text
  int color = -1;                  ///< palette index, -1 when the text names none
  ShapeKind shape = ShapeKind::kCircle;
};
std::vector<Mention> FindMentions(std::string_view text);

/// How the teacher names a shape it sees: "a red circle", "an orange star".
std::string DescribeShape(const FoundShape& shape);

/// Removes speech artefacts ("in this image we can see", "there is also",
/// ...) and capitalises sentences.
std::string CleanCaption(std::string_view caption);

/// The raw quad a model of family `format` writes for `box` (pixels of the
/// image it received, of size `received`), in the family's order and scale.
/// Qwen2.5-VL answers in pixels of SmartResize(received), as its processor
/// resizes any image that is not already a smart_resize size.
std::array<double, 4> EncodeQuad(const Box& box, BoxFormat format, Size received);

/// Answers one request (pure apart from image decoding).
SimReply SimRespond(const SimRequest& request, const SimOptions& options);

/// The Responder for SimServer. Throws SetupError for an unknown family.
Responder MakeSimResponder(const SimOptions& options);

}  // namespace groundcap

#endif  // GROUNDCAP_SIM_VISION_H_
