#include "engine/quality.h"

#include <algorithm>

#include <fmt/core.h>

#include "util/error.h"

namespace groundcap {

std::set<std::string> DefaultBlockingFlags(const std::vector<FlagInfo>& flags) {
  std::set<std::string> names;
  for (const FlagInfo& f : flags) {
    if (f.blocking) names.insert(f.name);
  }
  return names;
}

namespace {

std::string AllNames(const std::vector<FlagInfo>& flags) {
  std::string all;
  for (const FlagInfo& f : flags) all += std::string(all.empty() ? "" : ", ") + f.name;
  return all;
}

}  // namespace

SpecField QualityBlockField(const std::vector<FlagInfo>& flags) {
  std::string blocking;
  for (const std::string& name : DefaultBlockingFlags(flags)) {
    blocking += (blocking.empty() ? "\"" : ", \"") + name + "\"";
  }
  return MakeField("quality.block", FieldType::kStringList, "[" + blocking + "]",
                   "flags that make a sample status \"flagged\" (any of: " + AllNames(flags) + ")");
}

std::set<std::string> BlockingFlagsFromSpec(const Spec& spec, const std::vector<FlagInfo>& flags) {
  const std::string key = spec.pipeline() + ".quality.block";
  std::set<std::string> names;
  for (const std::string& name : spec.List(key)) {
    const bool known = std::any_of(flags.begin(), flags.end(),
                                   [&](const FlagInfo& f) { return name == f.name; });
    if (!known) {
      throw SetupError(fmt::format("{}: unknown flag \"{}\" (any of: {})", key, name, AllNames(flags)));
    }
    names.insert(name);
  }
  return names;
}

}  // namespace groundcap
