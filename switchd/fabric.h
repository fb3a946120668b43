// Fabric: the switch between its ports, whatever kind they are (VDE clients,
// the gateway, uplinks). Each port gives an output; a frame that comes in is
// routed by SwitchCore and queued for its egress ports, and Flush hands each
// port its queue in one call (one sendmmsg for a VDE port), or later when a
// delay fault asks for it. Outputs never block: frames a port cannot take are
// dropped and counted against that port alone.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/event_loop.h"
#include "switchd/switch_core.h"

namespace ssiuml::vde {

// Internal ports (gateway, uplinks) are numbered from here so they never
// collide with VDE ports, which are 1 to 999.
constexpr int kFirstInternalPort = 1000;

class Fabric {
 public:
  // The most frames one Output call is given, and so the batch ports read.
  static constexpr int kMaxBatch = 64;
  // Sends frames[0..n) in order without blocking; returns how many it took
  // (the rest are dropped as full).
  using Output = std::function<int(const iovec* frames, int n)>;

  Fabric(EventLoop* loop, bool hub);

  void Attach(int port, std::string description, Output output);
  void Detach(int port);
  // Routes one frame. What goes out waits in the egress ports' queues until
  // Flush, so the frame must stay valid until then.
  void Input(int ingress, const uint8_t* frame, size_t len);
  void Flush();

  SwitchCore& core() { return core_; }
  std::string Description(int port) const;

 private:
  struct Port {
    bool attached = false;
    std::string description;
    Output output;
    std::vector<iovec> queue;  // frames for Flush, at most kMaxBatch
  };
  void Queue(int port, const uint8_t* frame, size_t len);
  void FlushPort(int port);
  void ScheduleDelayed();

  EventLoop* loop_;
  SwitchCore core_;
  std::vector<Port> ports_;  // indexed by port number, as in SwitchCore
  std::vector<int> dirty_;   // ports with a queue to flush
  std::vector<Egress> egress_;  // reused by every Input
  std::mt19937_64 random_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  std::multimap<uint64_t, std::pair<int, std::string>> delayed_;
  uint64_t delay_timer_ = 0;  // the armed timer's id (0: none), due at delay_due_
  uint64_t delay_due_ = 0;
};

}  // namespace ssiuml::vde
