// The documented resource limits of a spec (docs/formats.md, "Spec limits"),
// so that a hostile or mistaken spec fails at setup with a clear message
// instead of exhausting memory: the file is read bounded, and every value is
// converted under one budget in which a YAML alias counts at every use.
#ifndef GROUNDCAP_SPEC_LIMITS_H_
#define GROUNDCAP_SPEC_LIMITS_H_

#include <cstdint>

namespace groundcap {

/// Largest spec file read (a spec is a few kilobytes; 1 MiB).
inline constexpr int64_t kMaxSpecFileBytes = int64_t{1} << 20;
/// Most YAML nodes (mapping entries, list items, scalars) the spec file and
/// its overrides may expand to, aliases expanded ("billion laughs").
inline constexpr int64_t kMaxSpecNodes = 100000;
/// Most bytes of scalar text (keys and values) the spec may expand to,
/// aliases expanded: an alias of a long string repeated many times.
inline constexpr int64_t kMaxSpecExpandedBytes = int64_t{16} << 20;

}  // namespace groundcap

#endif  // GROUNDCAP_SPEC_LIMITS_H_
