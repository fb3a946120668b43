// ssi-agent: runs inside every node. It serves the management serial line
// (ssl1, /dev/ttyS1): answers pings and runs commands for ssi-exec, sending
// their output and exit status back as mgmt frames. A second thread keeps the
// node's lock-server session (see membership.h). Static, no libraries.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "common/mgmt_frame.h"
#include "lockserver/membership.h"

using namespace ssiuml;

namespace {

// Commands running at once; more get an ERR instead of a fork bomb.
constexpr size_t kMaxCommands = 64;

struct Command {
  pid_t pid = -1;
  int out_fd = -1;  // child's stdout
  int err_fd = -1;  // child's stderr
  bool exited = false;
  int status = 0;
  uint64_t kill_at_ms = 0;  // after a KILL: SIGKILL then, if still running
};

// A KILL asks politely first: ssi-lock, given SIGTERM, gives its lock back
// and ends its session; killed outright, it would get the node fenced.
constexpr uint64_t kKillGraceMs = 2000;

uint64_t NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

int g_line = -1;
std::string g_boot_id;
int g_sigchld_pipe[2];
std::map<uint64_t, Command> g_commands;

void OnSigchld(int) {
  int saved = errno;
  (void)!write(g_sigchld_pipe[1], "x", 1);
  errno = saved;
}

void Send(const mgmt::Frame& frame) {
  std::string line = mgmt::Encode(frame);
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = write(g_line, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // the host end is gone; nothing to tell it
    }
    done += static_cast<size_t>(n);
  }
}

void SendError(uint64_t id, const std::string& message) {
  Send({mgmt::Verb::kErr, id, 0, message});
}

void StartCommand(uint64_t id, const std::string& command) {
  if (g_commands.count(id) != 0) return SendError(id, "duplicate command id");
  if (g_commands.size() >= kMaxCommands) return SendError(id, "too many commands running");
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return SendError(id, strerror(errno));
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return SendError(id, strerror(errno));
  }
  pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {out[0], out[1], err[0], err[1]}) close(fd);
    return SendError(id, strerror(errno));
  }
  if (pid == 0) {
    setsid();  // its own group, so KILL reaches everything it started
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    signal(SIGCHLD, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    const char* env[] = {"PATH=/sbin:/bin:/usr/sbin:/usr/bin", "HOME=/root", "TERM=dumb", nullptr};
    execle("/bin/sh", "sh", "-c", command.c_str(), nullptr, env);
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  Command c;
  c.pid = pid;
  c.out_fd = out[0];
  c.err_fd = err[0];
  g_commands[id] = c;
}

// The boot id names this incarnation of the node: random, made once per boot
// (/run is a tmpfs) and kept when init respawns the agent. Only root reads it:
// it is the secret that lets a lock-server session speak for this node.
std::string LoadBootId() {
  const char* path = "/run/ssi/boot_id";
  char text[33] = {};
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, text, 32);
    close(fd);
    if (n == 32) return std::string(text, 32);
  }
  unsigned char random[16];
  fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0 || read(fd, random, sizeof random) != sizeof random) {
    fprintf(stderr, "ssi-agent: cannot read /dev/urandom: %s\n", strerror(errno));
    exit(1);
  }
  close(fd);
  for (size_t i = 0; i < sizeof random; ++i) snprintf(text + 2 * i, 3, "%02x", random[i]);
  mkdir("/run/ssi", 0755);
  fd = open("/run/ssi/boot_id.new", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, text, 32) != 32 || close(fd) != 0 || rename("/run/ssi/boot_id.new", path) != 0) {
    fprintf(stderr, "ssi-agent: cannot write %s: %s\n", path, strerror(errno));
    exit(1);
  }
  return std::string(text, 32);
}

void HandleLine(const std::string& line) {
  mgmt::Frame frame;
  if (!mgmt::Parse(line, &frame).ok()) return;  // noise on the line
  switch (frame.verb) {
    case mgmt::Verb::kPing:
      Send({mgmt::Verb::kPong, frame.id, 0, g_boot_id});
      break;
    case mgmt::Verb::kExec:
      StartCommand(frame.id, frame.payload);
      break;
    case mgmt::Verb::kKill: {
      auto it = g_commands.find(frame.id);
      if (it != g_commands.end() && !it->second.exited) {
        kill(-it->second.pid, SIGTERM);
        it->second.kill_at_ms = NowMs() + kKillGraceMs;
      }
      break;
    }
    default:
      SendError(frame.id, "unexpected frame");
  }
}

// Forwards what a command wrote; false at EOF.
bool Forward(uint64_t id, int* fd, int stream) {
  char buf[mgmt::kOutChunk];
  ssize_t n = read(*fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) {
    close(*fd);
    *fd = -1;
    return false;
  }
  Send({mgmt::Verb::kOut, id, stream, std::string(buf, static_cast<size_t>(n))});
  return true;
}

void ReapChildren() {
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    for (auto& [id, c] : g_commands) {
      if (c.pid == pid) {
        c.exited = true;
        c.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
    }
  }
}

// A command is done once it exited and its output is drained.
void FinishCommands() {
  for (auto it = g_commands.begin(); it != g_commands.end();) {
    const Command& c = it->second;
    if (c.exited && c.out_fd < 0 && c.err_fd < 0) {
      Send({mgmt::Verb::kExit, it->first, c.status, {}});
      it = g_commands.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* device = argc > 1 ? argv[1] : "/dev/ttyS1";
  g_line = open(device, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (g_line < 0) {
    fprintf(stderr, "ssi-agent: cannot open %s: %s\n", device, strerror(errno));
    return 1;
  }
  struct termios tio;
  if (tcgetattr(g_line, &tio) == 0) {
    cfmakeraw(&tio);
    tcsetattr(g_line, TCSANOW, &tio);
  }
  if (pipe2(g_sigchld_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return 1;
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa = {};
  sa.sa_handler = OnSigchld;
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, nullptr);

  g_boot_id = LoadBootId();
  Send({mgmt::Verb::kHello, 0, mgmt::kProtocolVersion, g_boot_id});
  lock::StartMembership();
  mgmt::LineSplitter lines;
  for (;;) {
    std::vector<pollfd> fds = {{g_line, POLLIN, 0}, {g_sigchld_pipe[0], POLLIN, 0}};
    std::vector<std::pair<uint64_t, int*>> outputs;
    for (auto& [id, c] : g_commands) {
      for (int* fd : {&c.out_fd, &c.err_fd}) {
        if (*fd < 0) continue;
        fds.push_back({*fd, POLLIN, 0});
        outputs.emplace_back(id, fd);
      }
    }
    int timeout = -1;
    uint64_t now = NowMs();
    for (auto& [id, c] : g_commands) {
      if (c.kill_at_ms == 0 || c.exited) continue;
      if (c.kill_at_ms <= now) {
        kill(-c.pid, SIGKILL);
        c.kill_at_ms = 0;
      } else if (timeout < 0 || c.kill_at_ms - now < static_cast<uint64_t>(timeout)) {
        timeout = static_cast<int>(c.kill_at_ms - now);
      }
    }
    if (poll(fds.data(), fds.size(), timeout) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[4096];
      ssize_t n = read(g_line, buf, sizeof buf);
      if (n > 0) {
        lines.Feed(std::string_view(buf, static_cast<size_t>(n)));
        std::string line;
        while (lines.Next(&line)) HandleLine(line);
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        usleep(100000);  // a hung-up line; init respawns us if it stays so
      }
    }
    if (fds[1].revents & POLLIN) {
      char drain[64];
      while (read(g_sigchld_pipe[0], drain, sizeof drain) > 0) {
      }
      ReapChildren();
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      if (fds[2 + i].revents & (POLLIN | POLLHUP | POLLERR)) {
        auto [id, fd] = outputs[i];
        Forward(id, fd, fd == &g_commands[id].out_fd ? 1 : 2);
      }
    }
    FinishCommands();
  }
}
