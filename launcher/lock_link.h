// ssid's standing connection to the lock server's control socket: ssid is
// the cluster's fencer. When a node's session expires, the lock server asks
// here for the node to be fenced and grants its locks to others only after
// ssid answers that no process of the node is left (lockserver/PROTOCOL.md).
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/event_loop.h"
#include "common/fd.h"
#include "common/mgmt_frame.h"
#include "common/status.h"

namespace ssiuml {

class LockLink {
 public:
  // Fences the incarnation boot of node, then calls done; done may run
  // later, from the loop.
  using FenceHandler = std::function<void(int node, const std::string& boot, std::function<void()> done)>;

  LockLink(EventLoop* loop, std::string control, FenceHandler fence, std::function<void()> on_lost)
      : loop_(loop), control_(std::move(control)), fence_(std::move(fence)), on_lost_(std::move(on_lost)) {}
  ~LockLink();
  LockLink(const LockLink&) = delete;
  LockLink& operator=(const LockLink&) = delete;

  // Connects and registers as the fencer.
  Status Connect();
  // Queues a control request whose reply only matters if it is an error
  // (logged).
  void Send(const nlohmann::json& message);

 private:
  void OnEvents(uint32_t events);
  void HandleLine(const std::string& line);
  void Flush();
  void Close();

  EventLoop* loop_;
  std::string control_;
  FenceHandler fence_;
  std::function<void()> on_lost_;
  UniqueFd fd_;
  mgmt::LineSplitter lines_;
  std::string outbuf_;
  // Fences answered after this link closed must not touch it.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ssiuml
