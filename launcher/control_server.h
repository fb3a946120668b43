// ssid's side of RUN/ssid.sock: accepts clients, reads one request line from
// each, hands it to the handler and writes the replies back without ever
// blocking the supervisor on a slow or vanished client.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "common/event_loop.h"
#include "common/fd.h"
#include "common/mgmt_frame.h"
#include "launcher/control_protocol.h"

namespace ssiuml {

class ControlServer;

// One client connection. Handlers keep a shared_ptr while their request runs
// and call Finish exactly once; Send/Finish on a closed connection are no-ops.
class ControlConnection : public std::enable_shared_from_this<ControlConnection> {
 public:
  ControlConnection(EventLoop* loop, UniqueFd fd, ControlServer* server);
  void Send(const nlohmann::json& message);
  // Sends the final result and closes once it is written.
  void Finish(nlohmann::json result);
  // Finish with {"ok":false,"error":...}.
  void Fail(const std::string& error);
  bool closed() const { return closed_; }
  // Runs when the client goes away before Finish (e.g. to cancel an exec).
  void OnClose(std::function<void()> callback) { on_close_ = std::move(callback); }
  // Lines the client sends after its first request (console sessions);
  // without a handler they are ignored.
  void OnLine(std::function<void(const std::string&)> handler) { on_line_ = std::move(handler); }

 private:
  friend class ControlServer;
  void Start();
  void CloseAfter(uint64_t ms, const char* why);
  void OnEvents(uint32_t events);
  void HandleLines(const std::shared_ptr<ControlConnection>& self);
  void Flush();
  void Close();

  EventLoop* loop_;
  UniqueFd fd_;
  ControlServer* server_;
  mgmt::LineSplitter lines_;
  size_t bytes_in_ = 0;
  bool got_request_ = false;
  bool finished_ = false;
  bool closed_ = false;
  bool reading_ = true;  // false once the client shut down its sending side
  std::string outbuf_;
  std::function<void()> on_close_;
  std::function<void(const std::string&)> on_line_;
};

class ControlServer {
 public:
  using Handler = std::function<void(const std::string& line, std::shared_ptr<ControlConnection>)>;

  ControlServer(EventLoop* loop, Handler handler) : loop_(loop), handler_(std::move(handler)) {}
  ~ControlServer();
  Status Listen(const std::string& path);
  // Stops accepting; existing connections finish.
  void StopListening();

 private:
  friend class ControlConnection;
  void Accept();
  void Dispatch(const std::string& line, std::shared_ptr<ControlConnection> conn) {
    handler_(line, std::move(conn));
  }
  void Forget(ControlConnection* conn);

  EventLoop* loop_;
  Handler handler_;
  UniqueFd listen_fd_;
  std::set<std::shared_ptr<ControlConnection>> connections_;
};

}  // namespace ssiuml
