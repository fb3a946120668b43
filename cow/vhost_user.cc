#include "cow/vhost_user.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ssiuml::vhost {
namespace {

uint32_t Le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint64_t Le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Reads exactly n bytes, collecting any descriptors that ride along.
Status ReadFully(int fd, uint8_t* buf, size_t n, std::vector<UniqueFd>* fds, bool* eof) {
  size_t done = 0;
  while (done < n) {
    struct iovec iov = {buf + done, n - done};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
    struct msghdr mh = {};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control;
    mh.msg_controllen = sizeof control;
    ssize_t r = ::recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("vhost-user read", errno);
    }
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int received;
        std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        fds->emplace_back(received);
      }
    }
    if (mh.msg_flags & MSG_CTRUNC) return Status::InvalidArgument("vhost-user: too many descriptors");
    if (r == 0) {
      *eof = done == 0;
      return Status::IOError("vhost-user: connection closed mid-message");
    }
    done += static_cast<size_t>(r);
  }
  return Status::OK();
}

// Payload size each request must carry; 0 for none, SIZE_MAX for variable.
size_t ExpectedPayload(uint32_t request) {
  switch (request) {
    case kGetFeatures:
    case kGetProtocolFeatures:
    case kGetQueueNum:
    case kSetOwner:
    case kResetOwner:
      return 0;
    case kSetFeatures:
    case kSetProtocolFeatures:
    case kSetVringKick:
    case kSetVringCall:
    case kSetVringErr:
      return 8;
    case kSetVringNum:
    case kSetVringBase:
    case kGetVringBase:
    case kSetVringEnable:
      return 8;
    case kSetVringAddr:
      return 40;
    default:
      return SIZE_MAX;  // SET_SLAVE_REQ_FD comes with 0 or 8 bytes, as senders differ
  }
}

}  // namespace

Status Decode(const uint8_t* header, const uint8_t* payload, size_t payload_size, Message* msg) {
  msg->request = Le32(header);
  msg->flags = Le32(header + 4);
  uint32_t size = Le32(header + 8);
  if ((msg->flags & 0x3) != kFlagVersion)
    return Status::InvalidArgument("vhost-user: unsupported protocol version");
  if (size != payload_size || size > kMaxPayload)
    return Status::InvalidArgument("vhost-user: bad payload size " + std::to_string(size));
  size_t expected = ExpectedPayload(msg->request);
  // UML pads SET_FEATURES-style payloads exactly; fixed sizes must match.
  if (expected != SIZE_MAX && size != expected)
    return Status::InvalidArgument(std::string("vhost-user: ") + RequestName(msg->request) +
                                   " with a payload of " + std::to_string(size) + " bytes");
  msg->payload.assign(payload, payload + payload_size);
  return Status::OK();
}

Status PayloadU64(const Message& msg, uint64_t* value) {
  if (msg.payload.size() < 8) return Status::InvalidArgument("vhost-user: short u64 payload");
  *value = Le64(msg.payload.data());
  return Status::OK();
}

Status PayloadVringState(const Message& msg, uint32_t* index, uint32_t* num) {
  if (msg.payload.size() < 8) return Status::InvalidArgument("vhost-user: short vring state");
  *index = Le32(msg.payload.data());
  *num = Le32(msg.payload.data() + 4);
  return Status::OK();
}

Status PayloadVringAddr(const Message& msg, VringAddr* addr) {
  if (msg.payload.size() < 40) return Status::InvalidArgument("vhost-user: short vring address");
  const uint8_t* p = msg.payload.data();
  addr->index = Le32(p);
  addr->flags = Le32(p + 4);
  addr->desc = Le64(p + 8);
  addr->used = Le64(p + 16);
  addr->avail = Le64(p + 24);
  addr->log = Le64(p + 32);
  return Status::OK();
}

Status PayloadMemTable(const Message& msg, std::vector<MemoryRegion>* regions) {
  if (msg.payload.size() < 8) return Status::InvalidArgument("vhost-user: short memory table");
  uint32_t count = Le32(msg.payload.data());
  if (count == 0 || count > kMaxRegions)
    return Status::InvalidArgument("vhost-user: " + std::to_string(count) + " memory regions");
  // UML always sends room for two regions; only the counted ones matter.
  if (msg.payload.size() < 8 + count * 32ull)
    return Status::InvalidArgument("vhost-user: memory table shorter than its regions");
  if (msg.fds.size() != count)
    return Status::InvalidArgument("vhost-user: memory table with " + std::to_string(count) +
                                   " regions but " + std::to_string(msg.fds.size()) + " descriptors");
  regions->clear();
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* r = msg.payload.data() + 8 + i * 32;
    MemoryRegion region{Le64(r), Le64(r + 8), Le64(r + 16), Le64(r + 24)};
    if (region.size == 0 || region.guest_addr + region.size < region.guest_addr ||
        region.user_addr + region.size < region.user_addr ||
        region.mmap_offset + region.size < region.mmap_offset)
      return Status::InvalidArgument("vhost-user: memory region out of range");
    regions->push_back(region);
  }
  return Status::OK();
}

Status PayloadConfig(const Message& msg, uint32_t* offset, uint32_t* size) {
  if (msg.payload.size() < 12) return Status::InvalidArgument("vhost-user: short config request");
  *offset = Le32(msg.payload.data());
  *size = Le32(msg.payload.data() + 4);
  if (*size > 256 || *offset > 256 || msg.payload.size() != 12 + static_cast<size_t>(*size))
    return Status::InvalidArgument("vhost-user: config request out of range");
  return Status::OK();
}

Status ReadMessage(int fd, Message* msg) {
  uint8_t header[kHeaderSize];
  std::vector<UniqueFd> fds;
  bool eof = false;
  Status s = ReadFully(fd, header, kHeaderSize, &fds, &eof);
  if (!s.ok()) return eof ? Status::NotFound("vhost-user: peer closed") : s;
  uint32_t size = Le32(header + 8);
  if (size > kMaxPayload) return Status::InvalidArgument("vhost-user: payload too large");
  std::vector<uint8_t> payload(size);
  if (size > 0) {
    s = ReadFully(fd, payload.data(), size, &fds, &eof);
    if (!s.ok()) return s;
  }
  s = Decode(header, payload.data(), size, msg);
  msg->fds = std::move(fds);
  return s;
}

Status WriteReply(int fd, uint32_t request, const std::vector<uint8_t>& payload) {
  uint32_t header[3] = {request, kFlagVersion | kFlagReply, static_cast<uint32_t>(payload.size())};
  std::vector<uint8_t> buf(reinterpret_cast<const uint8_t*>(header),
                           reinterpret_cast<const uint8_t*>(header) + kHeaderSize);
  buf.insert(buf.end(), payload.begin(), payload.end());
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::send(fd, buf.data() + done, buf.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("vhost-user write", errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::OK();
}

std::vector<uint8_t> U64Payload(uint64_t value) {
  std::vector<uint8_t> p(8);
  std::memcpy(p.data(), &value, 8);
  return p;
}

const char* RequestName(uint32_t request) {
  switch (request) {
    case kGetFeatures: return "GET_FEATURES";
    case kSetFeatures: return "SET_FEATURES";
    case kSetOwner: return "SET_OWNER";
    case kResetOwner: return "RESET_OWNER";
    case kSetMemTable: return "SET_MEM_TABLE";
    case kSetVringNum: return "SET_VRING_NUM";
    case kSetVringAddr: return "SET_VRING_ADDR";
    case kSetVringBase: return "SET_VRING_BASE";
    case kGetVringBase: return "GET_VRING_BASE";
    case kSetVringKick: return "SET_VRING_KICK";
    case kSetVringCall: return "SET_VRING_CALL";
    case kSetVringErr: return "SET_VRING_ERR";
    case kGetProtocolFeatures: return "GET_PROTOCOL_FEATURES";
    case kSetProtocolFeatures: return "SET_PROTOCOL_FEATURES";
    case kGetQueueNum: return "GET_QUEUE_NUM";
    case kSetVringEnable: return "SET_VRING_ENABLE";
    case kSetSlaveReqFd: return "SET_SLAVE_REQ_FD";
    case kGetConfig: return "GET_CONFIG";
    case kSetConfig: return "SET_CONFIG";
    default: return "unknown request";
  }
}

}  // namespace ssiuml::vhost
