// Uplinks: other switches joined as one more port each, so frames from them
// are learned and flooded like any other port's. cmd://COMMAND runs COMMAND
// and speaks VDE's stream format on its stdin and stdout (command_uplink.h);
// any other VNL (udp://, vxvde://, a vde_switch path, ...) goes through
// libvdeplug, and when the switch behind it exits, the uplink leaves and
// joins again once that switch is back.
#pragma once

#include <memory>
#include <string>

#include "common/event_loop.h"
#include "switchd/fabric.h"

namespace ssiuml::vde {

// Open while it exists; closing it detaches nothing (the switch is exiting).
class Uplink {
 public:
  virtual ~Uplink() = default;
};

Status OpenUplink(EventLoop* loop, Fabric* fabric, int port, const std::string& vnl, std::unique_ptr<Uplink>* uplink);

}  // namespace ssiuml::vde
