// PLACEHOLDER: replaced by the teacher-clients owner.
#include "sim_server.h"
