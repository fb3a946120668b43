#include "common/event_loop.h"

#include <sys/epoll.h>
#include <time.h>

#include <cerrno>
#include <vector>

namespace ssiuml {

Status EventLoop::Init() {
  epoll_.Reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_.valid()) return Status::FromErrno("epoll_create1", errno);
  return Status::OK();
}

uint64_t EventLoop::NowMs() {
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

void EventLoop::Watch(int fd, uint32_t events, FdCallback callback) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  bool known = watches_.count(fd) != 0;
  ::epoll_ctl(epoll_.get(), known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
  watches_[fd] = std::make_shared<FdCallback>(std::move(callback));
}

void EventLoop::Modify(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::Unwatch(int fd) {
  if (watches_.erase(fd) != 0) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

uint64_t EventLoop::After(uint64_t delay_ms, TimerCallback callback) {
  uint64_t id = next_timer_id_++;
  auto deadline = deadlines_.emplace(NowMs() + delay_ms, id);
  timers_.emplace(id, Timer{std::move(callback), deadline});
  return id;
}

void EventLoop::Cancel(uint64_t timer_id) {
  auto it = timers_.find(timer_id);
  if (it == timers_.end()) return;  // already run or cancelled
  deadlines_.erase(it->second.deadline);
  timers_.erase(it);
}

int EventLoop::NextTimeoutMs() const {
  if (deadlines_.empty()) return -1;
  uint64_t now = NowMs();
  uint64_t first = deadlines_.begin()->first;
  return first <= now ? 0 : static_cast<int>(std::min<uint64_t>(first - now, 60000));
}

void EventLoop::RunDueTimers() {
  uint64_t now = NowMs();
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    auto it = timers_.find(deadlines_.begin()->second);
    deadlines_.erase(deadlines_.begin());
    TimerCallback callback = std::move(it->second.callback);
    timers_.erase(it);
    callback();
  }
}

void EventLoop::Run() {
  std::vector<epoll_event> events(64);
  while (!quit_) {
    int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()),
                         NextTimeoutMs());
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n && !quit_; ++i) {
      auto it = watches_.find(events[i].data.fd);
      if (it == watches_.end()) continue;  // removed by an earlier callback
      std::shared_ptr<FdCallback> callback = it->second;
      (*callback)(events[i].events);
    }
    RunDueTimers();
  }
}

}  // namespace ssiuml
