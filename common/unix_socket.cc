#include "common/unix_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/event_loop.h"

namespace ssiuml {
namespace {

Status MakeAddress(const std::string& path, sockaddr_un* addr) {
  if (!FitsSunPath(path))
    return Status::InvalidArgument("socket path too long (" + std::to_string(path.size()) +
                                   " bytes, at most 107): " + path);
  std::memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  std::memcpy(addr->sun_path, path.data(), path.size());
  return Status::OK();
}

// A blocking, close-on-exec stream socket connected to addr; name is for
// errors. With timeout_ms >= 0 the connect itself is bounded: a listener
// whose owner is stopped takes connections into its queue until the queue
// is full, and then a blocking connect waits for good.
Status ConnectStream(int family, const sockaddr* addr, socklen_t len, const std::string& name, UniqueFd* fd,
                     int timeout_ms = -1) {
  bool bounded = timeout_ms >= 0;
  UniqueFd sock(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | (bounded ? SOCK_NONBLOCK : 0), 0));
  if (!sock.valid()) return Status::FromErrno("socket", errno);
  const uint64_t start_ms = EventLoop::NowMs();
  for (;;) {
    if (::connect(sock.get(), addr, len) == 0) break;
    int err = errno;
    if (err == EINTR) continue;
    long left = timeout_ms - static_cast<long>(EventLoop::NowMs() - start_ms);
    // A unix listener with a full queue: it may drain; poll cannot tell when.
    if (bounded && err == EAGAIN && left > 0) {
      ::usleep(20000);
      continue;
    }
    if (bounded && err == EINPROGRESS) {  // TCP: done when writable
      struct pollfd pfd = {sock.get(), POLLOUT, 0};
      int ready = left > 0 ? ::poll(&pfd, 1, static_cast<int>(left)) : 0;
      if (ready < 0 && errno == EINTR) continue;
      socklen_t size = sizeof err;
      if (ready == 1 && ::getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &err, &size) == 0 && err == 0) break;
      if (ready != 1) err = ETIMEDOUT;
    }
    if (bounded && err == EAGAIN) err = ETIMEDOUT;
    return Status::FromErrno("connect " + name, err);
  }
  if (bounded) {
    int flags = ::fcntl(sock.get(), F_GETFL);
    if (flags < 0 || ::fcntl(sock.get(), F_SETFL, flags & ~O_NONBLOCK) != 0)
      return Status::FromErrno("fcntl", errno);
  }
  *fd = std::move(sock);
  return Status::OK();
}

// socket: send without SIGPIPE, so a peer that closed is an error, not a death.
Status WriteAll(int fd, const std::string& data, bool socket) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t r = socket ? ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL)
                       : ::write(fd, data.data() + done, data.size() - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(socket ? "send" : "write", errno);
    }
    done += static_cast<size_t>(r);
  }
  return Status::OK();
}

}  // namespace

Status SendPending(int fd, std::string* pending) {
  size_t done = 0;
  Status status;
  while (done < pending->size()) {
    ssize_t n = ::send(fd, pending->data() + done, pending->size() - done, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n <= 0) {
      status = Status::FromErrno("send", n < 0 ? errno : EPIPE);
      break;
    }
    done += static_cast<size_t>(n);
  }
  pending->erase(0, done);
  return status;
}

bool FitsSunPath(const std::string& path) { return path.size() < sizeof(sockaddr_un::sun_path); }

Status ListenUnix(const std::string& path, UniqueFd* fd) {
  sockaddr_un addr;
  Status s = MakeAddress(path, &addr);
  if (!s.ok()) return s;
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return Status::FromErrno("socket", errno);
  ::unlink(path.c_str());
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return Status::FromErrno("bind " + path, errno);
  if (::listen(sock.get(), 64) != 0) return Status::FromErrno("listen " + path, errno);
  *fd = std::move(sock);
  return Status::OK();
}

Status ConnectUnix(const std::string& path, UniqueFd* fd, int timeout_ms) {
  sockaddr_un addr;
  Status s = MakeAddress(path, &addr);
  if (!s.ok()) return s;
  return ConnectStream(AF_UNIX, reinterpret_cast<const sockaddr*>(&addr), sizeof addr, path, fd, timeout_ms);
}

Status ConnectEndpoint(const std::string& endpoint, UniqueFd* fd, int timeout_ms) {
  static const std::string kLoopback = "127.0.0.1:";
  if (endpoint.rfind(kLoopback, 0) != 0) return ConnectUnix(endpoint, fd, timeout_ms);
  int port = 0;
  std::string digits = endpoint.substr(kLoopback.size());
  for (char c : digits) port = c >= '0' && c <= '9' && port < 65536 ? port * 10 + (c - '0') : 65536;
  if (digits.empty() || port < 1 || port > 65535) return Status::InvalidArgument("bad endpoint " + endpoint);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return ConnectStream(AF_INET, reinterpret_cast<const sockaddr*>(&addr), sizeof addr, endpoint, fd, timeout_ms);
}

Status FreeLoopbackPort(int* port) {
  UniqueFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return Status::FromErrno("socket", errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return Status::FromErrno("bind 127.0.0.1:0", errno);
  *port = ntohs(addr.sin_port);
  return Status::OK();
}

Status SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
    return Status::FromErrno("fcntl O_NONBLOCK", errno);
  return Status::OK();
}

Status WriteAllFd(int fd, const std::string& data) { return WriteAll(fd, data, false); }

Status SendAllFd(int fd, const std::string& data) { return WriteAll(fd, data, true); }


}  // namespace ssiuml
