// The ssi-* commands' side of RUN/ssid.sock, and starting ssid on demand.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "launcher/cluster_paths.h"
#include "launcher/control_protocol.h"

namespace ssiuml {

// Sends request and passes every progress message to on_progress; *result
// gets the final message. NotFound when no supervisor runs. A supervisor
// silent for longer than idle_timeout_ms (0: forever) is TimedOut.
Status CallSupervisor(const ClusterPaths& paths, const Request& request,
                      const std::function<void(const nlohmann::json&)>& on_progress,
                      nlohmann::json* result, int idle_timeout_ms = 0);

// True when ssid answers. If RUN exists without a live ssid, cleans it up
// (killing what the dead supervisor left) and says so in *cleaned.
bool SupervisorRunning(const ClusterPaths& paths, bool* cleaned);

// Kills a wedged ssid (RUN/ssid.pid) and everything it started.
void ForceStop(const ClusterPaths& paths);

// Starts ssid for the cluster unless one runs, and waits until it answers.
Status EnsureSupervisor(const ClusterPaths& paths, bool verbose);

}  // namespace ssiuml
