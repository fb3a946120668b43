#include "switchd/vde_request.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

namespace ssiuml::vde {

Status ParseRequest(const uint8_t* data, size_t size, Request* request) {
  if (size < kMinRequest || size > kMaxRequest)
    return Status::InvalidArgument("VDE request of " + std::to_string(size) + " bytes");
  uint32_t magic, version, type;
  std::memcpy(&magic, data, 4);
  std::memcpy(&version, data + 4, 4);
  std::memcpy(&type, data + 8, 4);
  if (magic != kMagic) return Status::InvalidArgument("VDE request with a wrong magic");
  if (version != 3 && version != 1) return Status::InvalidArgument("VDE request version " + std::to_string(version));
  // type: 0 new port, 1 management port 0, (N << 8) port N.
  if ((type & 0xff) != 0) return Status::InvalidArgument("VDE request type " + std::to_string(type & 0xff));
  request->port = static_cast<int>(type >> 8);
  uint16_t family;
  std::memcpy(&family, data + 12, 2);
  if (family != AF_UNIX) return Status::InvalidArgument("VDE client socket is not AF_UNIX");
  const char* path = reinterpret_cast<const char*>(data + 14);
  size_t len = strnlen(path, kSunPathSize);
  if (len == 0 || len == kSunPathSize) return Status::InvalidArgument("VDE client socket path empty or unterminated");
  request->client_path.assign(path, len);
  const char* descr = reinterpret_cast<const char*>(data + 12 + kSockaddrSize);
  size_t descr_len = size - 12 - kSockaddrSize;
  request->description.assign(descr, strnlen(descr, descr_len));
  for (char& c : request->description)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return Status::OK();
}

}  // namespace ssiuml::vde
