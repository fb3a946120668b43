// Requests to the control sockets of ssid's helper daemons (plxd, switchd):
// one JSON line out, one JSON line back, {"ok":false,"error":...} turned
// into a Status that names the daemon.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace ssiuml {

// A daemon answers at once; reply_timeout_ms bounds the wait for its whole reply.
constexpr int kDaemonReplyTimeoutMs = 30000;

Status DaemonRequest(const std::string& daemon, const std::string& control, const nlohmann::json& request,
                     nlohmann::json* reply = nullptr, int reply_timeout_ms = kDaemonReplyTimeoutMs);

}  // namespace ssiuml
