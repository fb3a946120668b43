// The host end of a node's management line (ssl1): pings until ssi-agent
// answers, then runs commands on it and routes their output back.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/event_loop.h"
#include "common/fd.h"
#include "common/mgmt_frame.h"

namespace ssiuml {

class MgmtChannel {
 public:
  struct ExecHandlers {
    std::function<void(int fd, std::string_view data)> on_output;
    // status is the command's exit status (128+N when killed by signal N);
    // error is non-empty when the command never completed.
    std::function<void(int status, const std::string& error)> on_done;
  };

  MgmtChannel(EventLoop* loop, UniqueFd master, std::function<void()> on_ready);
  ~MgmtChannel();
  MgmtChannel(const MgmtChannel&) = delete;
  MgmtChannel& operator=(const MgmtChannel&) = delete;

  bool ready() const { return ready_; }
  // The guest's boot id (see common/mgmt_frame.h); empty until ready.
  const std::string& boot_id() const { return boot_id_; }
  uint64_t Exec(const std::string& command, ExecHandlers handlers);
  void Kill(uint64_t id);
  // Completes every pending command with an error (the node went away).
  void FailAll(const std::string& why);

 private:
  void OnEvents(uint32_t events);
  void HandleLine(const std::string& line);
  void Send(const mgmt::Frame& frame);
  void Flush();
  void SchedulePing();
  void Close();

  EventLoop* loop_;
  UniqueFd master_;
  std::function<void()> on_ready_;
  std::string boot_id_;
  bool ready_ = false;
  bool closed_ = false;
  uint64_t ping_timer_ = 0;
  uint64_t next_id_ = 1;
  mgmt::LineSplitter lines_;
  std::string outbuf_;
  std::map<uint64_t, ExecHandlers> execs_;
};

}  // namespace ssiuml
