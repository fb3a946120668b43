#include "common/unix_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

}  // namespace

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

Status ConnectUnix(const std::string& path, UniqueFd* fd) {
  sockaddr_un addr;
  Status s = MakeAddress(path, &addr);
  if (!s.ok()) return s;
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return Status::FromErrno("socket", errno);
  int r;
  do {
    r = ::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } while (r != 0 && errno == EINTR);
  if (r != 0) return Status::FromErrno("connect " + path, errno);
  *fd = std::move(sock);
  return Status::OK();
}

Status SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
    return Status::FromErrno("fcntl O_NONBLOCK", errno);
  return Status::OK();
}

Status WriteAllFd(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t r = ::write(fd, data.data() + done, data.size() - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("write", errno);
    }
    done += static_cast<size_t>(r);
  }
  return Status::OK();
}

}  // namespace ssiuml
