#include "switchd/control_server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/unix_socket.h"

namespace ssiuml::vde {

ControlServer::~ControlServer() {
  if (listener_.valid()) ::unlink(path_.c_str());
}

Status ControlServer::Listen(const std::string& path) {
  path_ = path;
  Status s = ListenUnix(path, &listener_);
  if (s.ok()) loop_->Watch(listener_.get(), EPOLLIN, [this](uint32_t) { Accept(); });
  return s;
}

void ControlServer::Accept() {
  for (;;) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    clients_[fd].fd.Reset(fd);
    loop_->Watch(fd, EPOLLIN, [this, fd](uint32_t) { Read(fd); });
  }
}

void ControlServer::Read(int fd) {
  Client& client = clients_[fd];
  char buf[4096];
  bool open = true;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      client.lines.Feed(std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    if (n == 0 || errno != EAGAIN) open = false;
    break;
  }
  std::string line;
  while (client.lines.Next(&line))
    (void)WriteAllFd(fd, handler_(line).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  if (!open || client.lines.dropped_lines() > 0) {
    loop_->Unwatch(fd);
    clients_.erase(fd);
  }
}

}  // namespace ssiuml::vde
