#include "switchd/gateway.h"

#include <arpa/inet.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <time.h>

#include <charconv>
#include <cstring>

#include "common/unix_socket.h"
#include "switchd/gateway_nat.h"

namespace ssiuml::vde {

// One slirp timer: an EventLoop timer re-armed by TimerMod.
struct Gateway::Timer {
  SlirpTimerId id;
  void* cb_opaque;
  uint64_t loop_timer = 0;
};

namespace {

in_addr Addr(uint32_t host_order) { return in_addr{htonl(host_order)}; }


}  // namespace

Status ParseUnixForward(const std::string& text, UnixForward* forward) {
  size_t eq = text.find("=unix:");
  const char* end = text.data() + (eq == std::string::npos ? 0 : eq);
  auto [ptr, ec] = std::from_chars(text.data(), end, forward->guest_port);
  if (eq == std::string::npos || ec != std::errc() || ptr != end || forward->guest_port < 1 ||
      forward->guest_port > 65535)
    return Status::InvalidArgument("--gateway-forward wants PORT=unix:PATH, not '" + text + "'");
  forward->socket = text.substr(eq + 6);
  if (forward->socket.empty() || !FitsSunPath(forward->socket))
    return Status::InvalidArgument("--gateway-forward socket path empty or too long: '" + text + "'");
  return Status::OK();
}

Gateway::~Gateway() {
  if (slirp_ != nullptr) slirp_cleanup(slirp_);
  for (Timer* timer : timers_) {
    loop_->Cancel(timer->loop_timer);
    delete timer;
  }
  for (auto& [fd, events] : watched_) loop_->Unwatch(fd);
  loop_->Cancel(poll_timer_);
}

Status Gateway::Start(const std::vector<UnixForward>& forwards) {
  SlirpConfig config{};
  config.version = 4;
  config.restricted = 1;
  config.in_enabled = true;
  // slirp's network is the /16 so the hidden forward address (gateway_nat.h)
  // is inside it; the nodes themselves use 10.77.0.0/24.
  config.vnetwork = Addr(0x0a4d0000);
  config.vnetmask = Addr(0xffff0000);
  config.vhost = Addr(kGatewayIp);
  config.vdhcp_start = Addr(0x0a4d02fe);
  config.vnameserver = Addr(kGatewayIp);
  config.disable_host_loopback = true;
  config.disable_dns = true;
  config.disable_dhcp = true;
  static const SlirpCb callbacks = [] {
    SlirpCb cb{};
    cb.send_packet = &Gateway::SendPacket;
    cb.guest_error = &Gateway::GuestError;
    cb.clock_get_ns = &Gateway::ClockNs;
    cb.timer_free = &Gateway::TimerFree;
    cb.timer_mod = &Gateway::TimerMod;
    cb.register_poll_fd = &Gateway::RegisterFd;
    cb.unregister_poll_fd = &Gateway::UnregisterFd;
    cb.notify = &Gateway::Notify;
    cb.timer_new_opaque = [](SlirpTimerId id, void* cb_opaque, void* opaque) {
      return Gateway::TimerNew(id, cb_opaque, opaque);
    };
    return cb;
  }();
  slirp_ = slirp_new(&config, &callbacks, this);
  if (slirp_ == nullptr) return Status::IOError("slirp_new failed");
  for (const UnixForward& f : forwards) {
    in_addr hidden = Addr(kHiddenIp);
    if (slirp_add_unix(slirp_, f.socket.c_str(), &hidden, f.guest_port) != 0)
      return Status::InvalidArgument("gateway forward of port " + std::to_string(f.guest_port) + " failed");
    forwarded_ports_.insert(f.guest_port);
    spdlog::info("gateway: 10.77.0.254:{} -> unix:{}", f.guest_port, f.socket);
  }
  unix_forwards_ = forwards;
  fabric_->Attach(port_, "gateway 10.77.0.254 (slirp, restricted)", [this](const iovec* frames, int n) {
    for (int i = 0; i < n; ++i) Output(static_cast<const uint8_t*>(frames[i].iov_base), frames[i].iov_len);
    return n;
  });
  Refresh();
  return Status::OK();
}

Status Gateway::AddHostForward(const HostForward& f) {
  for (const HostForward& known : host_forwards_)
    if (known.host_port == f.host_port) return Status::Busy("host port " + std::to_string(f.host_port) + " is forwarded");
  if (slirp_add_hostfwd(slirp_, 0, Addr(0x7f000001), f.host_port, Addr(0x0a4d0000 | uint32_t(f.node)), f.guest_port) != 0)
    return Status::IOError("cannot listen on 127.0.0.1:" + std::to_string(f.host_port));
  host_forwards_.push_back(f);
  spdlog::info("gateway: 127.0.0.1:{} -> 10.77.0.{}:{}", f.host_port, f.node, f.guest_port);
  Refresh();
  return Status::OK();
}

void Gateway::Output(const uint8_t* frame, size_t len) {
  inbox_.emplace_back(reinterpret_cast<const char*>(frame), len);
  if (drain_armed_) return;
  drain_armed_ = true;
  loop_->After(0, [this] { DrainInbox(); });
}

void Gateway::DrainInbox() {
  drain_armed_ = false;
  while (!inbox_.empty()) {
    std::string& frame = inbox_.front();
    auto* bytes = reinterpret_cast<uint8_t*>(frame.data());
    RewriteToHidden(bytes, frame.size(), forwarded_ports_);
    slirp_input(slirp_, bytes, static_cast<int>(frame.size()));
    inbox_.pop_front();
  }
  Refresh();
}

ssize_t Gateway::SendPacket(const void* buf, size_t len, void* opaque) {
  auto* self = static_cast<Gateway*>(opaque);
  uint8_t frame[kMaxFrame];
  if (len > sizeof frame) return -1;
  std::memcpy(frame, buf, len);
  RewriteFromHidden(frame, len);
  self->fabric_->Input(self->port_, frame, len);
  self->fabric_->Flush();  // frame lives on this stack
  return static_cast<ssize_t>(len);
}

void Gateway::GuestError(const char* msg, void*) { spdlog::debug("gateway: guest error: {}", msg); }

int64_t Gateway::ClockNs(void*) {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void* Gateway::TimerNew(int id, void* cb_opaque, void* opaque) {
  auto* self = static_cast<Gateway*>(opaque);
  auto* timer = new Timer{static_cast<SlirpTimerId>(id), cb_opaque};
  self->timers_.insert(timer);
  return timer;
}

void Gateway::TimerFree(void* t, void* opaque) {
  auto* self = static_cast<Gateway*>(opaque);
  auto* timer = static_cast<Timer*>(t);
  self->loop_->Cancel(timer->loop_timer);
  self->timers_.erase(timer);
  delete timer;
}

void Gateway::TimerMod(void* t, int64_t expire_ms, void* opaque) {
  auto* self = static_cast<Gateway*>(opaque);
  auto* timer = static_cast<Timer*>(t);
  self->loop_->Cancel(timer->loop_timer);
  int64_t now = static_cast<int64_t>(EventLoop::NowMs());
  timer->loop_timer = self->loop_->After(expire_ms > now ? uint64_t(expire_ms - now) : 0, [self, timer] {
    timer->loop_timer = 0;
    slirp_handle_timer(self->slirp_, timer->id, timer->cb_opaque);
    self->Refresh();
  });
}

// slirp closes the fd next: drop the watch now, before the number is reused.
void Gateway::UnregisterFd(int fd, void* opaque) {
  auto* self = static_cast<Gateway*>(opaque);
  if (self->watched_.erase(fd) != 0) self->loop_->Unwatch(fd);
}

void Gateway::Notify(void* opaque) {
  auto* self = static_cast<Gateway*>(opaque);
  if (self->drain_armed_) return;
  self->drain_armed_ = true;
  self->loop_->After(0, [self] { self->DrainInbox(); });
}

// Asks slirp which sockets it wants polled and for how long, and mirrors
// that in the EventLoop.
void Gateway::Refresh() {
  pollfds_.clear();
  uint32_t timeout = UINT32_MAX;
  slirp_pollfds_fill(
      slirp_, &timeout,
      [](int fd, int events, void* opaque) {
        auto* self = static_cast<Gateway*>(opaque);
        short ev = 0;
        if (events & SLIRP_POLL_IN) ev |= POLLIN;
        if (events & SLIRP_POLL_OUT) ev |= POLLOUT;
        if (events & SLIRP_POLL_PRI) ev |= POLLPRI;
        self->pollfds_.push_back({fd, ev, 0});
        return static_cast<int>(self->pollfds_.size() - 1);
      },
      this);
  std::map<int, uint32_t> wanted;
  for (const pollfd& p : pollfds_)
    wanted[p.fd] |= (p.events & POLLIN ? uint32_t{EPOLLIN} : 0) | (p.events & POLLOUT ? uint32_t{EPOLLOUT} : 0) |
                    (p.events & POLLPRI ? uint32_t{EPOLLPRI} : 0);
  for (auto it = watched_.begin(); it != watched_.end();) {
    if (wanted.count(it->first) == 0) {
      loop_->Unwatch(it->first);
      it = watched_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [fd, events] : wanted) {
    auto it = watched_.find(fd);
    if (it == watched_.end()) {
      loop_->Watch(fd, events, [this](uint32_t) { Poll(); });
      watched_[fd] = events;
    } else if (it->second != events) {
      loop_->Modify(fd, events);
      it->second = events;
    }
  }
  loop_->Cancel(poll_timer_);
  poll_timer_ = timeout == UINT32_MAX ? 0 : loop_->After(timeout, [this] {
    poll_timer_ = 0;
    Poll();
  });
}

void Gateway::Poll() {
  int n = ::poll(pollfds_.data(), pollfds_.size(), 0);
  slirp_pollfds_poll(
      slirp_, n < 0,
      [](int idx, void* opaque) -> int {
        const pollfd& p = static_cast<Gateway*>(opaque)->pollfds_[static_cast<size_t>(idx)];
        // A host socket whose peer closed polls as HUP. slirp asks for HUP
        // only with IN; once it has stopped reading it asks for OUT alone,
        // to pass on what the guest sent since. Told HUP, it takes its read
        // path, which skips the write and so never learns the peer is gone:
        // it asks for OUT again at once, and the loop spins until the guest
        // closes its side, minutes when that node is dead. Told OUT, it
        // writes, gets EPIPE, and stops asking. (An error goes with it: a
        // read clears it, so it cannot make the loop spin.)
        if ((p.revents & POLLHUP) && !(p.events & POLLIN))
          return SLIRP_POLL_OUT | (p.revents & POLLERR ? SLIRP_POLL_ERR : 0);
        return (p.revents & POLLIN ? SLIRP_POLL_IN : 0) | (p.revents & POLLOUT ? SLIRP_POLL_OUT : 0) |
               (p.revents & POLLPRI ? SLIRP_POLL_PRI : 0) | (p.revents & POLLERR ? SLIRP_POLL_ERR : 0) |
               (p.revents & POLLHUP ? SLIRP_POLL_HUP : 0);
      },
      this);
  Refresh();
}

}  // namespace ssiuml::vde
