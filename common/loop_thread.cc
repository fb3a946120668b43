#include "common/loop_thread.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <future>

#include "common/cpu_affinity.h"

namespace ssiuml {

Status LoopThread::Start(int cpu, std::unique_ptr<LoopThread>* out) {
  std::unique_ptr<LoopThread> t(new LoopThread(cpu));
  Status s = t->loop_.Init();
  if (!s.ok()) return s;
  t->wake_.Reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!t->wake_.valid()) return Status::FromErrno("eventfd", errno);
  LoopThread* self = t.get();
  self->loop_.Watch(self->wake_.get(), EPOLLIN, [self](uint32_t) { self->RunQueued(); });
  std::promise<Status> pinned;
  self->thread_ = std::thread([self, &pinned] {
    Status st = self->cpu_ >= 0 ? PinThisThread(self->cpu_) : Status::OK();
    pinned.set_value(st);
    if (st.ok()) self->loop_.Run();
  });
  s = pinned.get_future().get();
  if (!s.ok()) {
    self->thread_.join();
    return s;
  }
  *out = std::move(t);
  return Status::OK();
}

LoopThread::~LoopThread() {
  if (!thread_.joinable()) return;
  RunAndWait([this] { loop_.Quit(); });
  thread_.join();
}

void LoopThread::RunAndWait(const std::function<void()>& fn) {
  if (std::this_thread::get_id() == thread_.get_id()) {
    fn();
    return;
  }
  std::promise<void> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back([&] {
      fn();
      done.set_value();
    });
  }
  uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  done.get_future().wait();
}

void LoopThread::RunQueued() {
  uint64_t count;
  (void)!::read(wake_.get(), &count, sizeof count);
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks.swap(tasks_);
  }
  for (auto& task : tasks) task();
}

}  // namespace ssiuml
