// PLACEHOLDER: replaced by the simulation owner.
#include "commands.h"
#include "error.h"
namespace groundcap {
int CmdServeSim(const ServeSimOptions&) { return kExitSetupError; }
}  // namespace groundcap
