// lock-torture: the pieces of the real-process mutex test
// (lockserver/lock_torture_test.sh).
//   client --server A --control C --node N --dir D --history H [--hold-ms M]
//       registers a fresh boot id for node N (playing the supervisor), then
//       loops: LOCK mutex EX, log acquire, hold, log release, UNLOCK.
//   fencer --control C --dir D --history H
//       answers fence requests by SIGKILLing the incarnation's process
//       (D/<boot>.pid) and logging "fenced" once it is dead.
//   check H
//       runs the mutex checker over the history.
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "common/unix_socket.h"
#include "lockserver/lock_client.h"
#include "lockserver/lock_protocol.h"
#include "lockserver/mutex_checker.h"

using namespace ssiuml;
using namespace ssiuml::lock;

namespace {

uint64_t NowNs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// One line per write on an O_APPEND file: lines of different processes do
// not interleave.
void Log(int fd, const std::string& client, const std::string& what) {
  std::string line = std::to_string(NowNs()) + " " + client + " " + what + "\n";
  (void)!::write(fd, line.data(), line.size());
}

std::map<std::string, std::string> Flags(int argc, char** argv, int first) {
  std::map<std::string, std::string> flags;
  for (int i = first; i + 1 < argc; i += 2) flags[argv[i]] = argv[i + 1];
  return flags;
}

Status ControlRequest(const std::string& path, const nlohmann::json& request) {
  UniqueFd fd;
  Status s = ConnectUnix(path, &fd);
  if (s.ok()) s = WriteAllFd(fd.get(), request.dump() + "\n");
  char buf[512];
  if (s.ok() && ::read(fd.get(), buf, sizeof buf) <= 0) s = Status::IOError("no answer from the control socket");
  return s;
}

int Client(std::map<std::string, std::string> f) {
  std::string id = std::to_string(::getpid());
  std::random_device random;
  std::mt19937_64 rng(random());
  uint8_t bytes[16];
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  std::string boot = wire::HexEncode(bytes, sizeof bytes);
  std::ofstream(f["--dir"] + "/" + boot + ".pid") << id << "\n";
  int node = std::stoi(f["--node"]);
  int hold_ms = f.count("--hold-ms") ? std::stoi(f["--hold-ms"]) : 3;
  int history = ::open(f["--history"].c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  Status s = ControlRequest(f["--control"], {{"v", 1}, {"cmd", "boot"}, {"node", node}, {"boot", boot}});
  std::unique_ptr<LockClient> client;
  if (s.ok()) s = LockClient::Connect(f["--server"], &client);
  if (s.ok()) s = client->HelloNode(node, boot, "torture");
  if (!s.ok() || history < 0) {
    std::fprintf(stderr, "lock-torture client %d: %s\n", node, s.message().c_str());
    return 1;
  }
  std::uniform_int_distribution<int> hold(0, hold_ms);
  for (;;) {
    Grant g;
    s = client->Lock("mutex", Mode::kEX, {}, &g);
    if (!s.ok()) break;
    Log(history, id, "acquire " + std::to_string(g.token));
    std::this_thread::sleep_for(std::chrono::milliseconds(hold(rng)));
    Log(history, id, "release " + std::to_string(g.token));
    s = client->Unlock("mutex");
    if (!s.ok()) break;
  }
  std::fprintf(stderr, "lock-torture client %d (pid %s): %s\n", node, id.c_str(), s.message().c_str());
  return 75;
}

// Dead or a zombie: it can no longer act.
bool Dead(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() || line[paren + 2] == 'Z';
}

int Fencer(std::map<std::string, std::string> f) {
  UniqueFd fd;
  Status s = ConnectUnix(f["--control"], &fd);
  if (s.ok()) s = WriteAllFd(fd.get(), "{\"v\":1,\"cmd\":\"fencer\"}\n");
  int history = ::open(f["--history"].c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (!s.ok() || history < 0) {
    std::fprintf(stderr, "lock-torture fencer: %s\n", s.message().c_str());
    return 1;
  }
  wire::LineReader reader;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) {
    reader.Feed(std::string_view(buf, static_cast<size_t>(n)));
    std::string line;
    while (reader.Next(&line) == wire::LineReader::Result::kLine) {
      nlohmann::json req = nlohmann::json::parse(line, nullptr, false);
      if (!req.is_object() || !req.contains("fence")) continue;
      std::string boot = req.value("boot", "");
      pid_t pid = 0;
      std::ifstream(f["--dir"] + "/" + boot + ".pid") >> pid;
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::kill(pid, SIGCONT);  // a stopped process dies only once continued
        while (!Dead(pid)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        Log(history, std::to_string(pid), "fenced");
      }
      nlohmann::json answer = {{"v", 1}, {"fenced", req["fence"]}, {"id", req["id"]}, {"ok", true}};
      (void)WriteAllFd(fd.get(), answer.dump() + "\n");
    }
  }
  return 0;
}

int Check(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::vector<HistoryEvent> events;
  Status s = ParseHistory(text.str(), &events);
  if (!s.ok()) {
    std::fprintf(stderr, "lock-torture check: %s\n", s.message().c_str());
    return 2;
  }
  CheckResult r = CheckMutex(events);
  std::printf("%zu acquires, %zu releases, %zu fenced, %zu violations\n", r.acquires, r.releases, r.fenced,
              r.violations.size());
  for (size_t i = 0; i < r.violations.size() && i < 20; ++i) std::printf("VIOLATION %s\n", r.violations[i].c_str());
  return r.ok() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "client") return Client(Flags(argc, argv, 2));
  if (cmd == "fencer") return Fencer(Flags(argc, argv, 2));
  if (cmd == "check" && argc == 3) return Check(argv[2]);
  std::fprintf(stderr, "usage: lock-torture client|fencer|check ... (see lock_torture_main.cc)\n");
  return 2;
}
