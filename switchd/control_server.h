// ControlServer: the switch's control socket, JSON lines. Each request line
// gets one reply line from the handler; a client that sends an overlong line
// is dropped (mgmt::LineSplitter counts it).
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
  struct Client {
    UniqueFd fd;
    mgmt::LineSplitter lines;
  };
  void Accept();
  void Read(int fd);

  EventLoop* loop_;
  Handler handler_;
  std::string path_;
  UniqueFd listener_;
  std::map<int, Client> clients_;
};

}  // namespace ssiuml::vde
