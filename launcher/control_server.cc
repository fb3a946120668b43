#include "launcher/control_server.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>

#include "common/unix_socket.h"

namespace ssiuml {
namespace {

// A client that sends more than this without a newline is not ours.
constexpr size_t kMaxBytesIn = kMaxRequestLine + 2;
// Replies queued past this mean the client stopped reading: drop it.
constexpr size_t kMaxOutbuf = 16 << 20;
constexpr int kMaxConnections = 256;
constexpr int kReadsPerEvent = 16;  // of 8 KiB
constexpr uint64_t kRequestWaitMs = 10000;
constexpr uint64_t kResultReadMs = 10000;

}  // namespace

ControlConnection::ControlConnection(EventLoop* loop, UniqueFd fd, ControlServer* server)
    : loop_(loop), fd_(std::move(fd)), server_(server) {}

void ControlConnection::Start() {
  std::weak_ptr<ControlConnection> weak = shared_from_this();
  loop_->Watch(fd_.get(), EPOLLIN | EPOLLRDHUP, [weak](uint32_t events) {
    if (auto self = weak.lock()) self->OnEvents(events);
  });
  CloseAfter(kRequestWaitMs, "sent no request");
}

// Connections are few (kMaxConnections): one that holds its place without
// a request, or without reading its result, is closed so others get in.
void ControlConnection::CloseAfter(uint64_t ms, const char* why) {
  std::weak_ptr<ControlConnection> weak = shared_from_this();
  const bool waiting_for_request = !got_request_;
  loop_->After(ms, [weak, ms, why, waiting_for_request] {
    auto self = weak.lock();
    if (!self || self->closed_ || (waiting_for_request && self->got_request_)) return;
    spdlog::info("control client {} within {} s; closing it", why, ms / 1000);
    self->Close();
  });
}

void ControlConnection::OnEvents(uint32_t events) {
  auto self = shared_from_this();  // the server may forget us below
  if (events & EPOLLOUT) Flush();
  if (closed_) return;
  if (!reading_) {
    if (events & (EPOLLHUP | EPOLLERR)) Close();  // gone both ways: a request still running learns of it
    return;
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))) return;
  char buf[8192];
  // A few reads a wake-up, each one's lines handled at once: a client that
  // writes without pause is served in turns with everything else, and its
  // lines never pile up.
  for (int round = 0; round < kReadsPerEvent && !closed_; ++round) {
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n > 0) {
      bytes_in_ += static_cast<size_t>(n);
      if (!finished_ && (!got_request_ || on_line_)) lines_.Feed(std::string_view(buf, static_cast<size_t>(n)));
      HandleLines(self);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n < 0 || !got_request_ || (events & EPOLLHUP)) {
      Close();  // gone: a request still running learns of it
      return;
    }
    // It shut down its sending side after its request (nc -N does): the
    // reply still goes to it, so stop reading and wait for the result.
    reading_ = false;
    loop_->Modify(fd_.get(), outbuf_.empty() ? 0u : EPOLLOUT);
    return;
  }
}

void ControlConnection::HandleLines(const std::shared_ptr<ControlConnection>& self) {
  std::string line;
  while (!closed_ && !finished_ && lines_.Next(&line)) {
    if (!got_request_) {
      got_request_ = true;
      server_->Dispatch(line, self);
    } else if (on_line_) {
      on_line_(line);
    }
  }
  if (!closed_ && !finished_ && !got_request_ && (bytes_in_ > kMaxBytesIn || lines_.dropped_lines() > 0))
    Fail("request too long");
}

void ControlConnection::Send(const nlohmann::json& message) {
  if (closed_ || finished_) return;
  outbuf_ += ToLine(message);
  if (outbuf_.size() > kMaxOutbuf) {
    spdlog::warn("control client stopped reading; dropping it");
    Close();
    return;
  }
  Flush();
}

void ControlConnection::Finish(nlohmann::json result) {
  if (closed_ || finished_) return;
  result["v"] = kControlVersion;
  result["type"] = "result";
  if (!result.contains("ok")) result["ok"] = true;
  outbuf_ += ToLine(result);
  finished_ = true;
  Flush();
  if (!closed_) CloseAfter(kResultReadMs, "did not read its result");
}

void ControlConnection::Fail(const std::string& error) {
  Finish({{"ok", false}, {"error", error}});
}

void ControlConnection::Flush() {
  if (!SendPending(fd_.get(), &outbuf_).ok() || (finished_ && outbuf_.empty())) {
    Close();
    return;
  }
  uint32_t events = reading_ ? EPOLLIN | EPOLLRDHUP : 0u;
  if (!outbuf_.empty()) events |= EPOLLOUT;
  loop_->Modify(fd_.get(), events);
}

void ControlConnection::Close() {
  if (closed_) return;
  closed_ = true;
  loop_->Unwatch(fd_.get());
  fd_.Reset();
  auto on_close = std::move(on_close_);
  on_close_ = nullptr;
  if (!finished_ && on_close) on_close();
  server_->Forget(this);
}

ControlServer::~ControlServer() { StopListening(); }

Status ControlServer::Listen(const std::string& path) {
  Status s = ListenUnix(path, &listen_fd_);
  if (!s.ok()) return s;
  loop_->Watch(listen_fd_.get(), EPOLLIN, [this](uint32_t) { Accept(); });
  return Status::OK();
}

void ControlServer::StopListening() {
  if (!listen_fd_.valid()) return;
  loop_->Unwatch(listen_fd_.get());
  listen_fd_.Reset();
}

void ControlServer::Accept() {
  for (;;) {
    int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) spdlog::warn("accept: {}", strerror(errno));
      return;
    }
    if (connections_.size() >= kMaxConnections) {
      spdlog::warn("too many control clients; refusing one");
      ::close(fd);
      continue;
    }
    auto conn = std::make_shared<ControlConnection>(loop_, UniqueFd(fd), this);
    connections_.insert(conn);
    conn->Start();
  }
}

void ControlServer::Forget(ControlConnection* conn) {
  for (auto it = connections_.begin(); it != connections_.end(); ++it) {
    if (it->get() == conn) {
      connections_.erase(it);
      return;
    }
  }
}

}  // namespace ssiuml
