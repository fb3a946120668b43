#include "launcher/console_log.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "common/unix_socket.h"

namespace ssiuml {
namespace {

constexpr int kReadsPerEvent = 16;  // of 16 KiB

}  // namespace

ConsoleLog::ConsoleLog(EventLoop* loop, UniqueFd master, UniqueFd log_file, DataCallback on_data)
    : loop_(loop), master_(std::move(master)), log_file_(std::move(log_file)),
      on_data_(std::move(on_data)) {
  loop_->Watch(master_.get(), EPOLLIN, [this](uint32_t) { Drain(); });
}

ConsoleLog::~ConsoleLog() { Close(); }

void ConsoleLog::Close() {
  if (closed_) return;
  closed_ = true;
  loop_->Unwatch(master_.get());
}

void ConsoleLog::Drain() {
  if (closed_) return;
  char buf[16384];
  // A few reads a wake-up: a node that floods its console is served in turns
  // with the rest of the cluster (the loop calls back while data is left).
  for (int round = 0; round < kReadsPerEvent; ++round) {
    ssize_t n = ::read(master_.get(), buf, sizeof buf);
    if (n > 0) {
      std::string_view chunk(buf, static_cast<size_t>(n));
      Status s = WriteAllFd(log_file_.get(), std::string(chunk));
      if (!s.ok()) spdlog::warn("console log: {}", s.ToString());
      on_data_(chunk);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || errno != EAGAIN) Close();  // EIO: the node closed con0
    return;
  }
}

void ConsoleLog::Write(std::string_view data) {
  if (closed_) return;
  while (!data.empty()) {
    ssize_t n = ::write(master_.get(), data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace ssiuml
