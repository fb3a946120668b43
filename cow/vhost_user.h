// The vhost-user wire protocol as UML's virtio_uml speaks it (reference:
// block-layer.md §3): a 12-byte header, a payload, and file descriptors as
// SCM_RIGHTS. Decoding is separate from the socket so the fuzzer can drive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/fd.h"
#include "common/status.h"

namespace ssiuml::vhost {

enum Request : uint32_t {
  kGetFeatures = 1,
  kSetFeatures = 2,
  kSetOwner = 3,
  kResetOwner = 4,
  kSetMemTable = 5,
  kSetVringNum = 8,
  kSetVringAddr = 9,
  kSetVringBase = 10,
  kGetVringBase = 11,
  kSetVringKick = 12,
  kSetVringCall = 13,
  kSetVringErr = 14,
  kGetProtocolFeatures = 15,
  kSetProtocolFeatures = 16,
  kGetQueueNum = 17,
  kSetVringEnable = 18,
  kSetSlaveReqFd = 21,
  kGetConfig = 24,
  kSetConfig = 25,
};

constexpr uint32_t kFlagVersion = 0x1;
constexpr uint32_t kFlagReply = 0x4;
constexpr uint32_t kFlagNeedReply = 0x8;
constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxPayload = 4096;
constexpr size_t kMaxFds = 8;
constexpr size_t kMaxRegions = 8;
// SET_VRING_KICK/CALL: the payload's bit 8 says no descriptor came along.
constexpr uint64_t kVringNoFd = 0x100;

constexpr int kFeatureProtocolFeatures = 30;
constexpr int kProtocolReplyAck = 3;
constexpr int kProtocolSlaveReq = 5;
constexpr int kProtocolConfig = 9;

struct MemoryRegion {
  uint64_t guest_addr = 0;
  uint64_t size = 0;
  uint64_t user_addr = 0;
  uint64_t mmap_offset = 0;
};

struct VringAddr {
  uint32_t index = 0;
  uint32_t flags = 0;
  uint64_t desc = 0, used = 0, avail = 0, log = 0;
};

struct Message {
  uint32_t request = 0;
  uint32_t flags = 0;
  std::vector<uint8_t> payload;
  std::vector<UniqueFd> fds;

  bool need_reply() const { return flags & kFlagNeedReply; }
};

// Checks the header and that the payload has the size the request needs.
Status Decode(const uint8_t* header, const uint8_t* payload, size_t payload_size, Message* msg);
// Payload accessors; each checks the size and ranges of what it reads.
Status PayloadU64(const Message& msg, uint64_t* value);
Status PayloadVringState(const Message& msg, uint32_t* index, uint32_t* num);
Status PayloadVringAddr(const Message& msg, VringAddr* addr);
Status PayloadMemTable(const Message& msg, std::vector<MemoryRegion>* regions);
// GET_CONFIG / SET_CONFIG: {u32 offset, u32 size, u32 flags, data[size]}.
Status PayloadConfig(const Message& msg, uint32_t* offset, uint32_t* size);

// Reads one message (blocking fd). NotFound at a clean end of stream.
Status ReadMessage(int fd, Message* msg);
// Writes a reply: the request's code, flags version|reply, the payload.
Status WriteReply(int fd, uint32_t request, const std::vector<uint8_t>& payload);
std::vector<uint8_t> U64Payload(uint64_t value);

const char* RequestName(uint32_t request);

}  // namespace ssiuml::vhost
