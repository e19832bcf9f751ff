// PLACEHOLDER: replaced by the image-layer owner.
#include "spec.h"
namespace groundcap {
std::vector<SpecField> ImagePrepSpecFields() { return {}; }
}  // namespace groundcap
