#include "lockserver/lock_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/env.h"
#include "common/unix_socket.h"

namespace ssiuml::lock {

uint64_t WallClockNs() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

namespace {

constexpr uint64_t kTickMs = 20;
constexpr uint64_t kFenceRetryMs = 1000;
constexpr uint64_t kHelloWithinMs = 10000;  // a silent connection is dropped
constexpr size_t kReadChunk = 65536;
constexpr int kReadChunksPerEvent = 4;   // then let other peers in
constexpr size_t kSpareConnections = 16;  // above max_sessions, for HELLOs in flight

std::string GrantLine(const LockEvent& e) {
  std::string line = "GRANT id=" + std::to_string(e.request_id) + " name=" + e.name + " mode=" + ModeName(e.mode) +
                     " token=" + std::to_string(e.token) + " lvb=";
  line += e.has_lvb ? wire::HexEncode(e.lvb.data(), e.lvb.size()) : "-";
  if (e.has_lvb && !e.lvb_valid) line += " valnotvalid";
  return line;
}

std::string ErrLine(uint64_t id, const std::string& code, const std::string& msg) {
  return "ERR id=" + std::to_string(id) + " code=" + code + " msg=" + msg;
}

std::string LockEventLine(const LockEvent& e) {
  using K = LockEvent::Kind;
  switch (e.kind) {
    case K::kGranted: return GrantLine(e);
    case K::kBlocking: return "BAST name=" + e.name + " mode=" + ModeName(e.mode);
    case K::kTryFailed: return ErrLine(e.request_id, "busy", e.name + " is held in an incompatible mode");
    case K::kTimedOut: return ErrLine(e.request_id, "timeout", "timed out waiting for " + e.name);
    case K::kCancelled: return ErrLine(e.request_id, "cancelled", "request on " + e.name + " cancelled");
    case K::kDeadlock: return ErrLine(e.request_id, "deadlock", "conversion deadlock on " + e.name);
  }
  return "";
}

// STATUS lists the locks of at most this many rows (a resource, each holder
// and waiter), about 600 bytes each at most: well inside the default
// --max-output-kb, past which the peer asking would be cut off.
constexpr size_t kMaxStatusRows = 1000;

// The ERR code for a refused lock operation; refused_by names the bound a
// LOCK hit.
std::string StateCode(const Status& s, LockTable::Bound refused_by) {
  switch (refused_by) {
    case LockTable::Bound::kSessionLocks: return "too-many-session-locks";
    case LockTable::Bound::kLocks: return "too-many-locks";
    case LockTable::Bound::kResources: return "too-many-resources";
    case LockTable::Bound::kNone: break;
  }
  if (s.IsTimedOut()) return "expired";  // the session lapsed (LockService::Usable)
  if (s.IsNotFound()) return "not-held";
  return "bad-state";
}

std::string HolderName(const Session& s) {
  if (s.kind == SessionKind::kNode) return "node" + std::to_string(s.node) + "/" + s.name;
  return s.name;
}

}  // namespace

LockServer::LockServer(EventLoop* loop, const ServerOptions& options)
    : loop_(loop), options_(options), service_(options.service) {}

LockServer::~LockServer() {
  if (gateway_.valid()) ::unlink(options_.gateway_socket.c_str());
  if (control_.valid()) ::unlink(options_.control.c_str());
}

Status LockServer::Start() {
  Status s;
  if (!options_.host_peer.empty()) {
    s = ParseIpv4(options_.host_peer, &host_peer_);
    if (!s.ok()) return Status::InvalidArgument("--host-peer: " + s.message());
  }
  if (!options_.tcp.empty()) s = ListenInet(options_.tcp, Listener::kLoopbackTcp, &tcp_);
  if (s.ok() && !options_.listen.empty()) s = ListenInet(options_.listen, Listener::kInet, &listen_);
  if (s.ok() && !options_.control_listen.empty())
    s = ListenInet(options_.control_listen, Listener::kControlInet, &control_listen_);
  if (s.ok() && !options_.gateway_socket.empty()) {
    s = ListenUnix(options_.gateway_socket, &gateway_);
    if (s.ok())
      loop_->Watch(gateway_.get(), EPOLLIN, [this](uint32_t) { Accept(gateway_.get(), Listener::kGatewaySocket); });
  }
  if (s.ok() && !options_.control.empty()) {
    s = ListenUnix(options_.control, &control_);
    if (s.ok())
      loop_->Watch(control_.get(), EPOLLIN, [this](uint32_t) { Accept(control_.get(), Listener::kControlSocket); });
  }
  if (s.ok()) loop_->After(kTickMs, [this] { Tick(); });
  return s;
}

Status LockServer::ListenInet(const std::string& address, Listener listener, UniqueFd* fd) {
  const char* flag = listener == Listener::kLoopbackTcp ? "--tcp"
                     : listener == Listener::kInet     ? "--listen"
                                                       : "--control-listen";
  sockaddr_in addr;
  if (!ParseIpv4Port(address, &addr).ok())
    return Status::InvalidArgument(std::string(flag) + " wants " +
                                   (listener == Listener::kLoopbackTcp ? "127.0.0.1" : "IPV4") + ":PORT, not '" +
                                   address + "'");
  // Host sessions on --tcp are trusted by where they come from: loopback only.
  if (listener == Listener::kLoopbackTcp && (ntohl(addr.sin_addr.s_addr) >> 24) != 127)
    return Status::InvalidArgument("--tcp must be a loopback address (127.x.x.x)");
  UniqueFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return Status::FromErrno("socket", errno);
  int one = 1;
  ::setsockopt(sock.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return Status::FromErrno(std::string("bind ") + flag + " " + address, errno);
  if (::listen(sock.get(), 256) != 0) return Status::FromErrno("listen " + address, errno);
  socklen_t len = sizeof addr;
  ::getsockname(sock.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  std::string host = address.substr(0, address.rfind(':'));
  uint16_t port = ntohs(addr.sin_port);
  if (listener == Listener::kLoopbackTcp) {
    spdlog::info("listening on {}:{}", host, port);
    if (!options_.port_file.empty()) {
      Status s = Env::Default()->WriteFileAtomic(options_.port_file, std::to_string(port) + "\n");
      if (!s.ok()) return s;
    }
  } else if (listener == Listener::kInet) {
    spdlog::info("listening on {}:{} (host sessions from {} only)", host, port, options_.host_peer);
  } else {
    spdlog::info("control listening on {}:{} (from {} only)", host, port, options_.host_peer);
  }
  *fd = std::move(sock);
  int listen_fd = fd->get();
  loop_->Watch(listen_fd, EPOLLIN, [this, listen_fd, listener](uint32_t) { Accept(listen_fd, listener); });
  return Status::OK();
}

void LockServer::Accept(int listen_fd, Listener listener) {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    in_addr peer_ip{};
    if (peer.ss_family == AF_INET) peer_ip = reinterpret_cast<const sockaddr_in*>(&peer)->sin_addr;
    std::optional<Origin> origin = ConnectionOrigin(listener, peer_ip, host_peer_);
    if (!origin) {
      ::close(fd);
      char text[INET_ADDRSTRLEN] = "?";
      ::inet_ntop(AF_INET, &peer_ip, text, sizeof text);
      Refused(std::string("control connection from ") + text + " (only " + options_.host_peer + " may connect)");
      continue;
    }
    if (*origin != Origin::kControl && conns_.size() >= options_.service.max_sessions + kSpareConnections) {
      std::string line = ErrLine(0, "too-many-sessions", "too many connections (max sessions " +
                                                             std::to_string(options_.service.max_sessions) + ")\n");
      (void)!::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      Refused("connection: too many connections");
      continue;
    }
    if (peer.ss_family == AF_INET) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    Conn& c = conns_[fd];
    c.fd.Reset(fd);
    c.events = EPOLLIN;
    c.origin = *origin;
    c.opened_ms = EventLoop::NowMs();
    loop_->Watch(fd, EPOLLIN, [this, fd](uint32_t events) { OnEvents(fd, events); });
  }
}

void LockServer::OnEvents(int fd, uint32_t events) {
  if (events & EPOLLERR) {
    Close(fd);
    FlushAll();  // what its departure granted others
    return;
  }
  if (events & EPOLLOUT) Flush(fd);
  if (conns_.count(fd) && (events & (EPOLLIN | EPOLLHUP))) ReadInput(fd);
  FlushAll();
}

void LockServer::ReadInput(int fd) {
  char buf[kReadChunk];
  bool eof = false;
  for (int i = 0; i < kReadChunksPerEvent; ++i) {
    auto it = conns_.find(fd);
    if (it == conns_.end() || it->second.closing) return;
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    if (n <= 0) {
      eof = true;
      break;
    }
    it->second.reader.Feed(std::string_view(buf, static_cast<size_t>(n)));
    ProcessLines(fd);
    if (static_cast<size_t>(n) < sizeof buf) break;
  }
  if (eof) Close(fd);
}

void LockServer::ProcessLines(int fd) {
  std::string line;
  for (;;) {
    auto it = conns_.find(fd);
    if (it == conns_.end() || it->second.paused || it->second.closing) return;
    auto r = it->second.reader.Next(&line);
    if (r == wire::LineReader::Result::kNone) return;
    if (r == wire::LineReader::Result::kOverlong) {
      if (it->second.origin == Origin::kControl) {
        Send(fd, R"({"v":1,"ok":false,"error":"line too long"})");
      } else {
        SendErr(fd, 0, "too-long", "line longer than " + std::to_string(wire::kMaxLine) + " bytes");
      }
      continue;
    }
    if (it->second.origin == Origin::kControl) {
      HandleControl(fd, line);
    } else {
      HandleLine(fd, line);
    }
  }
}

void LockServer::HandleLine(int fd, const std::string& line) {
  if (line.empty()) return;  // a bare newline is a harmless keep-alive
  wire::Request req;
  std::string code;
  Status s = wire::ParseRequest(line, &req, &code);
  if (!s.ok()) {
    spdlog::debug("fd {}: {}: {}", fd, code, s.message());
    SendErr(fd, req.id, code, s.message());
    return;
  }
  if (req.verb == wire::Verb::kHello) {
    HandleHello(fd, req);
    return;
  }
  Conn& c = conns_[fd];
  if (c.session == 0) {
    SendErr(fd, req.id, "no-session", "say " + std::string(wire::kVersion) + " HELLO first");
    return;
  }
  service_.Heartbeat(c.session, EventLoop::NowMs());
  HandleRequest(fd, req);
}

void LockServer::HandleHello(int fd, const wire::Request& req) {
  Conn& c = conns_[fd];
  if (c.session != 0) {
    SendErr(fd, req.id, "malformed", "this connection already has a session");
    return;
  }
  if (req.host) {
    if (c.origin == Origin::kGateway) {
      Refused("host session '" + req.name + "' from a node");
      SendErr(fd, req.id, "refused", "host sessions are only allowed from the host");
      c.closing = true;
      return;
    }
    SessionId id;
    Status s = service_.OpenHost(req.name, EventLoop::NowMs(), &id);
    if (!s.ok()) {
      Refused("host session '" + req.name + "': " + s.message());
      SendErr(fd, req.id, "too-many-sessions", s.message());
      c.closing = true;
      return;
    }
    c.session = id;
    session_fd_[id] = fd;
    spdlog::debug("session {}: host client {}", id, req.name);
    Send(fd, std::string(wire::kVersion) + " WELCOME id=" + std::to_string(req.id) + " session=" + std::to_string(id) +
                 " epoch=" + std::to_string(service_.epoch()) + " heartbeat=" +
                 std::to_string(options_.service.heartbeat_ms) + " expiry=" +
                 std::to_string(options_.service.expiry_missed));
    return;
  }
  c.hello = req;
  c.hello_deadline_ms = EventLoop::NowMs() + options_.hello_wait_ms;
  TryHello(fd);
}

void LockServer::TryHello(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  const wire::Request& req = c.hello;
  uint64_t now = EventLoop::NowMs();
  SessionId id = 0;
  bool retry = false;
  Outputs out;
  Status s = service_.OpenNode(req.node, req.boot, req.name, now, &id, &retry, &out);
  if (s.ok()) {
    c.paused = false;
    c.session = id;
    session_fd_[id] = fd;
    spdlog::info("session {}: node {} ({}) boot {}", id, req.node, req.name, req.boot);
    Send(fd, std::string(wire::kVersion) + " WELCOME id=" + std::to_string(req.id) + " session=" + std::to_string(id) +
                 " epoch=" + std::to_string(service_.epoch()) + " heartbeat=" +
                 std::to_string(options_.service.heartbeat_ms) + " expiry=" +
                 std::to_string(options_.service.expiry_missed));
    Deliver(out);
    UpdateWatch(fd);
    ProcessLines(fd);  // whatever was pipelined behind the HELLO
    return;
  }
  if (retry && now < c.hello_deadline_ms) {
    if (!c.paused) spdlog::debug("node {} HELLO waits: {}", req.node, s.message());
    c.paused = true;
    UpdateWatch(fd);
    return;
  }
  c.paused = false;
  Refused("node " + std::to_string(req.node) + " session: " + s.message());
  SendErr(fd, req.id, s.IsBusy() && !retry ? "too-many-sessions" : "refused", s.message());
  c.closing = true;
}

void LockServer::RetryPendingHellos() {
  std::vector<int> paused;
  for (const auto& [fd, c] : conns_)
    if (c.paused) paused.push_back(fd);
  for (int fd : paused) TryHello(fd);
}

void LockServer::HandleRequest(int fd, const wire::Request& req) {
  SessionId session = conns_[fd].session;
  std::string id = std::to_string(req.id);
  uint64_t now = EventLoop::NowMs();
  Outputs out;
  Status s;
  LockTable::Bound refused_by = LockTable::Bound::kNone;
  LockTable::Request lr{session, req.id, req.name, req.mode, req.try_lock, req.timeout_ms};
  const Lvb* lvb = req.has_lvb ? &req.lvb : nullptr;
  switch (req.verb) {
    case wire::Verb::kPing:
      // The wall clock lets guests set theirs (LockClient::ClockOffset).
      Send(fd, "PONG id=" + id + " time=" + std::to_string(WallClockNs() + static_cast<uint64_t>(clock_offset_ns_)));
      return;
    case wire::Verb::kLock:
      s = service_.Lock(session, lr, now, &out, &refused_by);
      break;
    case wire::Verb::kConvert:
      s = service_.Convert(session, lr, lvb, now, &out);
      break;
    case wire::Verb::kUnlock:
      s = service_.Unlock(session, req.name, lvb, &out);
      if (s.ok()) Send(fd, "OK id=" + id);
      break;
    case wire::Verb::kCancel:
      s = service_.Cancel(session, req.name, &out);
      if (s.ok()) Send(fd, "OK id=" + id);
      break;
    case wire::Verb::kWatch: {
      s = service_.Watch(session);
      if (!s.ok()) break;
      std::string nodes;
      for (const auto& [node, boot] : service_.members()) nodes += (nodes.empty() ? "" : ",") + std::to_string(node);
      Send(fd, "MEMBERS id=" + id + " epoch=" + std::to_string(service_.epoch()) + " nodes=" + nodes);
      break;
    }
    case wire::Verb::kStatus: {
      std::string prefix = "INFO id=" + id + " ";
      for (const auto& [node, boot] : service_.members()) {
        bool fencing = service_.fencing().count({node, boot}) != 0;
        Send(fd, prefix + "kind=member node=" + std::to_string(node) + " state=" + (fencing ? "fencing" : "member"));
      }
      auto holder = [&](SessionId sid) {
        auto it = service_.sessions().find(sid);
        return it == service_.sessions().end() ? std::string("?") : HolderName(it->second);
      };
      std::vector<ResourceInfo> resources;
      if (req.name.empty()) {
        resources = service_.table().Snapshot(kMaxStatusRows);
      } else if (ResourceInfo one; service_.table().Describe(req.name, &one)) {
        resources.push_back(std::move(one));
      }
      for (const ResourceInfo& r : resources) {
        for (const auto& e : r.granted)
          Send(fd, prefix + "kind=holder name=" + r.name + " mode=" + ModeName(e.mode) + " token=" +
                       std::to_string(e.token) + " session=" + std::to_string(e.session) + " by=" + holder(e.session));
        for (const auto& e : r.converting)
          Send(fd, prefix + "kind=converting name=" + r.name + " mode=" + ModeName(e.mode) + " session=" +
                       std::to_string(e.session) + " by=" + holder(e.session));
        for (const auto& e : r.waiting)
          Send(fd, prefix + "kind=waiting name=" + r.name + " mode=" + ModeName(e.mode) + " session=" +
                       std::to_string(e.session) + " by=" + holder(e.session));
      }
      if (req.name.empty() && resources.size() < service_.table().resource_count())
        Send(fd, prefix + "kind=truncated resources=" + std::to_string(resources.size()) +
                     " of=" + std::to_string(service_.table().resource_count()));
      Send(fd, "OK id=" + id + " epoch=" + std::to_string(service_.epoch()));
      return;
    }
    case wire::Verb::kBye: {
      Conn& c = conns_[fd];
      session_fd_.erase(session);
      c.session = 0;
      service_.Close(session, &out);
      Send(fd, "OK id=" + id);
      c.closing = true;
      break;
    }
    case wire::Verb::kHello:
      break;
  }
  if (!s.ok()) SendErr(fd, req.id, StateCode(s, refused_by), s.message());
  Deliver(out);
}

void LockServer::Deliver(Outputs& out) {
  for (Output& o : out) {
    auto target = session_fd_.find(o.session);
    int fd = target == session_fd_.end() ? -1 : target->second;
    switch (o.kind) {
      case Output::Kind::kLock:
        if (fd >= 0) Send(fd, LockEventLine(o.lock));
        break;
      case Output::Kind::kMember:
        if (fd >= 0)
          Send(fd, "MEMBER epoch=" + std::to_string(o.member.epoch) + " event=" + MemberEventName(o.member.kind) +
                       " node=" + std::to_string(o.member.node) + " boot=" + o.member.boot);
        break;
      case Output::Kind::kFence: {
        uint64_t id = next_fence_id_++;
        fences_[id] = Fence{o.node, o.boot};
        spdlog::warn("node {} (boot {}) expired: fencing it before releasing its locks", o.node, o.boot);
        SendFence(id);
        break;
      }
      case Output::Kind::kEnded:
        if (o.reason == "closed") {
          spdlog::debug("session {} closed", o.session);
        } else {
          spdlog::info("session {} ended: {}", o.session, o.reason);
        }
        if (fd >= 0) {
          Send(fd, "ENDED session=" + std::to_string(o.session) + " reason=" + o.reason);
          conns_[fd].session = 0;
          conns_[fd].closing = true;
          session_fd_.erase(o.session);
        }
        break;
    }
  }
  out.clear();
}

void LockServer::Tick() {
  uint64_t now = EventLoop::NowMs();
  Outputs out;
  service_.Tick(now, &out);
  Deliver(out);
  RetryPendingHellos();
  std::vector<int> silent, undrained;
  for (auto& [fd, c] : conns_) {
    if (c.origin != Origin::kControl && c.session == 0 && !c.paused && !c.closing && now > c.opened_ms + kHelloWithinMs)
      silent.push_back(fd);
    // A peer that stops reading before its last replies would hold the slot forever.
    if (c.closing && c.closing_seen_ms == 0) c.closing_seen_ms = now;
    if (c.closing && now > c.closing_seen_ms + options_.close_drain_ms) undrained.push_back(fd);
  }
  for (int fd : silent) {
    SendErr(fd, 0, "no-session", "no HELLO within " + std::to_string(kHelloWithinMs / 1000) + " s");
    conns_[fd].closing = true;
  }
  for (int fd : undrained) {
    spdlog::debug("fd {} did not read its last replies in {} ms; closing it", fd, options_.close_drain_ms);
    Close(fd);
  }
  if (now >= last_fence_send_ms_ + kFenceRetryMs) {
    last_fence_send_ms_ = now;
    for (const auto& [id, fence] : fences_) SendFence(id);
  }
  FlushAll();
  loop_->After(kTickMs, [this] { Tick(); });
}

void LockServer::Send(int fd, const std::string& line) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  if (c.out.size() + line.size() + 1 > options_.max_output) {
    // A peer that does not read its replies loses its connection, not our memory.
    if (!c.closing) Refused("fd " + std::to_string(fd) + " does not read its replies; disconnecting");
    c.out.clear();
    c.closing = true;
    dirty_.insert(fd);
    return;
  }
  c.out += line;
  c.out += '\n';
  dirty_.insert(fd);
}

void LockServer::SendErr(int fd, uint64_t id, const std::string& code, const std::string& msg) {
  Send(fd, ErrLine(id, code, msg));
}

void LockServer::Flush(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  if (!SendPending(fd, &c.out).ok() || (c.closing && c.out.empty())) {
    Close(fd);
    return;
  }
  UpdateWatch(fd);
}

void LockServer::FlushAll() {
  while (!dirty_.empty()) {
    int fd = *dirty_.begin();
    dirty_.erase(dirty_.begin());
    Flush(fd);
  }
}

void LockServer::UpdateWatch(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  uint32_t events = (c.paused || c.closing ? 0u : static_cast<uint32_t>(EPOLLIN)) |
                    (c.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
  if (events == c.events) return;  // one syscall saved per request
  c.events = events;
  loop_->Modify(fd, events);
}

void LockServer::Close(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  if (fencer_fd_ == fd) {
    fencer_fd_ = -1;
    spdlog::warn("fencer disconnected; fence requests wait for the next one");
  }
  if (it->second.session != 0) {
    spdlog::debug("session {} lost its connection", it->second.session);
    session_fd_.erase(it->second.session);  // first: its own cancellations go nowhere
    Outputs out;
    service_.Disconnected(it->second.session, &out);
    Deliver(out);
  }
  loop_->Unwatch(fd);
  dirty_.erase(fd);
  conns_.erase(it);
}

void LockServer::Refused(const std::string& what) {
  ++refused_;
  uint64_t now = EventLoop::NowMs();
  if (now >= refusal_window_ms_ + 1000) {
    if (refusals_logged_ > 10) spdlog::warn("{} more refusals not logged", refusals_logged_ - 10);
    refusal_window_ms_ = now;
    refusals_logged_ = 0;
  }
  if (refusals_logged_++ < 10) spdlog::warn("refused: {}", what);
}

}  // namespace ssiuml::lock
