// The classic VDE switch handshake (vde-2 datasock.c, libvdeplug_vde.c):
// a client connects to DIR/ctl and sends one packed request
//   u32 magic 0xfeedface; u32 version 3; u32 type; sockaddr_un sock; descr
// naming its datagram socket; the switch answers with the sockaddr_un of the
// port socket it made for it. Parsing is separate so the fuzzer can reach it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace ssiuml::vde {

constexpr uint32_t kMagic = 0xfeedface;
constexpr size_t kSunPathSize = 108;
constexpr size_t kSockaddrSize = 110;  // sizeof(struct sockaddr_un)
constexpr size_t kMinRequest = 12 + kSockaddrSize;
constexpr size_t kMaxRequest = 256;

struct Request {
  int port = 0;              // 0: any free port
  std::string client_path;   // the client's datagram socket
  std::string description;   // e.g. "UML vde_transport user=root pid=42"
};

Status ParseRequest(const uint8_t* data, size_t size, Request* request);

}  // namespace ssiuml::vde
