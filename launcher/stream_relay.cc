#include "launcher/stream_relay.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "common/unix_socket.h"

namespace ssiuml {
namespace {

// Control traffic is a few lines; a peer that never reads is cut off here.
constexpr size_t kMaxPending = 1 << 20;

}  // namespace

struct StreamRelay::Pair {
  UniqueFd fd[2];
  std::string pending[2];  // bytes waiting to be written to fd[i]
};

StreamRelay::~StreamRelay() {
  for (const auto& pair : pairs_)
    for (auto& fd : pair->fd) loop_->Unwatch(fd.get());
  if (listen_.valid()) {
    loop_->Unwatch(listen_.get());
    ::unlink(path_.c_str());
  }
}

Status StreamRelay::Listen(const std::string& path, const std::string& endpoint) {
  path_ = path;
  endpoint_ = endpoint;
  Status s = ListenUnix(path, &listen_);
  if (s.ok()) loop_->Watch(listen_.get(), EPOLLIN, [this](uint32_t) { Accept(); });
  return s;
}

void StreamRelay::Accept() {
  for (;;) {
    int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    auto pair = std::make_shared<Pair>();
    pair->fd[0].Reset(fd);
    Status s = ConnectEndpoint(endpoint_, &pair->fd[1]);
    if (s.ok()) s = SetNonBlocking(pair->fd[1].get());
    if (!s.ok()) {
      spdlog::warn("relay {} -> {}: {}", path_, endpoint_, s.message());
      continue;  // closing the accepted end tells the client
    }
    pairs_.insert(pair);
    std::weak_ptr<Pair> weak = pair;
    for (int side = 0; side < 2; ++side)
      loop_->Watch(pair->fd[side].get(), EPOLLIN, [this, weak, side](uint32_t events) {
        if (auto p = weak.lock()) Pump(p, side, events);
      });
  }
}

void StreamRelay::Pump(const std::shared_ptr<Pair>& pair, int from, uint32_t events) {
  int to = 1 - from;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    char buf[65536];
    ssize_t n = ::read(pair->fd[from].get(), buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return Close(pair);
    if (n > 0) pair->pending[to].append(buf, static_cast<size_t>(n));
  }
  // Flush both ways: EPOLLOUT on from means its own backlog can move.
  for (int side : {to, from}) {
    std::string& out = pair->pending[side];
    if (!SendPending(pair->fd[side].get(), &out).ok() || out.size() > kMaxPending) return Close(pair);
    loop_->Modify(pair->fd[side].get(), out.empty() ? EPOLLIN : EPOLLIN | EPOLLOUT);
  }
}

void StreamRelay::Close(const std::shared_ptr<Pair>& pair) {
  for (auto& fd : pair->fd) loop_->Unwatch(fd.get());
  pairs_.erase(pair);
}

}  // namespace ssiuml
