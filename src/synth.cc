// PLACEHOLDER: replaced by the module's owner.
#include <cstdio>
#include "commands.h"
#include "error.h"
namespace groundcap {
int CmdSynth(const SynthOptions&) { return kExitSetupError; }
}  // namespace groundcap
