// The simulated teacher's token accounting: the prompt tokens it reports are
// counted by the published rules (cost/token_rules.h) on the image as
// received, as a real server would, so estimates can be compared with
// reported usage end to end.
#ifndef GROUNDCAP_SIM_USAGE_H_
#define GROUNDCAP_SIM_USAGE_H_

#include <cstdint>
#include <string>

#include "sim/sim_server.h"

namespace groundcap {

/// Prompt tokens of `req`: ceil(bytes/4) of the system and user text plus
/// each image's tokens under the rule for req.model (and the Gemini
/// generationConfig.mediaResolution of the body, when sent).
int64_t SimPromptTokens(const SimRequest& req);

}  // namespace groundcap

#endif  // GROUNDCAP_SIM_USAGE_H_
