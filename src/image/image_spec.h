// Spec keys of the image layer (image.* under each pipeline block) and their
// conversion to PrepareOptions / ImageLimits.
#ifndef GROUNDCAP_IMAGE_SPEC_H_
#define GROUNDCAP_IMAGE_SPEC_H_

#include <string>

#include "image/image.h"
#include "spec/spec.h"

namespace groundcap {

/// The image preparation options of `pipeline` ("image_grounding" or
/// "region_caption"): reads <pipeline>.image.*.
PrepareOptions PrepareOptionsFromSpec(const Spec& spec, const std::string& pipeline);

/// The untrusted-image limits of `pipeline`: <pipeline>.image.max_source_pixels.
ImageLimits ImageLimitsFromSpec(const Spec& spec, const std::string& pipeline);

}  // namespace groundcap

#endif  // GROUNDCAP_IMAGE_SPEC_H_
