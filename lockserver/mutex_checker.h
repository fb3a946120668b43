// A Jepsen-style checker for histories of an exclusive lock: every grant's
// fencing token is larger than all before it, and no two holders overlap.
// A hold opens at "acquire" (recorded after the GRANT arrived) and closes at
// "release" (recorded before the UNLOCK was sent) or when the fencer
// confirmed the holder dead ("fenced"). Times of different processes must
// compare: one machine's CLOCK_MONOTONIC (lock_torture), or guests' wall
// clocks set from the lock server's (ssi-lock --history, whose skew
// launcher/lock_history.cc allows for).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ssiuml::lock {

struct HistoryEvent {
  enum class Kind { kAcquire, kRelease, kFenced };
  uint64_t time_ns = 0;
  std::string client;
  Kind kind = Kind::kAcquire;
  uint64_t token = 0;  // acquire, release
};

// Lines "<ns> <client> acquire <token>", "<ns> <client> release <token>",
// "<ns> <client> fenced"; blank lines are skipped.
Status ParseHistory(std::string_view text, std::vector<HistoryEvent>* events);

struct CheckResult {
  std::vector<std::string> violations;
  size_t acquires = 0, releases = 0, fenced = 0;
  bool ok() const { return violations.empty(); }
};

CheckResult CheckMutex(std::vector<HistoryEvent> events);

}  // namespace ssiuml::lock
