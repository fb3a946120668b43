// The control socket's view of a LockService: sessions, members, registry,
// locks with holders, waiters and tokens.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "lockserver/lock_service.h"

namespace ssiuml::lock {

nlohmann::json StatusJson(const LockService& service, uint64_t now_ms);

}  // namespace ssiuml::lock
