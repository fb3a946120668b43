#include "launcher/daemon_control.h"

#include <poll.h>
#include <unistd.h>

#include "common/mgmt_frame.h"
#include "common/unix_socket.h"

namespace ssiuml {

Status DaemonRequest(const std::string& daemon, const std::string& control, const nlohmann::json& request,
                     nlohmann::json* reply, int reply_timeout_ms) {
  UniqueFd fd;
  Status s = ConnectEndpoint(control, &fd);
  if (!s.ok()) return Status::IOError(daemon + " is not answering (" + s.message() + ")");
  nlohmann::json req = request;
  req["v"] = 1;
  s = WriteAllFd(fd.get(), req.dump() + "\n");
  if (!s.ok()) return s;
  mgmt::LineSplitter lines;
  std::string line;
  char buf[4096];
  while (!lines.Next(&line)) {
    struct pollfd pfd = {fd.get(), POLLIN, 0};
    if (::poll(&pfd, 1, reply_timeout_ms) != 1) return Status::TimedOut(daemon + " did not answer");
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

}  // namespace ssiuml
