// Booting nodes yield the CPU to running ones. Every node is a session of its
// own, hence, with the kernel's autogroup scheduling (on by default), a CPU
// scheduling group of its own, whose nice value any user may set anywhere in
// 0-19 and back (/proc/PID/autogroup). A booting node's group runs at
// kBootingNice, so a running node's heartbeat wakes ahead of a boot storm; it
// returns to 0 once the node is up. The kernel takes such a change from an
// unprivileged process once per 100 ms, so changes wait their turn. Best
// effort: where autogroups are off, nothing changes and nothing fails.
#pragma once

#include <sys/types.h>

#include <deque>
#include <utility>

#include "common/env.h"
#include "common/event_loop.h"

namespace ssiuml {

class BootPriority {
 public:
  static constexpr int kBootingNice = 19;

  BootPriority(EventLoop* loop, Env* env) : loop_(loop), env_(env) {}
  ~BootPriority() { loop_->Cancel(timer_); }

  void Booting(pid_t session_leader) { Set(session_leader, kBootingNice); }
  void Running(pid_t session_leader) { Set(session_leader, 0); }

 private:
  void Set(pid_t pid, int nice);
  // Applies the queued changes until the kernel asks to wait.
  void Apply();

  EventLoop* loop_;
  Env* env_;
  std::deque<std::pair<pid_t, int>> pending_;
  uint64_t timer_ = 0;
};

}  // namespace ssiuml
