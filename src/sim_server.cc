// PLACEHOLDER: replaced by the module's owner.
#include <cstdio>
#include "commands.h"
#include "error.h"
namespace groundcap {
int CmdServeSim(const ServeSimOptions&) { return kExitSetupError; }
}  // namespace groundcap
