// PLACEHOLDER: replaced by the module's owner.
#include <cstdio>
#include "commands.h"
#include "error.h"
namespace groundcap {
int CmdParseReply(const ParseReplyOptions&) { return kExitSetupError; }
}  // namespace groundcap
