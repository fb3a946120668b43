// JsonLineServer: a control socket of JSON lines (switchd's, plxd's). Each
// request line gets one reply line from the handler, in order. A handler
// that reads a field as another type than it has (nlohmann throws) answers
// an error instead, so handlers read every field before they change
// anything. A client that sends an overlong line is dropped
// (mgmt::LineSplitter counts it), and so is one whose unread replies pass
// kMaxBacklog; one that reads gets them whole, however large, even after it
// shut down its sending side.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/event_loop.h"
#include "common/fd.h"
#include "common/mgmt_frame.h"

namespace ssiuml {

class JsonLineServer {
 public:
  using Handler = std::function<nlohmann::json(const std::string& line)>;

  JsonLineServer(EventLoop* loop, Handler handler) : loop_(loop), handler_(std::move(handler)) {}
  ~JsonLineServer();  // unlinks the socket, stops watching every fd

  Status Listen(const std::string& path);

  static constexpr size_t kMaxBacklog = 4 << 20;  // a switch status with a full MAC table is well under it

 private:
  static constexpr int kReadsPerEvent = 16;  // of 4 KiB each

  struct Client {
    UniqueFd fd;
    mgmt::LineSplitter lines;
    std::string out;      // replies the socket has not taken yet
    uint32_t events = 0;  // as last given to the loop
    bool reading = true;  // false once it shut down its sending side
  };
  void Accept();
  void OnEvents(int fd, uint32_t events);
  // False when the client is to be dropped (it left, or stopped reading).
  bool Read(Client& client);
  nlohmann::json Reply(const std::string& line);
  bool Flush(int fd, Client& client);
  void Drop(int fd);

  EventLoop* loop_;
  Handler handler_;
  std::string path_;
  UniqueFd listener_;
  std::map<int, Client> clients_;
};

}  // namespace ssiuml
