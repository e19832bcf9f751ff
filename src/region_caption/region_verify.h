// What region captioning verifies (its step 1, `region_caption.verify`):
// every captioned region of a structured-mode record, against its caption.
#ifndef GROUNDCAP_REGION_VERIFY_H_
#define GROUNDCAP_REGION_VERIFY_H_

#include <memory>

#include "region_caption/region_caption.h"
#include "verify/verify_step.h"

namespace groundcap {

std::shared_ptr<const VerifySubject> MakeRegionVerifySubject(RegionCaptionOptions options);

}  // namespace groundcap

#endif  // GROUNDCAP_REGION_VERIFY_H_
