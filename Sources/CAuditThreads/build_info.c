#include "CAuditThreads.h"

#ifndef SWIFT_AUDIT_COMMIT
#define SWIFT_AUDIT_COMMIT ""
#endif

const char *caudit_build_commit(void) { return SWIFT_AUDIT_COMMIT; }
