// A helper daemon ssid owns (the switch, plxd): started in a session of its
// own with a pipe on stdin, so it exits at EOF when ssid goes away however
// ssid dies; stopped by closing that pipe, then SIGKILL after a grace.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/env.h"
#include "common/event_loop.h"
#include "common/fd.h"
#include "launcher/cluster_paths.h"

namespace ssiuml {

class DaemonProcess {
 public:
  explicit DaemonProcess(std::string name) : name_(std::move(name)) {}

  // Starts argv with output to log, then waits (bounded) until ready_path
  // exists: a daemon is of no use to a node before it listens.
  Status Start(Env* env, const ClusterPaths& paths, std::vector<std::string> argv, const std::string& log,
               const std::string& ready_path);
  void Stop(EventLoop* loop, uint64_t grace_ms);
  // Called by the reaper; true if pid was this daemon's.
  bool Exited(Env* env, const ClusterPaths& paths, pid_t pid);
  bool running() const { return pid_ > 0; }
  // Stop was called since the last Start: an exit now is no surprise.
  bool asked_to_stop() const { return !stdin_pipe_.valid(); }
  pid_t pid() const { return pid_; }

 private:
  std::string name_;
  pid_t pid_ = -1;
  UniqueFd stdin_pipe_;
};

}  // namespace ssiuml
