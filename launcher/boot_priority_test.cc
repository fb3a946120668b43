#include "launcher/boot_priority.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using namespace ssiuml;

namespace {
// "/autogroup-123 nice 10" -> "nice 10"; empty without autogroups.
std::string AutogroupNice(pid_t pid) {
  std::string text;
  if (!Env::Default()->ReadFileToString("/proc/" + std::to_string(pid) + "/autogroup", &text).ok()) return "";
  auto at = text.find("nice");
  return at == std::string::npos ? "" : text.substr(at, text.find('\n') - at);
}

// A child that leads a session of its own, as ssid starts a node.
struct SessionLeader {
  pid_t pid = ::fork();
  SessionLeader() {
    if (pid == 0) {
      ::setsid();
      ::pause();
      ::_exit(0);
    }
    REQUIRE(pid > 0);
    while (::getsid(pid) != pid) ::usleep(1000);
  }
  ~SessionLeader() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
};
}  // namespace

TEST_CASE("a booting node's scheduling group runs at a lower priority until it is up") {
  SessionLeader node;
  if (AutogroupNice(node.pid).empty()) {
    WARN("no autogroup scheduling in this kernel: nothing to check");
    return;
  }
  EventLoop loop;
  BootPriority priority(&loop, Env::Default());
  priority.Booting(node.pid);
  CHECK(AutogroupNice(node.pid) == "nice 19");
  priority.Running(node.pid);  // an unprivileged second change waits 100 ms
  loop.After(400, [&] { loop.Quit(); });
  loop.Run();
  CHECK(AutogroupNice(node.pid) == "nice 0");
}

TEST_CASE("a node that is gone before its change is skipped") {
  SessionLeader node;
  EventLoop loop;
  BootPriority priority(&loop, Env::Default());
  priority.Booting(999999999);  // no such process: dropped, and the next goes on
  priority.Running(node.pid);
  loop.After(300, [&] { loop.Quit(); });
  loop.Run();
  if (!AutogroupNice(node.pid).empty()) CHECK(AutogroupNice(node.pid) == "nice 0");
}
