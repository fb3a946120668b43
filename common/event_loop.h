// EventLoop: one epoll set plus one-shot timers, driving a single-threaded
// daemon. Callbacks may add or remove watches and timers, including their own.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>

#include "common/fd.h"
#include "common/status.h"

namespace ssiuml {

class EventLoop {
 public:
  using FdCallback = std::function<void(uint32_t events)>;
  using TimerCallback = std::function<void()>;

  Status Init();
  // Watches fd for epoll events (EPOLLIN, EPOLLOUT, ...); replaces any
  // earlier watch on the same fd.
  void Watch(int fd, uint32_t events, FdCallback callback);
  void Modify(int fd, uint32_t events);
  void Unwatch(int fd);
  // Runs callback once after delay_ms; returns an id for Cancel.
  uint64_t After(uint64_t delay_ms, TimerCallback callback);
  void Cancel(uint64_t timer_id);
  size_t timer_count() const { return deadlines_.size(); }  // armed, not yet run or cancelled
  // Dispatches until Quit().
  void Run();
  void Quit() { quit_ = true; }
  static uint64_t NowMs();

 private:
  int NextTimeoutMs() const;
  void RunDueTimers();

  UniqueFd epoll_;
  bool quit_ = false;
  std::unordered_map<int, std::shared_ptr<FdCallback>> watches_;
  uint64_t next_timer_id_ = 1;
  using Deadlines = std::multimap<uint64_t, uint64_t>;  // deadline ms -> timer id
  struct Timer {
    TimerCallback callback;
    Deadlines::iterator deadline;  // Cancel drops it too: no wake-up, no entry left behind
  };
  Deadlines deadlines_;
  std::unordered_map<uint64_t, Timer> timers_;
};

}  // namespace ssiuml
