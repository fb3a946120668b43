// LoopThread: an EventLoop on a thread of its own, optionally pinned to one
// CPU. plxd serves each node's disk from a LoopThread on the node's CPU, so a
// request never waits for another CPU to wake (on a virtual machine that
// wait is most of a 4 KiB request). Everything touching the loop's watches
// runs on the thread, through RunAndWait.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/event_loop.h"
#include "common/fd.h"
#include "common/status.h"

namespace ssiuml {

class LoopThread {
 public:
  // cpu -1: wherever the scheduler puts it. Fails if cpu is not one this
  // process may run on.
  static Status Start(int cpu, std::unique_ptr<LoopThread>* out);
  // Quits the loop and joins the thread.
  ~LoopThread();
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  EventLoop* loop() { return &loop_; }
  int cpu() const { return cpu_; }
  // Runs fn on the thread between two of its events and returns when done.
  void RunAndWait(const std::function<void()>& fn);

 private:
  explicit LoopThread(int cpu) : cpu_(cpu) {}
  void RunQueued();

  int cpu_;
  EventLoop loop_;
  UniqueFd wake_;  // eventfd: tasks are queued
  std::mutex mu_;
  std::vector<std::function<void()>> tasks_;
  std::thread thread_;
};

}  // namespace ssiuml
