// Collects a node's con0 output: every byte goes to STATE/log/node<N>.console
// and to a callback (the node's history and attached viewers). Keystrokes of
// attached viewers go the other way.
// The log file is capped: once it would pass max_log_bytes it is copied to
// PATH.1 (replacing the one before) and PATH starts again empty, so a node
// that floods its console takes about twice the cap of the host's disk.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/event_loop.h"
#include "common/fd.h"
#include "common/status.h"

namespace ssiuml {

class ConsoleLog {
 public:
  using DataCallback = std::function<void(std::string_view data)>;
  static constexpr uint64_t kMaxLogBytes = 16 << 20;

  // log_file is open on log_path for appending.
  ConsoleLog(EventLoop* loop, UniqueFd master, std::string log_path, UniqueFd log_file,
             DataCallback on_data, uint64_t max_log_bytes = kMaxLogBytes);
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
  void AppendToLog(std::string_view chunk);
  // Moves the full log's contents aside and empties it; false (and no more
  // logging) if the file system refuses.
  bool RotateLog();
  Status CopyLog(const std::string& to);

  EventLoop* loop_;
  UniqueFd master_;
  std::string log_path_;
  UniqueFd log_file_;
  uint64_t log_bytes_ = 0;
  uint64_t max_log_bytes_;
  bool write_failing_ = false;
  DataCallback on_data_;
  bool closed_ = false;
};

}  // namespace ssiuml
