// ssi-test's "check lock-history FILE": the histories every node's ssi-lock
// --history wrote, merged, with the end of each node incarnation that died
// holding a lock added as "fenced" (from events.jsonl: the lock server gives
// such a lock away only after the node is gone), then checked by the mutex
// checker (lockserver/mutex_checker.h). Holds of different nodes may overlap
// by the guests' clock skew (a few milliseconds), not more.
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "lockserver/mutex_checker.h"

namespace ssiuml {

// histories: node -> the text of its history file. events: events.jsonl.
Status CheckLockHistory(const std::map<int, std::string>& histories, const std::string& events,
                        lock::CheckResult* result);

}  // namespace ssiuml
