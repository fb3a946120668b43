// Address rewriting for the gateway. libslirp serves a guestfwd (our unix
// forwards) only on an address that is neither its host address nor its DNS
// address, but the nodes must find the gateway, its ping answers and its
// forwarded ports all at 10.77.0.254. So slirp's host is .254 and the
// forwards live on a hidden address outside the nodes' /24; TCP to a
// forwarded port of .254 is rewritten to the hidden address on the way in
// and back on the way out, with both checksums patched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>

namespace ssiuml::vde {

// Addresses in host byte order.
constexpr uint32_t kGatewayIp = 0x0a4d00fe;  // 10.77.0.254
constexpr uint32_t kHiddenIp = 0x0a4d01fe;   // 10.77.1.254, in slirp's /16 only

// Frame from a node: TCP to kGatewayIp:port, port in ports, goes to
// kHiddenIp instead. Returns whether it rewrote.
bool RewriteToHidden(uint8_t* frame, size_t len, const std::set<int>& ports);
// Frame from slirp: IPv4 from kHiddenIp appears to come from kGatewayIp.
bool RewriteFromHidden(uint8_t* frame, size_t len);

}  // namespace ssiuml::vde
