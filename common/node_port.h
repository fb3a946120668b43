// How a node's network port says which node it is. ssid boots node N with
// this in the VDE description (eth0=vde,VNL,MAC,,,,DESCRIPTION); switchd
// reads it back, so a port is bound to its node from the handshake on and
// faults follow the port, not the source address the guest writes.
#pragma once

#include <string>

namespace ssiuml {

// "ssiuml-node=N" (one word: UML splits its command line on spaces).
std::string NodePortDescription(int node);
// The node a VDE description names (1-255), or 0 if it names none. vde_plug
// appends " user=U pid=P" to the description it is given: the first word counts.
int NodeOfPortDescription(const std::string& description);

}  // namespace ssiuml
