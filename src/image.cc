// PLACEHOLDER: replaced by the image layer's owner.
#include "image.h"
namespace groundcap {
void InitImageLibrary(const char*) {}
void ShutdownImageLibrary() {}
void ImageThreadCleanup() {}
}  // namespace groundcap
