// From a validated spec to a running teacher: reads <pipeline>.vlm.* (the
// keys are declared by TeacherSpecFields(), spec/spec.h).
#ifndef GROUNDCAP_TEACHER_CONFIG_H_
#define GROUNDCAP_TEACHER_CONFIG_H_

#include <memory>
#include <string>

#include "spec/spec.h"
#include "teacher/teacher.h"

namespace groundcap {

/// Builds the teacher from <pipeline>.vlm.*. Throws SetupError on bad config.
std::unique_ptr<Teacher> MakeTeacher(const Spec& spec, const std::string& pipeline);

}  // namespace groundcap

#endif  // GROUNDCAP_TEACHER_CONFIG_H_
