// PLACEHOLDER: replaced by the module's owner.
#include <cstdio>
#include "commands.h"
#include "error.h"
namespace groundcap {
int CmdGenerate(const std::string&, const std::vector<std::string>&) { std::fprintf(stderr, "not built yet\n"); return kExitSetupError; }
int CmdDefaultSpecs(const std::string&) { return kExitSetupError; }
}  // namespace groundcap
