// CommandUplink (cmd://COMMAND): COMMAND runs under /bin/sh with one end of
// a stream socket as its stdin and stdout, carrying VDE's stream format, the
// one vde_plug speaks there: each frame a 2-byte big-endian length, then the
// frame. `cmd://ssh HOST vde_plug /run/sw` joins a switch on another host.
//
// libvdeplug's cmd plugin does this with blocking writes, blocks in read
// once the command exits and waits for the command when closed, any of
// which would stall the switch. Here nothing blocks: frames the command does
// not take in time are dropped and counted against the uplink, a command that
// exits or sends a length past the largest frame ends the uplink (logged, its
// port leaves the switch, the switch goes on), and closing stops the command (SIGTERM to its process
// group, SIGKILL a second later).
#pragma once

#include <sys/types.h>

#include <string>

#include "common/fd.h"
#include "switchd/uplink.h"

namespace ssiuml::vde {

class CommandUplink : public Uplink {
 public:
  CommandUplink(EventLoop* loop, Fabric* fabric, int port) : loop_(loop), fabric_(fabric), port_(port) {}
  ~CommandUplink() override;
  Status Start(const std::string& command);

 private:
  static constexpr size_t kMaxFrame = 9216 + 18;     // as VDE ports read
  static constexpr size_t kMaxPending = 256 * 1024;  // unwritten bytes before frames are dropped

  void OnEvents(uint32_t events);
  void Read();
  int Output(const iovec* frames, int n);
  void Drain();
  void UpdateWatch();
  void End(const std::string& why);
  void Reap(int tries_left);

  EventLoop* loop_;
  Fabric* fabric_;
  int port_;
  std::string command_;
  UniqueFd fd_;
  pid_t pid_ = -1;  // leads its own process group; -1 once reaped
  std::string in_;       // read, not yet a whole frame
  std::string pending_;  // for the command, not yet written
  bool watching_out_ = false;
  uint64_t detach_timer_ = 0;  // armed once the uplink ended
};

}  // namespace ssiuml::vde
