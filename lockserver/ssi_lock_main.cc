// ssi-lock: runs a command while holding a cluster lock, like flock(1), or
// shows the lock server's members and locks. Built twice from this file: a
// host binary and a static guest binary. Exit codes: CMD's own; 1 when the
// lock was not obtained (-n, --timeout, or a bound of the server's such as
// --max-session-locks); 2 usage; 3 lock server trouble;
// 75 when the session was lost while CMD ran (CMD is killed: it would run
// unprotected).
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lockserver/lock_client.h"

using namespace ssiuml;
using namespace ssiuml::lock;

namespace {

// SIGINT, SIGTERM and SIGHUP go to a thread of their own. While the lock is
// awaited they end the session with BYE: killed outright, ssi-lock would
// leave a silent session, which expires and gets its whole node fenced.
// Once the lock is held, one that comes before CMD starts keeps CMD from
// starting; while CMD runs they are passed on to it; after that the lock goes
// back anyway.
class SignalRouter {
 public:
  // Before any thread starts, so that all of them inherit the blocked set.
  SignalRouter() {
    sigemptyset(&set_);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set_, sig);
    ::pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  void Start(LockClient* client) { std::thread([this, client] { Run(client); }).detach(); }

  // After the lock was granted: false if a signal ended the wait first (its
  // BYE, sent by the time this returns, gave the lock back).
  bool Granted() {
    std::unique_lock<std::mutex> lock(mu_);
    if (phase_ == Phase::kWaiting && signal_ != 0) {
      closed_.wait(lock, [this] { return bye_sent_; });
      return false;
    }
    phase_ = Phase::kHeld;
    return true;
  }
  // The signal that interrupted ssi-lock, once any BYE of it is sent; 0 if none.
  int Interrupted() {
    std::unique_lock<std::mutex> lock(mu_);
    if (phase_ == Phase::kWaiting && signal_ != 0) closed_.wait(lock, [this] { return bye_sent_; });
    return signal_;
  }
  // Starts CMD with the signals unblocked, unless one came since the grant.
  bool Spawn(char** argv, pid_t* pid) {
    std::lock_guard<std::mutex> lock(mu_);
    if (signal_ != 0) return false;
    *pid = ::fork();
    if (*pid == 0) {
      ::pthread_sigmask(SIG_UNBLOCK, &set_, nullptr);
      ::execvp(argv[0], argv);
      std::fprintf(stderr, "ssi-lock: %s: %s\n", argv[0], std::strerror(errno));
      ::_exit(127);
    }
    if (*pid > 0) child_ = *pid;
    phase_ = Phase::kRunning;
    return true;
  }
  void Ended() {
    std::lock_guard<std::mutex> lock(mu_);
    child_ = 0;
    phase_ = Phase::kEnded;
  }
  void KillChild() {
    pid_t pid = child_.load();
    if (pid > 0) ::kill(pid, SIGKILL);
  }

 private:
  enum class Phase { kWaiting, kHeld, kRunning, kEnded };

  void Run(LockClient* client) {
    for (;;) {
      int sig = 0;
      if (::sigwait(&set_, &sig) != 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      if (phase_ == Phase::kRunning && child_ > 0) ::kill(child_, sig);
      if (phase_ == Phase::kHeld && signal_ == 0) signal_ = sig;
      if (phase_ != Phase::kWaiting) continue;
      signal_ = sig;
      break;
    }
    (void)client->Bye();
    std::lock_guard<std::mutex> lock(mu_);
    bye_sent_ = true;
    closed_.notify_all();
  }

  sigset_t set_;
  std::mutex mu_;
  std::condition_variable closed_;
  std::atomic<pid_t> child_{0};
  Phase phase_ = Phase::kWaiting;  // guarded by mu_
  int signal_ = 0;                 // guarded by mu_
  bool bye_sent_ = false;          // guarded by mu_
};

// --history FILE: one line per acquire and release, "<ns> <who> acquire|release
// <token>" (lockserver/mutex_checker.h), synced before the lock is used or
// given back, so a crash cannot lose a record of a hold that mattered.
// CLOCK_REALTIME: UML guests keep the host's wall clock, so the lines of
// every node and the host compare, to within the guests' clock skew (which
// ssi-test's check allows for, launcher/lock_history.cc).
class History {
 public:
  ~History() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Open(const std::string& path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    return fd_ < 0 ? Status::IOError("cannot open history " + path + ": " + std::strerror(errno)) : Status::OK();
  }
  void Record(const std::string& who, const char* kind, uint64_t token) {
    if (fd_ < 0) return;
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
    std::string line = std::to_string(ns) + " " + who + " " + kind + " " + std::to_string(token) + "\n";
    if (::write(fd_, line.data(), line.size()) == static_cast<ssize_t>(line.size())) ::fdatasync(fd_);
  }

 private:
  int fd_ = -1;
};

// A node's records compare with other nodes' only once ssi-agent has set
// its clock from the lock server's: a guest booted under load can be
// seconds behind until then.
Status AwaitGuestClock() {
  constexpr int kWaitMs = 30000, kStepMs = 100;
  for (int waited = 0; ::access(kGuestClockFile, F_OK) != 0; waited += kStepMs) {
    if (waited >= kWaitMs)
      return Status::TimedOut(std::string("this node's clock was not set from the lock server's within 30 s (no ") +
                                 kGuestClockFile + "), so its history would not compare; is ssi-agent running?");
    ::usleep(kStepMs * 1000);
  }
  return Status::OK();
}

Status HostServerAddress(const std::string& cluster, std::string* address) {
  std::string path = ClusterPortFile(cluster);
  if (!AddressFromPortFile(path, address).ok())
    return Status::NotFound("cluster " + cluster + " has no lock server (no " + path +
                            "); start it with ssi-start, or give --server");
  return Status::OK();
}

int Usage() {
  std::fprintf(stderr,
               "usage: ssi-lock [--server HOST:PORT|unix:PATH | --cluster NAME] [--host] [-m MODE]\n"
               "                [-w MS|--timeout MS] [-n] [--history FILE] NAME [--] CMD [ARGS...]\n"
               "       ssi-lock [--server ADDR | --cluster NAME] [--host] status\n"
               "MODE is NL CR CW PR PW EX (default EX). The server: --server, else $SSI_LOCK_SERVER, else\n"
               "in a node ssi.lock= of the kernel command line or SUBNET.254:7400, and on the host\n"
               "cluster NAME's (default: default). CMD sees SSI_LOCK_TOKEN, the grant's fencing token.\n"
               "--history appends each acquire and release for the mutex checker (ssi-test's check\n"
               "lock-history).\n");
  return 2;
}

bool ParseMs(const char* text, uint64_t* ms) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (!*text || *end || v == 0 || v > 86400000ull) return false;
  *ms = v;
  return true;
}

int PrintStatus(LockClient& client) {
  std::vector<std::string> lines;
  Status s = client.QueryStatus(&lines);
  if (!s.ok()) {
    std::fprintf(stderr, "ssi-lock: %s\n", s.message().c_str());
    return 3;
  }
  std::string members;
  for (const std::string& line : lines) {
    if (line.rfind("kind=member ", 0) == 0) {
      // "kind=member node=3 state=fencing" -> " 3(fencing)"; plain members by number.
      size_t node = line.find("node="), state = line.find("state=");
      if (node == std::string::npos) continue;
      std::string number = line.substr(node + 5, line.find(' ', node) - node - 5);
      std::string how = state == std::string::npos ? "member" : line.substr(state + 6, line.find(' ', state) - state - 6);
      members += " " + number + (how == "member" ? "" : "(" + how + ")");
    }
  }
  std::printf("epoch %s\nmembers:%s\n", lines.back().substr(6).c_str(), members.empty() ? " none" : members.c_str());
  for (const std::string& line : lines)
    if (line.rfind("kind=member ", 0) != 0 && line.rfind("epoch=", 0) != 0) std::printf("%s\n", line.c_str() + 5);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string server_flag, name, history_path, cluster = "default";
  Mode mode = Mode::kEX;
  LockOptions options;
  bool host = false;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* flag) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ssi-lock: %s needs a value\n", flag);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--server") {
      server_flag = value("--server");
    } else if (a == "--cluster") {
      cluster = value("--cluster");
    } else if (a == "--history") {
      history_path = value("--history");
    } else if (a == "--host") {
      host = true;
    } else if (a == "-m" || a == "--mode") {
      Status s = ParseMode(value("-m"), &mode);
      if (!s.ok()) {
        std::fprintf(stderr, "ssi-lock: %s\n", s.message().c_str());
        return 2;
      }
    } else if (a == "-w" || a == "--timeout") {
      if (!ParseMs(value("--timeout"), &options.timeout_ms)) {
        std::fprintf(stderr, "ssi-lock: --timeout wants milliseconds, 1 to 86400000\n");
        return 2;
      }
    } else if (a == "-n" || a == "--nonblock") {
      options.try_lock = true;
    } else if (a == "-h" || a == "--help") {
      Usage();
      return 0;
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "ssi-lock: unknown option %s\n", a.c_str());
      return Usage();
    } else {
      name = a;
      ++i;
      break;
    }
  }
  if (name.empty()) return Usage();
  if (i < argc && std::strcmp(argv[i], "--") == 0) ++i;
  bool status = name == "status" && i == argc;
  if (!status && i == argc) return Usage();

  int node = 0;
  std::string boot;
  if (!host) {
    Status s = ReadGuestIdentity("/proc/cmdline", "/run/ssi/boot_id", &node, &boot);
    if (s.IsNotFound() && s.message().rfind("no ssi.node", 0) == 0) {
      host = true;  // not inside a node
    } else if (!s.ok()) {
      std::fprintf(stderr, "ssi-lock: %s\n", s.message().c_str());
      return 3;
    }
  }
  std::string address = DefaultServerAddress(server_flag);
  const char* env_server = std::getenv("SSI_LOCK_SERVER");
  if (host && server_flag.empty() && !(env_server && *env_server)) {
    Status a = HostServerAddress(cluster, &address);
    if (!a.ok()) {
      std::fprintf(stderr, "ssi-lock: %s\n", a.message().c_str());
      return 3;
    }
  }
  SignalRouter signals;
  std::unique_ptr<LockClient> client;
  Status s = LockClient::Connect(address, &client);
  if (s.ok()) s = host ? client->HelloHost("host-" + std::to_string(::getpid())) : client->HelloNode(node, boot, "ssi-lock");
  if (!s.ok()) {
    std::fprintf(stderr, "ssi-lock: lock server %s: %s\n", address.c_str(), s.message().c_str());
    return 3;
  }
  signals.Start(client.get());
  if (status) {
    int rc = PrintStatus(*client);
    (void)client->Bye();
    return rc;
  }

  // Jepsen-style history for the mutex checker: who held what, when.
  std::string who = host ? "host-" + std::to_string(::getpid())
                         : "n" + std::to_string(node) + "-" + boot.substr(0, 8) + "-" + std::to_string(::getpid());
  History history;
  if (!history_path.empty()) {
    Status h = host ? Status::OK() : AwaitGuestClock();
    if (h.ok()) h = history.Open(history_path);
    if (!h.ok()) {
      std::fprintf(stderr, "ssi-lock: %s\n", h.message().c_str());
      return 2;
    }
  }

  Grant grant;
  s = client->Lock(name, mode, options, &grant);
  if (!s.ok() && signals.Interrupted() != 0) return 128 + signals.Interrupted();  // BYE said
  if (s.IsBusy() || s.IsTimedOut() || s.IsResourceExhausted()) {
    std::fprintf(stderr, "ssi-lock: %s not obtained: %s\n", name.c_str(), s.message().c_str());
    (void)client->Bye();
    return 1;
  }
  if (!s.ok()) {
    std::fprintf(stderr, "ssi-lock: %s\n", s.message().c_str());
    return 3;
  }
  std::atomic<bool> lost{false};
  client->OnLost([&lost, &signals](const std::string& why) {
    lost = true;
    std::fprintf(stderr, "ssi-lock: %s; killing the command\n", why.c_str());
    signals.KillChild();
  });
  if (!signals.Granted()) return 128 + signals.Interrupted();
  ::setenv("SSI_LOCK_TOKEN", std::to_string(grant.token).c_str(), 1);
  history.Record(who, "acquire", grant.token);
  pid_t pid = 0;
  int wstatus = 0;
  if (signals.Spawn(argv + i, &pid)) {
    if (pid < 0) {
      std::perror("ssi-lock: fork");
      return 3;
    }
    if (!client->alive()) ::kill(pid, SIGKILL);  // lost before the callback could see the pid
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    signals.Ended();
  }
  if (lost || !client->alive()) return 75;
  history.Record(who, "release", grant.token);
  s = client->Unlock(name);
  if (s.ok()) s = client->Bye();
  if (!s.ok()) std::fprintf(stderr, "ssi-lock: unlock: %s\n", s.message().c_str());
  if (pid == 0) return 128 + signals.Interrupted();  // CMD never started
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return WEXITSTATUS(wstatus);
}
