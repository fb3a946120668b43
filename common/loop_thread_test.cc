#include "common/cpu_affinity.h"
#include "common/loop_thread.h"

#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

using namespace ssiuml;

TEST_CASE("LoopThread runs tasks on its own thread, pinned to its CPU") {
  std::vector<int> cpus = AllowedCpus();
  REQUIRE(!cpus.empty());
  std::unique_ptr<LoopThread> t;
  REQUIRE(LoopThread::Start(cpus.back(), &t).ok());
  std::thread::id ran_on;
  int cpu = -1;
  t->RunAndWait([&] {
    ran_on = std::this_thread::get_id();
    cpu = ::sched_getcpu();
  });
  CHECK(ran_on != std::this_thread::get_id());
  CHECK(cpu == cpus.back());
}

TEST_CASE("LoopThread serves watches added through RunAndWait") {
  std::unique_ptr<LoopThread> t;
  REQUIRE(LoopThread::Start(-1, &t).ok());
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  std::atomic<int> fired{0};
  t->RunAndWait([&] {
    t->loop()->Watch(fd, EPOLLIN, [&, fd](uint32_t) {
      uint64_t v;
      (void)!::read(fd, &v, sizeof v);
      ++fired;
    });
  });
  uint64_t one = 1;
  REQUIRE(::write(fd, &one, sizeof one) == sizeof one);
  for (int i = 0; i < 500 && fired == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  CHECK(fired == 1);
  t->RunAndWait([&] { t->loop()->Unwatch(fd); });
  ::close(fd);
}

TEST_CASE("LoopThread refuses a CPU the process may not run on") {
  std::unique_ptr<LoopThread> t;
  Status s = LoopThread::Start(CPU_SETSIZE - 1, &t);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("may run on") != std::string::npos);
  CHECK(t == nullptr);
}
