#include "launcher/daemon_control.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "common/fd.h"
#include "common/unix_socket.h"

using namespace ssiuml;

namespace {

// A control socket whose daemon reads the request, then answers with
// `reply` one byte every `gap_ms`.
class SlowDaemon {
 public:
  SlowDaemon(std::string reply, int gap_ms) {
    char tmpl[] = "/tmp/daemon_control_test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/ctl";
    REQUIRE(ListenUnix(path_, &listener_).ok());
    // The listener is non-blocking: each wait is a bounded poll, so the
    // thread ends even if no request comes.
    thread_ = std::thread([this, reply = std::move(reply), gap_ms] {
      if (!Readable(listener_.get())) return;
      UniqueFd client(::accept(listener_.get(), nullptr, nullptr));
      char buf[256];
      if (!Readable(client.get()) || ::read(client.get(), buf, sizeof buf) <= 0) return;
      for (char c : reply) {
        if (stop_ || ::send(client.get(), &c, 1, MSG_NOSIGNAL) != 1) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms));
      }
    });
  }
  ~SlowDaemon() {
    stop_ = true;
    thread_.join();
    std::filesystem::remove_all(dir_);
  }
  const std::string& path() const { return path_; }

 private:
  static bool Readable(int fd) {
    struct pollfd pfd = {fd, POLLIN, 0};
    return ::poll(&pfd, 1, 5000) == 1;
  }

  std::string dir_, path_;
  UniqueFd listener_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

int64_t MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

// The query's deadlines count whole milliseconds (EventLoop::NowMs), so by
// this finer clock a 200 ms wait may end up to 1 ms early (seen: 199).
constexpr int64_t kWaitedFull = 199;

}  // namespace

TEST_CASE("daemon request: a reply in one piece is read") {
  SlowDaemon daemon("{\"ok\":true,\"n\":7}\n", 0);
  nlohmann::json reply;
  REQUIRE(DaemonRequest("plxd", daemon.path(), {{"cmd", "list"}}, &reply, 2000).ok());
  CHECK(reply["n"] == 7);
}

TEST_CASE("daemon request: a daemon that trickles its reply is given up on at the deadline") {
  SlowDaemon daemon(std::string(200, 'x'), 20);  // 4 s of bytes, each within the timeout
  auto start = std::chrono::steady_clock::now();
  Status s = DaemonRequest("plxd", daemon.path(), {{"cmd", "list"}}, nullptr, 300);
  CHECK(s.IsTimedOut());
  CHECK(s.message().find("plxd did not answer within 300 ms") != std::string::npos);
  CHECK(MsSince(start) < 2000);
}

TEST_CASE("daemon request: a malformed or failed reply is an error naming the daemon") {
  {
    SlowDaemon daemon("not json\n", 0);
    Status s = DaemonRequest("switchd", daemon.path(), {{"cmd", "status"}}, nullptr, 2000);
    CHECK(s.message().find("switchd sent a malformed reply") != std::string::npos);
  }
  {
    SlowDaemon daemon("{\"ok\":false,\"error\":\"no such vdi\"}\n", 0);
    Status s = DaemonRequest("plxd", daemon.path(), {{"cmd", "close"}}, nullptr, 2000);
    CHECK(s.message().find("plxd: no such vdi") != std::string::npos);
  }
}

TEST_CASE("daemon status query: an unanswered daemon is left alone, longer each time, until it answers") {
  char tmpl[] = "/tmp/daemon_control_test.XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  UniqueFd listener;  // accepts nobody: a request is taken into the backlog and never answered
  REQUIRE(ListenUnix(dir + "/stuck", &listener).ok());
  DaemonStatusQuery query("switchd", 200, 1000, 2000);

  auto start = std::chrono::steady_clock::now();
  Status s = query.Ask(dir + "/stuck", {{"cmd", "status"}}, nullptr);
  CHECK(s.IsTimedOut());
  CHECK(MsSince(start) >= kWaitedFull);
  CHECK(query.trouble() == "switchd did not answer within 200 ms (stopped or stuck?)");
  start = std::chrono::steady_clock::now();
  CHECK(query.Ask(dir + "/stuck", {{"cmd", "status"}}, nullptr).IsTimedOut());
  CHECK(MsSince(start) < 100);  // left alone: no wait at all

  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  start = std::chrono::steady_clock::now();
  CHECK(query.Ask(dir + "/stuck", {{"cmd", "status"}}, nullptr).IsTimedOut());
  CHECK(MsSince(start) >= kWaitedFull);  // asked again once the quiet second was over
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  start = std::chrono::steady_clock::now();
  CHECK(query.Ask(dir + "/stuck", {{"cmd", "status"}}, nullptr).IsTimedOut());
  CHECK(MsSince(start) < 100);  // the second quiet period is two seconds

  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  SlowDaemon answering("{\"ok\":true,\"n\":1}\n", 0);
  nlohmann::json reply;
  REQUIRE(query.Ask(answering.path(), {{"cmd", "status"}}, &reply).ok());
  CHECK(reply["n"] == 1);
  CHECK(query.trouble().empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("daemon request: a daemon whose connection queue is full is given up on at the deadline") {
  char tmpl[] = "/tmp/daemon_control_test.XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl, path = dir + "/ctl";
  UniqueFd listener;  // its daemon is stopped: it accepts nobody
  REQUIRE(ListenUnix(path, &listener).ok());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  std::vector<UniqueFd> queued;  // earlier requests, filling its queue
  for (;;) {
    UniqueFd c(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
    if (::connect(c.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) break;
    queued.push_back(std::move(c));
    REQUIRE(queued.size() < 10000);
  }
  auto start = std::chrono::steady_clock::now();
  Status s = DaemonRequest("switchd", path, {{"cmd", "status"}}, nullptr, 300);
  CHECK(s.IsTimedOut());
  CHECK(s.message() == "switchd did not answer within 300 ms");
  CHECK(MsSince(start) < 5000);  // a blocking connect would wait for good
  std::filesystem::remove_all(dir);
}
