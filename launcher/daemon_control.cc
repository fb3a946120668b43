#include "launcher/daemon_control.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <spdlog/spdlog.h>

#include "common/event_loop.h"
#include "common/mgmt_frame.h"
#include "common/unix_socket.h"

namespace ssiuml {

Status DaemonRequest(const std::string& daemon, const std::string& control, const nlohmann::json& request,
                     nlohmann::json* reply, int reply_timeout_ms) {
  // One deadline for the connect and the whole reply: a daemon that is
  // stopped, trickles bytes or sends no end of line must not hold ssid past it.
  uint64_t deadline = EventLoop::NowMs() + static_cast<uint64_t>(reply_timeout_ms);
  UniqueFd fd;
  Status s = ConnectEndpoint(control, &fd, reply_timeout_ms);
  if (s.IsTimedOut())
    return Status::TimedOut(daemon + " did not answer within " + std::to_string(reply_timeout_ms) + " ms");
  if (!s.ok()) return Status::IOError(daemon + " is not answering (" + s.message() + ")");
  nlohmann::json req = request;
  req["v"] = 1;
  s = WriteAllFd(fd.get(), req.dump() + "\n");
  if (!s.ok()) return s;
  mgmt::LineSplitter lines;
  std::string line;
  char buf[4096];
  while (!lines.Next(&line)) {
    uint64_t now = EventLoop::NowMs();
    struct pollfd pfd = {fd.get(), POLLIN, 0};
    int ready = now >= deadline ? 0 : ::poll(&pfd, 1, static_cast<int>(deadline - now));
    if (ready < 0 && errno == EINTR) continue;
    if (ready != 1)
      return Status::TimedOut(daemon + " did not answer within " + std::to_string(reply_timeout_ms) + " ms");
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) return Status::IOError(daemon + " closed its control connection");
    lines.Feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  nlohmann::json r = nlohmann::json::parse(line, nullptr, false);
  if (!r.is_object()) return Status::Corruption(daemon + " sent a malformed reply");
  if (!r.value("ok", false)) return Status::IOError(daemon + ": " + r.value("error", std::string("failed")));
  if (reply) *reply = std::move(r);
  return Status::OK();
}

Status DaemonStatusQuery::Ask(const std::string& control, const nlohmann::json& request, nlohmann::json* reply) {
  uint64_t now = EventLoop::NowMs();
  if (now < quiet_until_ms_) return Status::TimedOut(trouble_);
  Status s = DaemonRequest(daemon_, control, request, reply, timeout_ms_);
  if (s.IsTimedOut()) {
    quiet_until_ms_ = EventLoop::NowMs() + quiet_ms_;
    trouble_ = s.message() + " (stopped or stuck?)";
    spdlog::warn("{}; asked again in {} s", trouble_, quiet_ms_ / 1000);
    quiet_ms_ = std::min(quiet_ms_ * 2, max_quiet_ms_);
  } else {
    trouble_.clear();
    quiet_ms_ = first_quiet_ms_;
  }
  return s;
}

}  // namespace ssiuml
