#include "switchd/vde_ports.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "common/unix_socket.h"

namespace ssiuml::vde {

VdePorts::VdePorts(EventLoop* loop, Fabric* fabric, std::string dir, int max_ports)
    : loop_(loop), fabric_(fabric), dir_(std::move(dir)), max_ports_(max_ports), batch_(std::make_unique<Batch>()) {
  for (int i = 0; i < kBatch; ++i) {
    batch_->iov[i] = {batch_->frames[i].data(), kBufferSize};
    batch_->msgs[i] = {};
    batch_->msgs[i].msg_hdr.msg_iov = &batch_->iov[i];
    batch_->msgs[i].msg_hdr.msg_iovlen = 1;
  }
}

VdePorts::~VdePorts() {
  for (auto& [number, port] : ports_) ::unlink(port.path.c_str());
  if (ctl_.valid()) ::unlink((dir_ + "/ctl").c_str());
}

Status VdePorts::Listen() {
  if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) return Status::FromErrno("mkdir " + dir_, errno);
  Status s = ListenUnix(dir_ + "/ctl", &ctl_);
  if (s.ok()) loop_->Watch(ctl_.get(), EPOLLIN, [this](uint32_t) { Accept(); });
  return s;
}

void VdePorts::Refuse(const std::string& why) {
  spdlog::warn("refused a VDE client: {}", why);
  ++refused_;
}

// A new client: its request comes on the ctl stream.
void VdePorts::Accept() {
  for (;;) {
    int fd = ::accept4(ctl_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    pending_[fd].Reset(fd);
    // A client that connects and never speaks is dropped after a second.
    loop_->After(1000, [this, fd] {
      if (pending_.count(fd) == 0) return;
      Refuse("no request within a second");
      DropPending(fd);
    });
    loop_->Watch(fd, EPOLLIN, [this, fd](uint32_t) { ReadRequest(fd); });
  }
}

void VdePorts::DropPending(int fd) {
  auto it = pending_.find(fd);
  if (it == pending_.end()) return;
  loop_->Unwatch(fd);
  pending_.erase(it);
}

void VdePorts::ReadRequest(int fd) {
  uint8_t buf[kMaxRequest + 1];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n < 0 && errno == EAGAIN) return;
  Request request;
  Status s = n <= 0 ? Status::IOError("client left before its request")
                    : ParseRequest(buf, static_cast<size_t>(n), &request);
  if (s.ok()) s = OpenPort(fd, request);
  if (!s.ok()) {
    Refuse(s.message());
    DropPending(fd);  // the switch answers errors by closing ctl
  }
}

Status VdePorts::OpenPort(int ctl_fd, const Request& request) {
  int number = request.port;
  if (number == 0) {
    for (number = 1; number <= max_ports_ && ports_.count(number) != 0; ++number) {
    }
  }
  if (number < 1 || number > max_ports_) return Status::Busy("no free port");
  if (ports_.count(number) != 0) return Status::Busy("port " + std::to_string(number) + " is taken");
  if (::access(request.client_path.c_str(), R_OK | W_OK) != 0)
    return Status::FromErrno("client socket " + request.client_path, errno);
  UniqueFd data(::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  Port port;
  port.path = dir_ + "/" + std::to_string(1000 + number).substr(1) + "." + std::to_string(data.get());
  if (!FitsSunPath(port.path)) return Status::InvalidArgument("port socket path too long");
  sockaddr_un self{}, peer{};
  self.sun_family = peer.sun_family = AF_UNIX;
  std::memcpy(self.sun_path, port.path.c_str(), port.path.size());
  std::memcpy(peer.sun_path, request.client_path.c_str(), request.client_path.size());
  ::unlink(port.path.c_str());
  if (::bind(data.get(), reinterpret_cast<sockaddr*>(&self), sizeof self) != 0)
    return Status::FromErrno("bind " + port.path, errno);
  if (::connect(data.get(), reinterpret_cast<sockaddr*>(&peer), sizeof peer) != 0) {
    ::unlink(port.path.c_str());
    return Status::FromErrno("connect " + request.client_path, errno);
  }
  int buffer = 1 << 20;
  ::setsockopt(data.get(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  ::setsockopt(data.get(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  if (::send(ctl_fd, &self, kSockaddrSize, MSG_NOSIGNAL) != static_cast<ssize_t>(kSockaddrSize)) {
    ::unlink(port.path.c_str());
    return Status::IOError("client left during the handshake");
  }
  port.ctl = std::move(pending_[ctl_fd]);
  pending_.erase(ctl_fd);
  port.data = std::move(data);
  int data_fd = port.data.get();
  loop_->Watch(ctl_fd, EPOLLIN | EPOLLRDHUP, [this, number](uint32_t) { CheckCtl(number); });
  loop_->Watch(data_fd, EPOLLIN, [this, number](uint32_t) { ReadFrames(number); });
  ports_[number] = std::move(port);
  fabric_->Attach(number, request.description,
                  [this, data_fd](const iovec* frames, int n) { return SendFrames(data_fd, frames, n); });
  spdlog::info("port {} up: {}", number, request.description);
  return Status::OK();
}

void VdePorts::CheckCtl(int number) {
  auto it = ports_.find(number);
  if (it == ports_.end()) return;
  char buf[64];
  ssize_t n = ::recv(it->second.ctl.get(), buf, sizeof buf, 0);
  if (n > 0 || (n < 0 && errno == EAGAIN)) return;  // the stream stays silent after the handshake
  // A client that sends and leaves at once has its EOF and its last frames
  // reported together: forward what it sent before the port goes.
  ReadFrames(number, std::numeric_limits<int>::max());
  Close(number);
}

void VdePorts::Close(int number) {
  auto it = ports_.find(number);
  if (it == ports_.end()) return;
  loop_->Unwatch(it->second.ctl.get());
  loop_->Unwatch(it->second.data.get());
  ::unlink(it->second.path.c_str());
  ports_.erase(it);
  fabric_->Detach(number);
  spdlog::info("port {} down", number);
}

void VdePorts::ReadFrames(int number, int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    auto it = ports_.find(number);
    if (it == ports_.end()) return;
    int n = ::recvmmsg(it->second.data.get(), batch_->msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;
    for (int i = 0; i < n; ++i) {
      const mmsghdr& m = batch_->msgs[i];
      // A frame longer than the buffer arrives cut (MSG_TRUNC): count it as oversize.
      size_t len = (m.msg_hdr.msg_flags & MSG_TRUNC) ? kMaxFrame + 1 : m.msg_len;
      fabric_->Input(number, batch_->frames[i].data(), len);
    }
    fabric_->Flush();  // before the next recvmmsg reuses the buffers
    if (n < kBatch) return;
  }
}

// Stops at the first frame the client's socket cannot take (full, or the
// client gone): those left are dropped, as vde_switch drops on EAGAIN.
int VdePorts::SendFrames(int fd, const iovec* frames, int n) {
  for (int i = 0; i < n; ++i) {
    batch_->out[i] = {};
    batch_->out[i].msg_hdr.msg_iov = const_cast<iovec*>(&frames[i]);
    batch_->out[i].msg_hdr.msg_iovlen = 1;
  }
  int sent = ::sendmmsg(fd, batch_->out.data(), static_cast<unsigned>(n), MSG_DONTWAIT | MSG_NOSIGNAL);
  return sent < 0 ? 0 : sent;
}

}  // namespace ssiuml::vde
