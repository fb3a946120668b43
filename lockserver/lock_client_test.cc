// The client library against a real LockServer on an in-process event loop:
// the daemon's socket handling, identity checks, bad input and recovery.
#include "lockserver/lock_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/event_loop.h"
#include "common/unix_socket.h"
#include "lockserver/lock_server.h"

using namespace ssiuml;
using namespace ssiuml::lock;

namespace {

const std::string kBoot3(32, '3'), kBoot4(32, '4');

class ServerThread {
 public:
  explicit ServerThread(std::function<void(ServerOptions*)> tweak = nullptr) {
    char tmpl[] = "/tmp/lockserver-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    options_.tcp = "127.0.0.1:0";
    options_.port_file = dir_ + "/port";
    options_.control = dir_ + "/ctl";
    options_.gateway_socket = dir_ + "/gw";
    options_.service.heartbeat_ms = 50;
    options_.service.expiry_missed = 4;
    options_.hello_wait_ms = 400;
    if (tweak) tweak(&options_);
    spdlog::set_level(spdlog::level::off);  // refusals are expected here
    std::promise<bool> ready;
    thread_ = std::thread([this, &ready] {
      EventLoop loop;
      LockServer server(&loop, options_);
      bool ok = loop.Init().ok() && server.Start().ok();
      ready.set_value(ok);
      if (!ok) return;
      std::function<void()> check = [&] {
        if (stop_) loop.Quit();
        else loop.After(5, check);
      };
      loop.After(5, check);
      loop.Run();
    });
    REQUIRE(ready.get_future().get());
    std::ifstream(options_.port_file) >> port_;
  }
  ~ServerThread() {
    stop_ = true;
    thread_.join();
    ::system(("rm -rf " + dir_).c_str());
  }
  std::string tcp() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string gateway() const { return "unix:" + options_.gateway_socket; }
  const std::string& control() const { return options_.control; }

 private:
  std::string dir_;
  ServerOptions options_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  int port_ = 0;
};

// A raw connection for speaking the protocol badly, or for a control socket.
class Raw {
 public:
  explicit Raw(const std::string& address) {
    if (address.rfind("unix:", 0) == 0) {
      REQUIRE(ConnectUnix(address.substr(5), &fd_).ok());
    } else {
      fd_.Reset(::socket(AF_INET, SOCK_STREAM, 0));
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1))));
      ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
      REQUIRE(::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
  }
  void Send(const std::string& data) { REQUIRE(WriteAllFd(fd_.get(), data).ok()); }
  // The next line, or "" after timeout_ms or at EOF.
  std::string Line(int timeout_ms = 3000) {
    for (;;) {
      size_t nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return "";
      char buf[4096];
      ssize_t n = ::read(fd_.get(), buf, sizeof buf);
      if (n <= 0) return "";
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  std::string buffer_;
};

nlohmann::json Control(const ServerThread& server, const nlohmann::json& request) {
  Raw raw("unix:" + server.control());
  raw.Send(request.dump() + "\n");
  return nlohmann::json::parse(raw.Line(), nullptr, false);
}

std::unique_ptr<LockClient> Host(const ServerThread& server, const std::string& name) {
  std::unique_ptr<LockClient> c;
  REQUIRE(LockClient::Connect(server.tcp(), &c).ok());
  REQUIRE(c->HelloHost(name).ok());
  return c;
}

}  // namespace

TEST_CASE("client: lock, try, timeout, value blocks and tokens over TCP") {
  ServerThread server;
  auto a = Host(server, "a");
  auto b = Host(server, "b");
  std::atomic<int> basts{0};
  a->OnBlocking([&](const std::string& name, Mode mode) {
    if (name == "r" && mode == Mode::kEX) ++basts;
  });
  Grant g1, g2;
  REQUIRE(a->Lock("r", Mode::kEX, {}, &g1).ok());
  CHECK(g1.has_lvb);
  CHECK(b->Lock("r", Mode::kPR, {true, 0}, &g2).IsBusy());
  CHECK(b->Lock("r", Mode::kEX, {false, 100}, &g2).IsTimedOut());
  CHECK(basts == 1);
  ValueBlock v{};
  v[0] = 42;
  REQUIRE(a->Convert("r", Mode::kNL, {}, &v, &g2).ok());
  CHECK(g2.token > g1.token);
  CHECK_FALSE(g2.has_lvb);
  REQUIRE(b->Lock("r", Mode::kPR, {}, &g2).ok());
  CHECK(g2.lvb[0] == 42);
  CHECK(g2.lvb_valid);
  CHECK(a->Unlock("nothing").message().find("not-held") == 0);
  REQUIRE(a->Unlock("r").ok());
  std::vector<std::string> lines;
  REQUIRE(b->QueryStatus(&lines).ok());
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("kind=holder name=r mode=PR") == 0);
  REQUIRE(b->Bye().ok());
  CHECK_FALSE(b->Lock("q", Mode::kEX, {}, &g2).ok());
}

TEST_CASE("client: a waiter is woken by the holder's unlock") {
  ServerThread server;
  auto a = Host(server, "a");
  auto b = Host(server, "b");
  Grant g;
  REQUIRE(a->Lock("m", Mode::kEX, {}, &g).ok());
  auto waiter = std::async(std::launch::async, [&] {
    Grant got;
    Status s = b->Lock("m", Mode::kEX, {}, &got);
    return s.ok() ? got.token : 0;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(a->Unlock("m").ok());
  CHECK(waiter.get() > g.token);
}

TEST_CASE("client: a waiting lock can be cancelled from another thread") {
  ServerThread server;
  auto a = Host(server, "a");
  auto b = Host(server, "b");
  Grant g;
  REQUIRE(a->Lock("m", Mode::kEX, {}, &g).ok());
  auto waiter = std::async(std::launch::async, [&] {
    Grant got;
    return b->Lock("m", Mode::kEX, {}, &got);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(b->Cancel("m").ok());
  CHECK(waiter.get().message().find("cancelled: ") == 0);
  CHECK(b->Cancel("m").message().find("not-held") == 0);
}

TEST_CASE("client: heartbeats keep an idle session alive") {
  ServerThread server;
  auto a = Host(server, "a");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // 3x the expiry
  CHECK(a->alive());
  Grant g;
  CHECK(a->Lock("x", Mode::kEX, {}, &g).ok());
}

TEST_CASE("client: heartbeats measure the server's clock") {
  ServerThread server;
  auto a = Host(server, "a");
  int64_t offset = 0;
  uint64_t round_trip = 0;
  CHECK_FALSE(a->ClockOffset(1000, &offset, &round_trip));
  for (int i = 0; i < 100 && !a->ClockOffset(3, &offset, &round_trip); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(a->ClockOffset(3, &offset, &round_trip));
  // One host, one clock: the offset is within the round trip.
  CHECK(std::llabs(offset) <= static_cast<int64_t>(round_trip) + 1000000);
  CHECK(round_trip < 1000000000u);
  a->RestartClockSamples();
  CHECK_FALSE(a->ClockOffset(3, &offset, &round_trip));
  for (int i = 0; i < 100 && !a->ClockOffset(1, &offset, &round_trip); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(a->ClockOffset(1, &offset, &round_trip));
}

TEST_CASE("node sessions: identity from the registry, membership events") {
  ServerThread server;
  auto watcher = Host(server, "w");
  std::mutex mu;
  std::vector<MemberChange> changes;
  std::vector<int> members;
  uint64_t epoch = 99;
  REQUIRE(watcher->Watch([&](const MemberChange& c) {
    std::lock_guard<std::mutex> lock(mu);
    changes.push_back(c);
  }, &members, &epoch).ok());
  CHECK(members.empty());
  CHECK(epoch == 0);

  // Unknown node: the HELLO waits, then is refused.
  std::unique_ptr<LockClient> n3;
  REQUIRE(LockClient::Connect(server.gateway(), &n3).ok());
  Status s = n3->HelloNode(3, kBoot3, "agent");
  CHECK(s.message().find("refused: node 3 has no registered boot id") == 0);

  // Registered while the HELLO waits: accepted.
  REQUIRE(LockClient::Connect(server.gateway(), &n3).ok());
  auto hello = std::async(std::launch::async, [&] { return n3->HelloNode(3, kBoot3, "agent"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(Control(server, {{"v", 1}, {"cmd", "boot"}, {"node", 3}, {"boot", kBoot3}})["ok"] == true);
  REQUIRE(hello.get().ok());

  // A later watcher gets the current members in its snapshot.
  auto late = Host(server, "late");
  std::vector<int> now_members;
  uint64_t now_epoch = 0;
  REQUIRE(late->Watch([](const MemberChange&) {}, &now_members, &now_epoch).ok());
  CHECK(now_members == std::vector<int>{3});
  CHECK(now_epoch == 1);

  // Someone else's boot id is refused.
  std::unique_ptr<LockClient> forged;
  REQUIRE(LockClient::Connect(server.gateway(), &forged).ok());
  CHECK_FALSE(forged->HelloNode(3, kBoot4, "agent").ok());
  // Host sessions never come through the gateway.
  std::unique_ptr<LockClient> host;
  REQUIRE(LockClient::Connect(server.gateway(), &host).ok());
  CHECK(host->HelloHost("h").message().find("refused: host sessions are only allowed") == 0);

  Status bye = n3->Bye();
  INFO(bye.ToString());
  REQUIRE(bye.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::lock_guard<std::mutex> lock(mu);
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].event == "join");
  CHECK(changes[0].node == 3);
  CHECK(changes[0].epoch == 1);
  CHECK(changes[0].members == std::vector<int>{3});
  CHECK(changes[1].event == "leave");
  CHECK(changes[1].epoch == 2);
  CHECK(changes[1].members.empty());
}

TEST_CASE("recovery: an expired node's lock goes to the waiter only after the fencer answers") {
  ServerThread server;
  Raw fencer("unix:" + server.control());
  fencer.Send(R"({"v":1,"cmd":"fencer"})" "\n");
  CHECK(nlohmann::json::parse(fencer.Line())["ok"] == true);
  Control(server, {{"v", 1}, {"cmd", "boot"}, {"node", 4}, {"boot", kBoot4}});
  // A node that takes the lock and then goes silent (no heartbeats).
  Raw node(server.tcp());
  node.Send("SSIL/1 HELLO id=1 node=4 boot=" + kBoot4 + " name=agent\nLOCK id=2 name=m mode=EX\n");
  CHECK(node.Line().rfind("SSIL/1 WELCOME id=1", 0) == 0);
  CHECK(node.Line().rfind("GRANT id=2 name=m mode=EX", 0) == 0);
  auto survivor = Host(server, "s");
  auto waiter = std::async(std::launch::async, [&] {
    Grant g;
    return survivor->Lock("m", Mode::kEX, {}, &g).ok();
  });
  nlohmann::json fence = nlohmann::json::parse(fencer.Line());
  CHECK(fence["fence"] == 4);
  CHECK(fence["boot"] == kBoot4);
  // The fencer takes its time: a retry comes, the lock stays put.
  CHECK(nlohmann::json::parse(fencer.Line(2000))["id"] == fence["id"]);
  CHECK(waiter.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
  nlohmann::json status = Control(server, {{"v", 1}, {"cmd", "status"}});
  CHECK(status["members"][0]["state"] == "fencing");
  CHECK(status["locks"][0]["granted"].size() == 1);
  fencer.Send(nlohmann::json({{"v", 1}, {"fenced", 4}, {"id", fence["id"]}, {"ok", true}}).dump() + "\n");
  CHECK(waiter.get());
  CHECK(node.Line() == "BAST name=m mode=EX");  // from when the survivor queued
  CHECK(node.Line() == "ENDED session=1 reason=fenced");
  status = Control(server, {{"v", 1}, {"cmd", "status"}});
  CHECK(status["members"].empty());
  CHECK(status["locks"][0]["lvb_valid"] == false);
}

TEST_CASE("bad input gets an ERR naming the problem and the server keeps serving") {
  ServerThread server;
  Raw raw(server.tcp());
  raw.Send("LOCK id=1 name=x mode=EX\n");
  CHECK(raw.Line() == "ERR id=1 code=no-session msg=say SSIL/1 HELLO first");
  raw.Send("SSIL/1 HELLO id=2 host name=t\n");
  CHECK(raw.Line().rfind("SSIL/1 WELCOME id=2", 0) == 0);
  raw.Send("FROB id=3\nLOCK id=4 name=x mode=ZZ\nLOCK id=5 name=x\n" + std::string(5000, 'x') + "\n\x01\x02\n");
  CHECK(raw.Line() == "ERR id=3 code=unknown-verb msg=unknown verb 'FROB'");
  CHECK(raw.Line().rfind("ERR id=4 code=bad-mode", 0) == 0);
  CHECK(raw.Line() == "ERR id=5 code=malformed msg=LOCK needs mode=");
  CHECK(raw.Line() == "ERR id=0 code=too-long msg=line longer than 1024 bytes");
  CHECK(raw.Line().rfind("ERR id=0 code=malformed", 0) == 0);
  raw.Send("SSIL/9 HELLO id=6 host name=t\nPING id=7\n");
  CHECK(raw.Line().rfind("ERR id=6 code=version", 0) == 0);
  CHECK(raw.Line().rfind("PONG id=7 time=", 0) == 0);
  Raw control("unix:" + server.control());
  control.Send("not json\n{\"v\":1,\"cmd\":\"frob\"}\n{\"v\":1,\"cmd\":\"boot\",\"node\":0}\n");
  CHECK(nlohmann::json::parse(control.Line())["ok"] == false);
  CHECK(nlohmann::json::parse(control.Line())["error"] == "unknown command frob");
  CHECK(nlohmann::json::parse(control.Line())["ok"] == false);
  // Fields of another type are refused, and the server goes on.
  control.Send("{\"v\":\"1\",\"cmd\":\"status\"}\n{\"v\":1,\"fenced\":4,\"id\":\"x\"}\n");
  CHECK(nlohmann::json::parse(control.Line())["error"].get<std::string>().rfind("a field has the wrong type", 0) == 0);
  CHECK(nlohmann::json::parse(control.Line())["ok"] == false);
  CHECK(Control(server, {{"v", 1}, {"cmd", "status"}}).contains("members"));
}

TEST_CASE("a session flood is capped with a clear error") {
  ServerThread server([](ServerOptions* o) { o->service.max_sessions = 3; });
  std::vector<std::unique_ptr<LockClient>> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(Host(server, "c" + std::to_string(i)));
  std::unique_ptr<LockClient> extra;
  REQUIRE(LockClient::Connect(server.tcp(), &extra).ok());
  Status s = extra->HelloHost("extra");
  CHECK(s.message() == "too-many-sessions: too many sessions (max 3)");
  // Connections beyond sessions plus a margin are turned away at accept.
  std::vector<std::unique_ptr<Raw>> raws;
  for (int i = 0; i < 30; ++i) raws.push_back(std::make_unique<Raw>(server.tcp()));
  CHECK(raws.back()->Line().rfind("ERR id=0 code=too-many-sessions", 0) == 0);
  Grant g;
  CHECK(clients[0]->Lock("still", Mode::kEX, {}, &g).ok());
}

TEST_CASE("a client that never reads is cut off at the output bound") {
  ServerThread server([](ServerOptions* o) { o->max_output = 4096; });
  Raw raw(server.gateway());
  std::string burst;
  for (int i = 0; i < 1000; ++i) burst += "PING id=" + std::to_string(i) + "\n";  // each gets an ERR
  bool cut = false;
  for (int i = 0; i < 2000 && !cut; ++i) cut = ::send(raw.fd(), burst.data(), burst.size(), MSG_NOSIGNAL) < 0;
  CHECK(cut);
  CHECK(Control(server, {{"v", 1}, {"cmd", "status"}})["refused"] >= 1);
  auto a = Host(server, "a");  // still serving
  Grant g;
  CHECK(a->Lock("x", Mode::kEX, {}, &g).ok());
}

TEST_CASE("a peer that stops reading before its last replies is closed after the drain time") {
  ServerThread server([](ServerOptions* o) {
    o->max_output = 8 << 20;
    o->close_drain_ms = 200;
  });
  Raw raw(server.gateway());
  std::string burst;
  for (int i = 0; i < 20000; ++i) burst += "PING id=" + std::to_string(i) + "\n";  // ~1 MB of ERRs, never read
  raw.Send(burst + "SSIL/1 HELLO id=1 host name=t\n");  // refused from a node: the server closes after the replies
  auto connections = [&] { return Control(server, {{"v", 1}, {"cmd", "status"}, {"locks", false}})["connections"]; };
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    closed = connections() == 1;  // the status query's own
    if (!closed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(closed);
}

TEST_CASE("a lock beyond --max-resources is refused and the server keeps serving") {
  ServerThread server([](ServerOptions* o) { o->service.max_resources = 2; });
  auto a = Host(server, "a");
  Grant g;
  REQUIRE(a->Lock("x", Mode::kEX, {}, &g).ok());
  REQUIRE(a->Lock("y", Mode::kEX, {}, &g).ok());
  Status s = a->Lock("z", Mode::kEX, {}, &g);
  CHECK(s.message().rfind("too-many-resources: too many lock resources in use (max 2)", 0) == 0);
  REQUIRE(a->Unlock("x").ok());
  CHECK(a->Lock("z", Mode::kEX, {}, &g).ok());
}

TEST_CASE("STATUS lists one resource by name, and at most 1000 rows of all") {
  ServerThread server;
  auto a = Host(server, "a");
  Grant g;
  for (int i = 0; i < 1200; ++i) REQUIRE(a->Lock("r" + std::to_string(i), Mode::kEX, {}, &g).ok());
  std::vector<std::string> lines;
  REQUIRE(a->QueryStatus(&lines, "r7").ok());
  REQUIRE(lines.size() == 2);  // its holder, then the epoch
  CHECK(lines[0].find("kind=holder name=r7 mode=EX") == 0);
  REQUIRE(a->QueryStatus(&lines, "absent").ok());
  CHECK(lines.size() == 1);
  REQUIRE(a->QueryStatus(&lines).ok());
  CHECK(lines.size() == 500 + 2);  // 500 resources of 2 rows each
  CHECK(lines[500] == "kind=truncated resources=500 of=1200");
  CHECK(a->Lock("after", Mode::kEX, {}, &g).ok());  // still connected: the reply fit
}

TEST_CASE("a lock beyond --max-locks is refused and the server keeps serving") {
  ServerThread server([](ServerOptions* o) { o->service.max_locks = 2; });
  auto a = Host(server, "a");
  auto b = Host(server, "b");
  Grant g;
  REQUIRE(a->Lock("x", Mode::kEX, {}, &g).ok());
  REQUIRE(b->Lock("y", Mode::kEX, {}, &g).ok());
  Status s = b->Lock("z", Mode::kEX, {}, &g);
  CHECK(s.IsResourceExhausted());  // not obtained: it may be once others unlock
  CHECK(s.message().rfind("too-many-locks: too many locks held or queued (max 2)", 0) == 0);
  REQUIRE(a->Unlock("x").ok());
  CHECK(b->Lock("z", Mode::kEX, {}, &g).ok());
}

TEST_CASE("a session locking name after name is refused itself; the others keep locking") {
  ServerThread server([](ServerOptions* o) { o->service.max_session_locks = 3; });
  auto greedy = Host(server, "greedy");
  auto other = Host(server, "other");
  Grant g;
  for (std::string name : {"a", "b", "c"}) REQUIRE(greedy->Lock(name, Mode::kEX, {}, &g).ok());
  Status s = greedy->Lock("d", Mode::kEX, {}, &g);
  CHECK(s.IsResourceExhausted());
  CHECK(s.message().rfind("too-many-session-locks: this session holds or queues too many locks (max 3)", 0) == 0);
  CHECK(other->Lock("d", Mode::kEX, {}, &g).ok());
  CHECK(other->Lock("e", Mode::kEX, {}, &g).ok());
  REQUIRE(greedy->Unlock("a").ok());
  CHECK(greedy->Lock("f", Mode::kEX, {}, &g).ok());
}

TEST_CASE("guest identity comes from the kernel command line and the agent's file") {
  char tmpl[] = "/tmp/lock-identity-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::ofstream(dir + "/cmdline") << "console=tty0 ssi.cluster=demo ssi.node=7 quiet\n";
  int node = 0;
  std::string boot;
  Status s = ReadGuestIdentity(dir + "/cmdline", dir + "/boot_id", &node, &boot);
  CHECK(s.message() == "no boot id in " + dir + "/boot_id (is ssi-agent running?)");
  std::ofstream(dir + "/boot_id") << "not hex\n";
  CHECK(ReadGuestIdentity(dir + "/cmdline", dir + "/boot_id", &node, &boot).IsCorruption());
  std::ofstream(dir + "/boot_id") << "0123456789ABCDEF0123456789abcdef\n";
  REQUIRE(ReadGuestIdentity(dir + "/cmdline", dir + "/boot_id", &node, &boot).ok());
  CHECK(node == 7);
  CHECK(boot == "0123456789abcdef0123456789abcdef");
  std::ofstream(dir + "/cmdline") << "console=tty0\n";
  CHECK(ReadGuestIdentity(dir + "/cmdline", dir + "/boot_id", &node, &boot).IsNotFound());
  ::system(("rm -rf " + dir).c_str());
  setenv("SSI_LOCK_SERVER", "unix:/x", 1);
  CHECK(DefaultServerAddress("") == "unix:/x");
  CHECK(DefaultServerAddress("1.2.3.4:5") == "1.2.3.4:5");
  unsetenv("SSI_LOCK_SERVER");
  CHECK(DefaultServerAddress("", "/nonexistent") == "10.77.0.254:7400");
}

TEST_CASE("a guest finds a lock node through ssi.lock=, else the gateway of its subnet") {
  CHECK(GuestServerAddress("") == "10.77.0.254:7400");
  CHECK(GuestServerAddress("console=tty0 ssi.node=3\n") == "10.77.0.254:7400");
  CHECK(GuestServerAddress("ssi.subnet=10.9.8 ssi.node=3\n") == "10.9.8.254:7400");
  CHECK(GuestServerAddress("ssi.subnet=10.9.8 ssi.lock=10.9.8.253:7400 quiet\n") == "10.9.8.253:7400");
  CHECK(GuestServerAddress("ssi.lock=1.2.3.4:5 ssi.lock=10.77.0.253:7400") == "10.77.0.253:7400");
  CHECK(GuestServerAddress("ssi.lock= ssi.locks=x xssi.lock=y") == "10.77.0.254:7400");
  char tmpl[] = "/tmp/lock-cmdline-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::ofstream(dir + "/cmdline") << "mem=64M ssi.subnet=10.77.0 ssi.lock=10.77.0.253:7400 ssi.node=2\n";
  CHECK(DefaultServerAddress("", dir + "/cmdline") == "10.77.0.253:7400");
  CHECK(DefaultServerAddress("127.0.0.1:9", dir + "/cmdline") == "127.0.0.1:9");
  ::system(("rm -rf " + dir).c_str());
}
