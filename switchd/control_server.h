// ControlServer: the switch's control socket, JSON lines. Each request line
// gets one reply line from the handler; a client that sends an overlong line
// is dropped (mgmt::LineSplitter counts it), and so is one whose unread
// replies pass kMaxBacklog.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/event_loop.h"
#include "common/fd.h"
#include "common/mgmt_frame.h"

namespace ssiuml::vde {

class ControlServer {
 public:
  using Handler = std::function<nlohmann::json(const std::string& line)>;

  ControlServer(EventLoop* loop, Handler handler) : loop_(loop), handler_(std::move(handler)) {}
  ~ControlServer();  // unlinks the socket

  Status Listen(const std::string& path);

 private:
  static constexpr size_t kMaxBacklog = 4 << 20;  // a status with a full MAC table is well under it
  static constexpr int kReadsPerEvent = 16;         // of 4 KiB each

  struct Client {
    UniqueFd fd;
    mgmt::LineSplitter lines;
    std::string out;  // replies the socket has not taken yet
  };
  void Accept();
  void OnEvents(int fd, uint32_t events);
  // False when the client is to be dropped (it left, or stopped reading).
  bool Read(Client& client);
  bool Flush(int fd, Client& client);
  void Drop(int fd);

  EventLoop* loop_;
  Handler handler_;
  std::string path_;
  UniqueFd listener_;
  std::map<int, Client> clients_;
};

}  // namespace ssiuml::vde
