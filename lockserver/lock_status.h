// The control socket's view of a LockService: sessions, members, registry,
// locks with holders, waiters and tokens.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "lockserver/lock_service.h"

namespace ssiuml::lock {

// locks: list them (up to a bounded number of rows, so the reply stays well
// under a peer's output bound; "locks_total" counts them all), or leave them
// out for a membership query.
nlohmann::json StatusJson(const LockService& service, uint64_t now_ms, bool locks = true);

}  // namespace ssiuml::lock
