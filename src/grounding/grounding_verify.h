// What image grounding verifies (step 2): every instance box of a step-1
// record, against its expression's text.
#ifndef GROUNDCAP_GROUNDING_VERIFY_H_
#define GROUNDCAP_GROUNDING_VERIFY_H_

#include <memory>

#include "grounding/grounding_steps.h"
#include "verify/verify_step.h"

namespace groundcap {

/// "step2_verification" is appended to pipeline_steps.
std::shared_ptr<const VerifySubject> MakeGroundingVerifySubject(GroundingConfig config);

}  // namespace groundcap

#endif  // GROUNDCAP_GROUNDING_VERIFY_H_
