// Collects a node's con0 output: every byte goes to STATE/log/node<N>.console,
// and the most recent bytes stay in memory for late viewers and for reading
// the cause of a crash.
#pragma once

#include <string>

#include "common/event_loop.h"
#include "common/fd.h"

namespace ssiuml {

class ConsoleLog {
 public:
  static constexpr size_t kRingBytes = 64 * 1024;

  ConsoleLog(EventLoop* loop, UniqueFd master, UniqueFd log_file);
  ~ConsoleLog();
  ConsoleLog(const ConsoleLog&) = delete;
  ConsoleLog& operator=(const ConsoleLog&) = delete;

  // Reads whatever the node wrote that was not yet collected.
  void Drain();
  const std::string& recent() const { return recent_; }

 private:
  void Close();

  EventLoop* loop_;
  UniqueFd master_;
  UniqueFd log_file_;
  bool closed_ = false;
  std::string recent_;
};

}  // namespace ssiuml
