#include "launcher/lock_link.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "common/unix_socket.h"

namespace ssiuml {

LockLink::~LockLink() {
  *alive_ = false;
  if (fd_.valid()) loop_->Unwatch(fd_.get());
}

Status LockLink::Connect() {
  Status s = ConnectEndpoint(control_, &fd_);
  if (s.ok()) s = SetNonBlocking(fd_.get());
  if (!s.ok()) return Status::IOError("lock server is not answering (" + s.message() + ")");
  loop_->Watch(fd_.get(), EPOLLIN, [this](uint32_t events) { OnEvents(events); });
  Send({{"cmd", "fencer"}});
  return Status::OK();
}

void LockLink::Send(const nlohmann::json& message) {
  if (!fd_.valid()) return;
  nlohmann::json m = message;
  m["v"] = 1;
  outbuf_ += m.dump() + "\n";
  Flush();
}

void LockLink::Flush() {
  while (!outbuf_.empty()) {
    ssize_t n = ::write(fd_.get(), outbuf_.data(), outbuf_.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    if (n < 0) return Close();
    outbuf_.erase(0, static_cast<size_t>(n));
  }
  loop_->Modify(fd_.get(), outbuf_.empty() ? EPOLLIN : EPOLLIN | EPOLLOUT);
}

void LockLink::OnEvents(uint32_t events) {
  if (events & EPOLLOUT) Flush();
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  if (!lines_.FeedFrom(fd_.get())) return Close();
  std::string line;
  while (fd_.valid() && lines_.Next(&line)) HandleLine(line);
}

void LockLink::HandleLine(const std::string& line) {
  nlohmann::json m = nlohmann::json::parse(line, nullptr, false);
  if (!m.is_object()) {
    spdlog::warn("lock server sent a malformed control line ({} bytes)", line.size());
    return;
  }
  if (m.contains("error")) spdlog::warn("lock server: {}", m.value("error", std::string()));
  if (!m.contains("fence")) return;
  int node = m.value("fence", 0);
  nlohmann::json id = m.value("id", nlohmann::json());
  std::weak_ptr<bool> alive = alive_;
  spdlog::info("lock server asks to fence node {}", node);
  fence_(node, m.value("boot", std::string()), [this, alive, node, id] {
    auto a = alive.lock();
    if (a && *a) Send({{"fenced", node}, {"id", id}, {"ok", true}});
  });
}

void LockLink::Close() {
  if (!fd_.valid()) return;
  loop_->Unwatch(fd_.get());
  fd_.Reset();
  outbuf_.clear();
  on_lost_();
}

}  // namespace ssiuml
