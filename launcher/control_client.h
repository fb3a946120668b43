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

// Runs command on node and collects its output (stdout and stderr merged) and
// exit status.
Status ExecOnNode(const ClusterPaths& paths, int node, const std::string& command,
                  uint64_t timeout_ms, std::string* output, int* exit_status);

// Sends a per-node request (add, rm, pause, resume) and collects the errors
// of the nodes that failed, one line each.
Status NodeRequest(const ClusterPaths& paths, const Request& request,
                   std::vector<std::string>* node_errors);

// ssid's status report (the "status" result).
Status ClusterStatus(const ClusterPaths& paths, nlohmann::json* status);

// Stops the cluster through ssid, or, when ssid is wedged (silent for 30 s;
// its own schedule ends within ~15 s), kills it and everything it started.
// Returns once RUN is gone, so the cluster can be started again at once.
// Errors only when ssid refused (it is already stopping).
Status StopCluster(const ClusterPaths& paths);

// Starts ssid for the cluster unless one runs, and waits until it answers.
// A root (image or VDI@SNAP) replaces the config's ROOT for that ssid.
Status EnsureSupervisor(const ClusterPaths& paths, bool verbose, const std::string& root = "",
                        bool lock_node = false);

}  // namespace ssiuml
