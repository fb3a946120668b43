#include "switchd/command_uplink.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "common/unix_socket.h"

extern char** environ;

namespace ssiuml::vde {
namespace {

constexpr size_t kReadSize = 64 * 1024;
constexpr int kReadsPerEvent = 16;   // then back to the loop, so the command cannot hold the switch
constexpr int kReapChecks = 10;      // every 100 ms, then SIGKILL

}  // namespace

CommandUplink::~CommandUplink() {
  if (fd_.get() >= 0) loop_->Unwatch(fd_.get());
  if (detach_timer_ != 0) loop_->Cancel(detach_timer_);
  if (pid_ < 0) return;
  // The switch is exiting: wait for the command a second at most, then stop
  // what it started and left behind (a shell may exit before its ssh).
  ::kill(-pid_, SIGTERM);
  for (int i = 0; i < kReapChecks && ::waitpid(pid_, nullptr, WNOHANG) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

Status CommandUplink::Start(const std::string& command) {
  command_ = command;
  if (command.empty())
    return Status::InvalidArgument("uplink cmd:// needs a command, e.g. cmd://ssh HOST vde_plug /run/sw");
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    return Status::FromErrno("uplink cmd://" + command + ": socketpair", errno);
  fd_.Reset(pair[0]);
  UniqueFd theirs(pair[1]);
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, theirs.get(), STDIN_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, theirs.get(), STDOUT_FILENO);
  ::posix_spawnattr_init(&attr);
  // Its own process group, so stopping it stops whatever it started (ssh,
  // vde_plug); and none of the switch's blocked (signalfd) or ignored signals.
  sigset_t none, defaults;
  ::sigemptyset(&none);
  ::sigemptyset(&defaults);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) ::sigaddset(&defaults, sig);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  ::posix_spawnattr_setpgroup(&attr, 0);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawnattr_setsigdefault(&attr, &defaults);
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  int err = ::posix_spawn(&pid_, "/bin/sh", &actions, &attr, const_cast<char* const*>(argv), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  if (err != 0) {
    pid_ = -1;
    return Status::FromErrno("uplink cmd://" + command + ": cannot run /bin/sh", err);
  }
  ::fcntl(fd_.get(), F_SETFL, O_NONBLOCK);
  loop_->Watch(fd_.get(), EPOLLIN, [this](uint32_t events) { OnEvents(events); });
  fabric_->Attach(port_, "uplink cmd://" + command, [this](const iovec* frames, int n) { return Output(frames, n); });
  spdlog::info("uplink cmd://{} is port {} (pid {})", command, port_, pid_);
  return Status::OK();
}

void CommandUplink::OnEvents(uint32_t events) {
  if (events & EPOLLOUT) Drain();
  if (fd_.get() >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) Read();
}

void CommandUplink::Read() {
  char buffer[kReadSize];
  for (int i = 0; i < kReadsPerEvent; ++i) {
    ssize_t got = ::recv(fd_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (got <= 0) {
      End(got == 0 ? "the command closed its output (exited?)" : std::strerror(errno));
      return;
    }
    in_.append(buffer, static_cast<size_t>(got));
    size_t at = 0;
    while (in_.size() - at >= 2) {
      size_t len = (static_cast<uint8_t>(in_[at]) << 8) | static_cast<uint8_t>(in_[at + 1]);
      if (len > kMaxFrame) {
        fabric_->Flush();
        End("it sent a frame of " + std::to_string(len) + " bytes, more than " + std::to_string(kMaxFrame) +
            ": not VDE's stream format");
        return;
      }
      if (in_.size() - at - 2 < len) break;
      // Input may flush a full queue; a port that answered into this uplink
      // at once (none does today: the gateway defers) could end it, and in_.
      if (len > 0) fabric_->Input(port_, reinterpret_cast<const uint8_t*>(in_.data() + at + 2), len);
      if (fd_.get() < 0) return;
      at += 2 + len;
    }
    fabric_->Flush();  // before the frames' bytes go from in_
    if (fd_.get() < 0) return;
    in_.erase(0, at);
  }
}

int CommandUplink::Output(const iovec* frames, int n) {
  if (fd_.get() < 0) return 0;
  int taken = 0;
  for (; taken < n && pending_.size() < kMaxPending; ++taken) {
    size_t len = frames[taken].iov_len;
    char header[2] = {static_cast<char>(len >> 8), static_cast<char>(len & 0xff)};
    pending_.append(header, 2);
    pending_.append(static_cast<const char*>(frames[taken].iov_base), len);
  }
  Drain();
  return taken;
}

void CommandUplink::Drain() {
  Status sent = SendPending(fd_.get(), &pending_);
  if (!sent.ok()) {
    End(sent.message());
    return;
  }
  UpdateWatch();
}

void CommandUplink::UpdateWatch() {
  bool want_out = !pending_.empty();
  if (want_out == watching_out_ || fd_.get() < 0) return;
  watching_out_ = want_out;
  loop_->Modify(fd_.get(), EPOLLIN | (want_out ? EPOLLOUT : 0u));
}

void CommandUplink::End(const std::string& why) {
  if (fd_.get() < 0) return;
  spdlog::warn("uplink cmd://{} ended: {}; port {} is gone", command_, why, port_);
  loop_->Unwatch(fd_.get());
  fd_.Reset();
  in_.clear();
  pending_.clear();
  if (pid_ >= 0) ::kill(-pid_, SIGTERM);
  Reap(kReapChecks);
  // Not at once: End may run inside the fabric's call to this port's output.
  detach_timer_ = loop_->After(0, [this] {
    detach_timer_ = 0;
    fabric_->Detach(port_);
  });
}

void CommandUplink::Reap(int tries_left) {
  if (pid_ < 0) return;
  if (::waitpid(pid_, nullptr, WNOHANG) != 0) {  // reaped, or not ours to reap any more
    pid_ = -1;
    return;
  }
  if (tries_left == 0) ::kill(-pid_, SIGKILL);
  loop_->After(100, [this, tries_left] { Reap(tries_left > 0 ? tries_left - 1 : 0); });
}

}  // namespace ssiuml::vde
