// The cluster's lock server as ssid sees it: the daemon it starts on the host
// (or the control endpoint of one in a lock node), the fencing link, each node's boot id passed on so only the node itself can
// open sessions as that node, and the membership view for ssi-status.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "common/env.h"
#include "common/event_loop.h"
#include "launcher/cluster_paths.h"
#include "launcher/daemon_control.h"
#include "launcher/daemon_process.h"
#include "launcher/event_log.h"
#include "launcher/lock_link.h"

namespace ssiuml {

class LockDaemon {
 public:
  LockDaemon(EventLoop* loop, Env* env, const ClusterPaths* paths, EventLog* events)
      : loop_(loop), env_(env), paths_(paths), events_(events) {}

  // on_change(node, joined, cause) runs when the lock server's member list
  // changes, seen by polling it (ssid records it as an event).
  using MemberCallback = std::function<void(int node, bool joined, const std::string& cause)>;
  Status Start(int heartbeat_ms, int expiry_missed, LockLink::FenceHandler fence, MemberCallback on_change);
  // Uses a lock server ssid did not start here: the lock node's, whose
  // control ssid reaches at endpoint (see ConnectEndpoint).
  // A lock node's server also gets the host's clock, now and twice a
  // second (send_host_clock), for the guests that set theirs from it.
  Status Attach(const std::string& endpoint, LockLink::FenceHandler fence, MemberCallback on_change,
                bool send_host_clock = false);
  // The lock node died: its lock server is gone with it.
  void Detach();
  void Stop(uint64_t grace_ms) {
    stopping_ = true;
    loop_->Cancel(poll_timer_);
    loop_->Cancel(clock_timer_);
    daemon_.Stop(loop_, grace_ms);
  }
  bool Exited(pid_t pid);
  bool running() const { return !control_.empty(); }
  bool stopping() const { return stopping_; }
  // The node's agent answered with this boot id.
  void NodeBooted(int node, const std::string& boot_id);
  // Node number -> membership state ("member", "fencing", ...), as the lock
  // server answers now (within DaemonStatusQuery's bounds).
  Status Members(std::map<int, std::string>* members);
  // Why the membership view is missing, for ssi-status; empty while the lock
  // server answers.
  const std::string& trouble() const { return status_query_.trouble(); }

 private:
  EventLoop* loop_;
  Env* env_;
  const ClusterPaths* paths_;
  EventLog* events_;
  DaemonProcess daemon_{"lockserver"};
  std::string control_;  // where the running lock server takes control requests
  void PollMembers();
  void SendHostClock();

  DaemonStatusQuery status_query_{"lockserver"};
  std::unique_ptr<LockLink> link_;
  MemberCallback on_change_;
  std::map<int, std::string> members_;  // as last polled
  std::map<int, uint64_t> fenced_ms_;     // when the lock server last asked to fence a node
  uint64_t poll_timer_ = 0;
  uint64_t clock_timer_ = 0;
  bool stopping_ = false;
};

}  // namespace ssiuml
