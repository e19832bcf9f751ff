// From a validated spec to a running teacher: reads <pipeline>.vlm.* (the
// keys are declared by TeacherSpecFields(), spec/spec.h).
#ifndef GROUNDCAP_TEACHER_CONFIG_H_
#define GROUNDCAP_TEACHER_CONFIG_H_

#include <memory>
#include <string>
#include <vector>

#include "spec/spec.h"
#include "teacher/teacher.h"
#include "teacher/teacher_endpoints.h"

namespace groundcap {

/// Builds the teacher from <pipeline>.vlm.*. Throws SetupError on bad config.
std::unique_ptr<Teacher> MakeTeacher(const Spec& spec, const std::string& pipeline);

/// The same, with the URLs of servers this run launched (teacher_launch.h)
/// added to the OpenAI pool after the configured ones.
std::unique_ptr<Teacher> MakeTeacher(const Spec& spec, const std::string& pipeline,
                                     const std::vector<std::string>& launched_urls);

/// Every endpoint the spec (plus `launched_urls`) names for <pipeline>.vlm,
/// keys resolved from the environment: one for a single URL or key. Throws
/// SetupError on a malformed list. Empty when none is configured.
std::vector<EndpointConfig> TeacherEndpoints(const Spec& spec, const std::string& pipeline,
                                             const std::vector<std::string>& launched_urls = {});

}  // namespace groundcap

#endif  // GROUNDCAP_TEACHER_CONFIG_H_
