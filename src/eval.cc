// PLACEHOLDER: replaced by the module's owner.
#include <cstdio>
#include "commands.h"
#include "error.h"
namespace groundcap {
int CmdEval(const EvalOptions&) { return kExitSetupError; }
}  // namespace groundcap
