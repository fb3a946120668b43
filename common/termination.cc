#include "common/termination.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <initializer_list>

namespace ssiuml {

UniqueFd QuitLoopOnTermination(EventLoop* loop, bool on_stdin_eof) {
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, sig);
  ::sigprocmask(SIG_BLOCK, &signals, nullptr);
  UniqueFd signal_fd(::signalfd(-1, &signals, SFD_CLOEXEC));
  loop->Watch(signal_fd.get(), EPOLLIN, [loop](uint32_t) { loop->Quit(); });
  if (on_stdin_eof)
    loop->Watch(0, EPOLLIN | EPOLLHUP, [loop](uint32_t) {
      char c;
      if (::read(0, &c, 1) <= 0) loop->Quit();
    });
  return signal_fd;
}

}  // namespace ssiuml
