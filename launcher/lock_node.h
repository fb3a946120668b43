// The lock server in a UML instance of its own, as SSI/UML ran memexpd: the
// lock node boots INITRD_MEMEXP on the cluster's switch at SUBNET.253 and is
// no cluster node. switchd's gateway forwards two host ports to it: one
// for host clients (ssi-lock --host, plxd), written to the lock port file,
// one for its control (fencing, status), which a relay also serves at the
// cluster's lock control socket.
#pragma once

#include <memory>
#include <string>

#include "common/env.h"
#include "common/event_loop.h"
#include "launcher/cluster_paths.h"
#include "launcher/config.h"
#include "launcher/event_log.h"
#include "launcher/node.h"
#include "launcher/stream_relay.h"

namespace ssiuml {

class LockNode {
 public:
  LockNode(EventLoop* loop, Env* env, const ClusterPaths* paths, EventLog* events, Node::Callbacks callbacks);

  // Boots the lock node and waits, up to timeout_ms, until its lock server
  // answers through the forwarded control port, which *control then names.
  // A boot whose kernel panics gets one more.
  Status Start(const NodeLaunch& launch, const Config& config, uint64_t timeout_ms, std::string* control);
  Node& node() { return *node_; }
  // The address nodes give as ssi.lock=.
  static std::string Address(const Config& config);

 private:
  Status Forward(int host_port, int guest_port);
  // One boot, up to the lock server answering at endpoint.
  Status Boot(const NodeLaunch& launch, const Config& config, const std::string& endpoint, uint64_t timeout_ms);

  static constexpr int kProbeTimeoutMs = 2000;

  EventLoop* loop_;
  Env* env_;
  const ClusterPaths* paths_;
  EventLog* events_;
  Node::Callbacks callbacks_;
  std::unique_ptr<Node> node_;
  StreamRelay relay_;
};

}  // namespace ssiuml
