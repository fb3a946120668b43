#include "common/json_line_server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/unix_socket.h"

namespace ssiuml {

JsonLineServer::~JsonLineServer() {
  // The loop may outlive this server and see these fd numbers again.
  for (const auto& [fd, client] : clients_) loop_->Unwatch(fd);
  if (!listener_.valid()) return;
  loop_->Unwatch(listener_.get());
  ::unlink(path_.c_str());
}

Status JsonLineServer::Listen(const std::string& path) {
  path_ = path;
  Status s = ListenUnix(path, &listener_);
  if (s.ok()) loop_->Watch(listener_.get(), EPOLLIN, [this](uint32_t) { Accept(); });
  return s;
}

void JsonLineServer::Accept() {
  for (;;) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    Client& client = clients_[fd];
    client.fd.Reset(fd);
    client.events = EPOLLIN;
    loop_->Watch(fd, EPOLLIN, [this, fd](uint32_t events) { OnEvents(fd, events); });
  }
}

void JsonLineServer::OnEvents(int fd, uint32_t events) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  Client& client = it->second;
  bool keep = !client.reading || (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0 || Read(client);
  if (!Flush(fd, client)) keep = false;
  // A client that shut down its sending side still gets its replies whole.
  if (!client.reading && client.out.empty()) keep = false;
  if (!keep) Drop(fd);
}

bool JsonLineServer::Read(Client& client) {
  char buf[4096];
  // A few reads an event: a client that writes without pause is served in
  // turns with the daemon's other work, and its unanswered lines stay few.
  for (int round = 0; round < kReadsPerEvent; ++round) {
    ssize_t n = ::read(client.fd.get(), buf, sizeof buf);
    if (n > 0) {
      client.lines.Feed(std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) return false;
    if (n == 0) client.reading = false;
    break;
  }
  std::string line;
  while (client.lines.Next(&line)) {
    client.out += Reply(line).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    client.out += '\n';
    if (client.out.size() > kMaxBacklog) return false;  // it does not read its replies
  }
  return client.lines.dropped_lines() == 0;
}

nlohmann::json JsonLineServer::Reply(const std::string& line) {
  try {
    return handler_(line);
  } catch (const nlohmann::json::exception& e) {
    return {{"v", 1}, {"ok", false}, {"error", std::string("a field has the wrong type: ") + e.what()}};
  }
}

bool JsonLineServer::Flush(int fd, Client& client) {
  if (!SendPending(fd, &client.out).ok()) return false;
  uint32_t events = (client.reading ? EPOLLIN : 0u) | (client.out.empty() ? 0u : EPOLLOUT);
  if (events != client.events) {
    client.events = events;
    loop_->Modify(fd, events);
  }
  return true;
}

void JsonLineServer::Drop(int fd) {
  loop_->Unwatch(fd);
  clients_.erase(fd);
}

}  // namespace ssiuml
