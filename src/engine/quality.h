// The parts of quality flagging every product shares: a product lists the
// flags its checks raise (name + whether it blocks by default); the spec key
// <pipeline>.quality.block chooses which ones make a sample "flagged".
#ifndef GROUNDCAP_QUALITY_H_
#define GROUNDCAP_QUALITY_H_

#include <set>
#include <string>
#include <vector>

#include "spec/spec.h"

namespace groundcap {

/// One flag a product's checks can raise.
struct FlagInfo {
  const char* name;
  bool blocking;  ///< blocks unless quality.block says otherwise
};

/// Names of the flags in `flags` that block by default.
std::set<std::string> DefaultBlockingFlags(const std::vector<FlagInfo>& flags);

/// The `quality.block` spec field for `flags` (default: those that block).
SpecField QualityBlockField(const std::vector<FlagInfo>& flags);

/// Reads <pipeline>.quality.block; a name not in `flags` is a SetupError
/// naming the key and the valid names.
std::set<std::string> BlockingFlagsFromSpec(const Spec& spec, const std::vector<FlagInfo>& flags);

}  // namespace groundcap

#endif  // GROUNDCAP_QUALITY_H_
