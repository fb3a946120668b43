#include "launcher/console_log.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/env.h"
#include "common/unix_socket.h"

namespace ssiuml {
namespace {

constexpr int kReadsPerEvent = 16;  // of 16 KiB

}  // namespace

ConsoleLog::ConsoleLog(EventLoop* loop, UniqueFd master, std::string log_path, UniqueFd log_file,
                       DataCallback on_data, uint64_t max_log_bytes)
    : loop_(loop), master_(std::move(master)), log_path_(std::move(log_path)),
      log_file_(std::move(log_file)), max_log_bytes_(max_log_bytes), on_data_(std::move(on_data)) {
  struct stat st;
  if (::fstat(log_file_.get(), &st) == 0) log_bytes_ = static_cast<uint64_t>(st.st_size);
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
      AppendToLog(chunk);
      on_data_(chunk);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || errno != EAGAIN) Close();  // EIO: the node closed con0
    return;
  }
}

void ConsoleLog::AppendToLog(std::string_view chunk) {
  if (!log_file_.valid()) return;
  if (log_bytes_ > 0 && log_bytes_ + chunk.size() > max_log_bytes_ && !RotateLog()) return;
  Status s = WriteAllFd(log_file_.get(), std::string(chunk));
  // Once a streak, not each chunk: a full disk must not fill ssid's log too.
  if (!s.ok() && !write_failing_) spdlog::warn("console log {}: {}", log_path_, s.ToString());
  write_failing_ = !s.ok();
  if (s.ok()) log_bytes_ += chunk.size();
}

bool ConsoleLog::RotateLog() {
  // Copied aside and emptied in place rather than renamed: UML's own stdout
  // (its messages before con0 exists, host-side errors) is this same open
  // file, and must go on landing in the current log.
  std::string previous = log_path_ + ".1";
  std::string partial = previous + ".part";
  Status s = CopyLog(partial);
  if (s.ok()) s = Env::Default()->RenameFile(partial, previous);
  if (s.ok() && ::ftruncate(log_file_.get(), 0) != 0) s = Status::FromErrno("truncate " + log_path_, errno);
  if (!s.ok()) {
    spdlog::warn("console log {} is full and cannot move to {} ({}); the rest of this boot's "
                 "console is not logged",
                 log_path_, previous, s.ToString());
    ::unlink(partial.c_str());
    log_file_.Reset();
    return false;
  }
  log_bytes_ = 0;
  return true;
}

Status ConsoleLog::CopyLog(const std::string& to) {
  UniqueFd in(::open(log_path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return Status::FromErrno("open " + log_path_, errno);
  UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!out.valid()) return Status::FromErrno("open " + to, errno);
  for (;;) {
    ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, 1 << 20, 0);
    if (n == 0) return Status::OK();
    if (n < 0 && errno != EINTR) return Status::FromErrno("copy to " + to, errno);
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
