// PLACEHOLDER: replaced by the module's owner.
#include <cstdio>
#include "commands.h"
#include "error.h"
namespace groundcap {
int CmdDemo(const DemoOptions&) { return kExitSetupError; }
}  // namespace groundcap
