#include "launcher/console_session.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

#include "common/unix_socket.h"
#include "launcher/control_protocol.h"

namespace ssiuml {

Status ConsoleSession::Open(const ClusterPaths& paths, const std::vector<int>& nodes, bool events) {
  Status s = ConnectUnix(paths.SupervisorSocket(), &fd_);
  if (!s.ok())
    return Status::NotFound("cluster " + paths.name + " is not running (ssi-start starts it)");
  Request attach;
  attach.cmd = Command::kAttach;
  attach.nodes = nodes;
  attach.events = events;
  s = SendLine(EncodeRequest(attach));
  if (s.ok()) s = SetNonBlocking(fd_.get());
  return s;
}

Status ConsoleSession::SendLine(const nlohmann::json& request) {
  // Requests are small and ssid always reads, so waiting for room is brief.
  std::string line = ToLine(request);
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_.get(), line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd pfd = {fd_.get(), POLLOUT, 0};
        ::poll(&pfd, 1, 1000);
        continue;
      }
      return Status::FromErrno("ssid session", errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

Status ConsoleSession::Follow(const std::vector<int>& nodes) {
  Request r;
  r.cmd = Command::kFollow;
  r.nodes = nodes;
  return SendLine(EncodeRequest(r));
}

Status ConsoleSession::Input(int node, const std::string& bytes) {
  Request r;
  r.cmd = Command::kInput;
  r.node = node;
  r.data = bytes;
  return SendLine(EncodeRequest(r));
}

Status ConsoleSession::RequestStatus() {
  Request r;
  r.cmd = Command::kStatus;
  return SendLine(EncodeRequest(r));
}

bool ConsoleSession::Read(std::vector<nlohmann::json>* messages) {
  bool open = lines_.FeedFrom(fd_.get());
  std::string line;
  while (lines_.Next(&line)) {
    nlohmann::json m = nlohmann::json::parse(line, nullptr, false);
    if (m.is_object()) messages->push_back(std::move(m));
  }
  return open;
}

}  // namespace ssiuml
