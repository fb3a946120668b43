// Collects a node's con0 output: every byte goes to STATE/log/node<N>.console
// and to a callback (the node's history and attached viewers). Keystrokes of
// attached viewers go the other way.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/event_loop.h"
#include "common/fd.h"

namespace ssiuml {

class ConsoleLog {
 public:
  using DataCallback = std::function<void(std::string_view data)>;

  ConsoleLog(EventLoop* loop, UniqueFd master, UniqueFd log_file, DataCallback on_data);
  ~ConsoleLog();
  ConsoleLog(const ConsoleLog&) = delete;
  ConsoleLog& operator=(const ConsoleLog&) = delete;

  // Reads whatever the node wrote that was not yet collected.
  void Drain();
  // Types data into the console. Keystrokes that find the pty full are
  // dropped rather than queued: a wedged guest must not grow ssid.
  void Write(std::string_view data);

 private:
  void Close();

  EventLoop* loop_;
  UniqueFd master_;
  UniqueFd log_file_;
  DataCallback on_data_;
  bool closed_ = false;
};

}  // namespace ssiuml
