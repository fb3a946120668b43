#include "lockserver/listen_address.h"

#include <arpa/inet.h>

#include "lockserver/lock_protocol.h"

namespace ssiuml::lock {

Status ParseIpv4(const std::string& text, in_addr* addr) {
  if (::inet_pton(AF_INET, text.c_str(), addr) != 1)
    return Status::InvalidArgument("'" + text + "' is not an IPv4 address");
  return Status::OK();
}

Status ParseIpv4Port(const std::string& text, sockaddr_in* addr) {
  size_t colon = text.rfind(':');
  uint64_t port = 0;
  *addr = sockaddr_in{};
  addr->sin_family = AF_INET;
  if (colon == std::string::npos || !wire::ParseU64(text.substr(colon + 1), &port) || port > 65535 ||
      !ParseIpv4(text.substr(0, colon), &addr->sin_addr).ok())
    return Status::InvalidArgument("'" + text + "' is not IPV4:PORT");
  addr->sin_port = htons(static_cast<uint16_t>(port));
  return Status::OK();
}

std::optional<Origin> ConnectionOrigin(Listener listener, const in_addr& peer, const in_addr& host_peer) {
  bool host = peer.s_addr == host_peer.s_addr;
  switch (listener) {
    case Listener::kLoopbackTcp: return Origin::kTcp;
    case Listener::kGatewaySocket: return Origin::kGateway;
    case Listener::kControlSocket: return Origin::kControl;
    case Listener::kInet: return host ? Origin::kTcp : Origin::kGateway;
    case Listener::kControlInet: return host ? std::optional(Origin::kControl) : std::nullopt;
  }
  return std::nullopt;
}

}  // namespace ssiuml::lock
