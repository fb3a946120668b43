// Addresses of the lockserver's TCP listeners, and what a connection may do
// given the listener it came in on and who it comes from. With --listen the
// server runs inside a lock node: every peer arrives over the virtual network,
// and only --host-peer (the gateway address host forwards come from) is the host.
#pragma once

#include <netinet/in.h>

#include <optional>
#include <string>

#include "common/status.h"

namespace ssiuml::lock {

// What a connection may do: host and node sessions (kTcp), node sessions
// only (kGateway), or the control protocol (kControl).
enum class Origin { kTcp, kGateway, kControl };

enum class Listener {
  kLoopbackTcp,    // --tcp: loopback, so the host
  kGatewaySocket,  // --gateway-socket: switchd relays guests
  kControlSocket,  // --control: a unix socket only the user reaches
  kInet,           // --listen: the host peer is the host, anyone else a node
  kControlInet,    // --control-listen: the host peer only
};

// A dotted IPv4 address.
Status ParseIpv4(const std::string& text, in_addr* addr);
// "IP:PORT" with a dotted IPv4 address and a port 0-65535 (0: any free one).
Status ParseIpv4Port(const std::string& text, sockaddr_in* addr);
// What a connection accepted on listener from peer may do; nullopt: close it.
std::optional<Origin> ConnectionOrigin(Listener listener, const in_addr& peer, const in_addr& host_peer);

}  // namespace ssiuml::lock
