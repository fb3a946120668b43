#include "launcher/mconsole.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "common/fd.h"
#include "common/unix_socket.h"

namespace ssiuml {
namespace {

constexpr uint32_t kMagic = 0xcafebabe;
constexpr uint32_t kVersion = 2;
constexpr size_t kMaxData = 512;

struct MconsoleRequest {
  uint32_t magic;
  uint32_t version;
  uint32_t len;
  char data[kMaxData];
};

}  // namespace

Status MconsoleSend(const std::string& socket_path, const std::string& command) {
  if (command.size() >= kMaxData) return Status::InvalidArgument("mconsole command too long");
  if (!FitsSunPath(socket_path)) return Status::InvalidArgument("mconsole path too long");
  UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock.valid()) return Status::FromErrno("socket", errno);
  // UML replies to the sender's address; an autobound abstract one will do.
  sockaddr_un self{};
  self.sun_family = AF_UNIX;
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&self), sizeof(sa_family_t)) != 0)
    return Status::FromErrno("bind", errno);
  MconsoleRequest req{};
  req.magic = kMagic;
  req.version = kVersion;
  req.len = static_cast<uint32_t>(command.size());
  std::memcpy(req.data, command.data(), command.size());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  if (::sendto(sock.get(), &req, sizeof req, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return Status::FromErrno("mconsole " + socket_path, errno);
  return Status::OK();
}

}  // namespace ssiuml
