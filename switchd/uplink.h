// Uplink: another switch joined through libvdeplug (udp://, vxvde://, a
// vde_switch path, ...), attached to the fabric as one more port, so frames
// from it are learned and flooded like any other port's.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "common/event_loop.h"
#include "switchd/fabric.h"

struct vdeconn;

namespace ssiuml::vde {

class Uplink {
 public:
  Uplink(EventLoop* loop, Fabric* fabric, int port)
      : loop_(loop), fabric_(fabric), port_(port), frames_(Fabric::kMaxBatch) {}
  ~Uplink();

  Status Open(const std::string& vnl);

 private:
  static constexpr size_t kBufferSize = 9216 + 18;  // as VDE ports read
  void Read();

  EventLoop* loop_;
  Fabric* fabric_;
  int port_;
  std::string vnl_;
  vdeconn* conn_ = nullptr;
  std::vector<std::array<uint8_t, kBufferSize>> frames_;  // one read batch
};

}  // namespace ssiuml::vde
