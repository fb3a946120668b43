// Gateway: a libslirp stack in restricted mode (nothing leaves the host)
// attached to the fabric as an internal port at 10.77.0.254. It answers ARP
// and ping, hands guest TCP connections to 10.77.0.254:PORT to host unix
// sockets (--gateway-forward), and forwards 127.0.0.1:HOSTPORT on the host
// to a node's port (the control socket's "forward"). slirp's sockets and
// timers are driven by the switch's EventLoop.
#pragma once

#include <poll.h>

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/event_loop.h"
#include "switchd/fabric.h"

struct Slirp;

namespace ssiuml::vde {

struct UnixForward {
  int guest_port;
  std::string socket;
};
// "7400=unix:/path/sock" -> {7400, "/path/sock"}.
Status ParseUnixForward(const std::string& text, UnixForward* forward);

struct HostForward {
  int host_port;  // on 127.0.0.1
  int node;
  int guest_port;
};

class Gateway {
 public:
  Gateway(EventLoop* loop, Fabric* fabric, int port) : loop_(loop), fabric_(fabric), port_(port) {}
  ~Gateway();

  Status Start(const std::vector<UnixForward>& forwards);
  Status AddHostForward(const HostForward& forward);
  const std::vector<HostForward>& host_forwards() const { return host_forwards_; }
  const std::vector<UnixForward>& unix_forwards() const { return unix_forwards_; }

 private:
  struct Timer;
  // slirp's callbacks; opaque is the Gateway.
  static ssize_t SendPacket(const void* buf, size_t len, void* opaque);
  static void GuestError(const char* msg, void* opaque);
  static int64_t ClockNs(void* opaque);
  static void* TimerNew(int id, void* cb_opaque, void* opaque);
  static void TimerFree(void* timer, void* opaque);
  static void TimerMod(void* timer, int64_t expire_ms, void* opaque);
  static void RegisterFd(int fd, void* opaque) {}
  static void UnregisterFd(int fd, void* opaque);
  static void Notify(void* opaque);

  void Output(const uint8_t* frame, size_t len);
  void DrainInbox();
  void Refresh();
  void Poll();

  EventLoop* loop_;
  Fabric* fabric_;
  int port_;
  Slirp* slirp_ = nullptr;
  std::vector<UnixForward> unix_forwards_;
  std::set<int> forwarded_ports_;
  std::vector<HostForward> host_forwards_;
  // Frames for slirp wait here for the loop: slirp answers from inside
  // slirp_input, and the fabric must not be re-entered while it routes.
  std::deque<std::string> inbox_;
  bool drain_armed_ = false;
  std::vector<::pollfd> pollfds_;  // from the last slirp_pollfds_fill
  std::map<int, uint32_t> watched_;     // fd -> epoll events
  uint64_t poll_timer_ = 0;
  std::set<Timer*> timers_;
};

}  // namespace ssiuml::vde
