// Preflight: before the first paid request, ask the teacher's endpoint
// whether it knows the model and accepts the key (Gemini GET models/{model},
// OpenAI-compatible GET /v1/models). An unknown model, a rejected key or an
// unreachable URL is a setup error (exit 2) named plainly, instead of one
// failed record per sample or a stop after the first few samples.
#ifndef GROUNDCAP_PREFLIGHT_H_
#define GROUNDCAP_PREFLIGHT_H_

#include <string>
#include <vector>

#include "spec/spec.h"

namespace groundcap {

/// One endpoint to check: a base URL with its key and the model wanted.
/// Teacher pools check each of theirs (PreflightEndpoint in a loop).
struct PreflightTarget {
  std::string backend;             ///< "openai" or "gemini"
  std::string base_url;            ///< openai: ".../v1"; gemini: the API root
  std::string api_version = "v1beta";  ///< gemini only
  std::string api_key;             ///< secret: sent in a header, never printed
  std::string model;
  std::string where;               ///< spec block for messages, e.g. "image_grounding.vlm.openai"
  double timeout_s = 15;
};

/// What the check found. `error` non-empty = do not start (exit 2);
/// `warning` non-empty = could not check, carry on (a server without the
/// listing, a transient 5xx or 429).
struct PreflightOutcome {
  std::string error;
  std::string warning;
  /// Model names the endpoint serves, closest to the wanted one first
  /// (filled when the listing answered).
  std::vector<std::string> available;
  bool unreachable = false;  ///< the error is "cannot connect" (a pool tolerates some)
  bool ok() const { return error.empty(); }
};

/// Checks ONE endpoint. Blocking (two GETs at most); no retries.
PreflightOutcome PreflightEndpoint(const PreflightTarget& target);

/// `names` ordered by edit distance to `wanted` (closest first, ties by
/// name); pure.
std::vector<std::string> ClosestNames(const std::string& wanted, std::vector<std::string> names);

/// One target per endpoint <pipeline>.vlm.* names (TeacherEndpoints: every
/// pooled URL or Gemini key, plus the URLs of launched servers; keys from the
/// spec or environment, as MakeTeacher reads them). Defined in teacher_config.cc.
std::vector<PreflightTarget> PreflightTargetsFromSpec(const Spec& spec, const std::string& pipeline,
                                                     const std::vector<std::string>& launched_urls = {});

/// Checks every endpoint of <pipeline>.vlm unless <pipeline>.vlm.preflight
/// is false: logs warnings, or throws SetupError with the first error. In a
/// pool, an unreachable endpoint is only a warning while another one answered
/// (the circuit breaker keeps it out until it comes back); a wrong key or an
/// unknown model is an error on any endpoint.
void PreflightTeacher(const Spec& spec, const std::string& pipeline,
                      const std::vector<std::string>& launched_urls = {});

}  // namespace groundcap

#endif  // GROUNDCAP_PREFLIGHT_H_
