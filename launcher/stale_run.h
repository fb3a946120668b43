// Recovery after a supervisor that died: its RUN directory still names the
// process groups it started. Whoever next finds RUN without a live ssid
// (holding RUN/ssid.lock) kills those groups and removes RUN.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/env.h"
#include "launcher/cluster_paths.h"

namespace ssiuml {

// Records that pgid belongs to this cluster (RUN/pids/<name>).
Status RecordProcessGroup(Env* env, const ClusterPaths& paths, const std::string& name,
                          pid_t pgid);
Status ForgetProcessGroup(Env* env, const ClusterPaths& paths, const std::string& name);

// Kills every recorded group still running one of this cluster's programs,
// UML instances found through their umid pid files, and any process carrying
// the cluster's uml_dir= argument, then waits (bounded) for them to vanish.
// Returns how many groups and processes were killed.
int KillRecordedGroups(Env* env, const ClusterPaths& paths);

// True when a process of group pgid is alive.
bool ProcessGroupAlive(pid_t pgid);

}  // namespace ssiuml
