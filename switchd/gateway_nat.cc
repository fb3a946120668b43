#include "switchd/gateway_nat.h"

namespace ssiuml::vde {
namespace {

constexpr size_t kEth = 14;
constexpr int kTcp = 6;

uint32_t Get32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void Put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for a 32-bit field m -> m'.
void PatchChecksum(uint8_t* sum, uint32_t from, uint32_t to) {
  uint32_t acc = static_cast<uint16_t>(~Get16(sum));
  acc += static_cast<uint16_t>(~(from >> 16)) + static_cast<uint16_t>(~from);
  acc += (to >> 16) + (to & 0xffff);
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  Put16(sum, static_cast<uint16_t>(~acc));
}

// The IPv4 header of frame and its length, or nullptr.
uint8_t* Ipv4(uint8_t* frame, size_t len, size_t* ihl) {
  if (len < kEth + 20 || frame[12] != 0x08 || frame[13] != 0x00) return nullptr;
  uint8_t* ip = frame + kEth;
  *ihl = size_t(ip[0] & 0x0f) * 4;
  if ((ip[0] >> 4) != 4 || *ihl < 20 || len < kEth + *ihl) return nullptr;
  return ip;
}

// Replaces the address at offset in the IPv4 header, patching the IP and,
// for an unfragmented TCP segment, the TCP checksum.
void Replace(uint8_t* ip, size_t ihl, size_t len_after_ip, size_t offset, uint32_t to) {
  uint32_t from = Get32(ip + offset);
  Put32(ip + offset, to);
  PatchChecksum(ip + 10, from, to);
  bool first_fragment = (Get16(ip + 6) & 0x1fff) == 0;
  if (ip[9] == kTcp && first_fragment && len_after_ip >= ihl + 18) PatchChecksum(ip + ihl + 16, from, to);
}

}  // namespace

bool RewriteToHidden(uint8_t* frame, size_t len, const std::set<int>& ports) {
  size_t ihl;
  uint8_t* ip = Ipv4(frame, len, &ihl);
  if (ip == nullptr || ip[9] != kTcp || Get32(ip + 16) != kGatewayIp || len < kEth + ihl + 20) return false;
  if (ports.count(Get16(ip + ihl + 2)) == 0) return false;
  Replace(ip, ihl, len - kEth, 16, kHiddenIp);
  return true;
}

bool RewriteFromHidden(uint8_t* frame, size_t len) {
  size_t ihl;
  uint8_t* ip = Ipv4(frame, len, &ihl);
  if (ip == nullptr || Get32(ip + 12) != kHiddenIp) return false;
  Replace(ip, ihl, len - kEth, 12, kGatewayIp);
  return true;
}

}  // namespace ssiuml::vde
