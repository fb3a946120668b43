// LockServer: the lockserver daemon's I/O around a LockService, on one
// EventLoop thread. Three kinds of sockets:
//   - the TCP listener on 127.0.0.1 (host clients and node sessions),
//   - the gateway socket, one unix stream per guest connection relayed by
//     switchd's gateway (node sessions only),
//   - the control socket (JSON lines, lockserver/PROTOCOL.md): status,
//     the fencer, and the supervisor's registry of boot ids.
// Inside a lock node the first and the last are TCP listeners on any address
// instead (--listen, --control-listen): there the host is whoever comes
// from --host-peer, and every other peer is a node (listen_address.h).
// Every peer gets a bounded output buffer; one that stops reading is cut off.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <string>

#include "common/event_loop.h"
#include "common/fd.h"
#include "lockserver/listen_address.h"
#include "lockserver/lock_protocol.h"
#include "lockserver/lock_service.h"

namespace ssiuml::lock {

// CLOCK_REALTIME in ns since the epoch.
uint64_t WallClockNs();

struct ServerOptions {
  ServiceOptions service;
  std::string tcp;             // "127.0.0.1:PORT", port 0 = ephemeral
  std::string port_file;       // written with the chosen TCP port
  std::string gateway_socket;  // unix stream socket for switchd's gateway
  std::string control;         // unix socket, JSON lines
  std::string listen;          // "IP:PORT" for host and node sessions, by peer address
  std::string control_listen;  // "IP:PORT" for the control protocol, host peer only
  std::string host_peer;       // the IPv4 address the host's connections come from
  uint64_t hello_wait_ms = 3000;     // how long a node HELLO waits for the registry
  size_t max_output = 1 << 20;       // bytes queued to one peer before it is cut off
  uint64_t close_drain_ms = 5000;    // how long a closing peer has to read its last replies
};

class LockServer {
 public:
  LockServer(EventLoop* loop, const ServerOptions& options);
  ~LockServer();
  Status Start();

 private:
  struct Conn {
    UniqueFd fd;
    Origin origin = Origin::kTcp;
    wire::LineReader reader;
    std::string out;
    SessionId session = 0;
    bool paused = false;   // a HELLO is pending: the rest waits unread
    bool closing = false;  // close once out is flushed
    uint64_t closing_seen_ms = 0;  // the first tick that saw closing
    wire::Request hello;
    uint64_t hello_deadline_ms = 0;
    uint64_t opened_ms = 0;
    uint32_t events = 0;  // as last given to epoll
  };
  struct Fence {
    int node;
    std::string boot;
  };

  Status ListenInet(const std::string& address, Listener listener, UniqueFd* fd);
  void Accept(int listen_fd, Listener listener);
  void OnEvents(int fd, uint32_t events);
  void ReadInput(int fd);
  void ProcessLines(int fd);
  void HandleLine(int fd, const std::string& line);
  void HandleHello(int fd, const wire::Request& req);
  void TryHello(int fd);
  void HandleRequest(int fd, const wire::Request& req);
  void HandleControl(int fd, const std::string& line);
  nlohmann::json ExecuteControl(int fd, const nlohmann::json& req);
  void Deliver(Outputs& out);
  void SendFence(uint64_t id);
  void Tick();
  void RetryPendingHellos();

  void Send(int fd, const std::string& line);
  void SendErr(int fd, uint64_t id, const std::string& code, const std::string& msg);
  void Flush(int fd);
  void FlushAll();
  void UpdateWatch(int fd);
  void Close(int fd);
  void Refused(const std::string& what);

  EventLoop* loop_;
  ServerOptions options_;
  LockService service_;
  UniqueFd tcp_, gateway_, control_, listen_, control_listen_;
  int64_t clock_offset_ns_ = 0;  // the host's clock minus ours (control "clock")
  std::deque<int64_t> clock_samples_;  // the last minute's, for clock_offset_ns_
  in_addr host_peer_{};
  std::map<int, Conn> conns_;
  std::map<SessionId, int> session_fd_;
  std::map<uint64_t, Fence> fences_;  // asked, not yet answered
  uint64_t next_fence_id_ = 1;
  int fencer_fd_ = -1;
  std::set<int> dirty_;  // fds with output to flush
  uint64_t refused_ = 0;
  uint64_t refusal_window_ms_ = 0;  // rate limit of refusal logs
  int refusals_logged_ = 0;
  uint64_t last_fence_send_ms_ = 0;
};

}  // namespace ssiuml::lock
