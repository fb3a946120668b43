#include "switchd/gateway_nat.h"

#include <catch2/catch.hpp>
#include <vector>

using namespace ssiuml::vde;

namespace {

uint16_t Sum(const uint8_t* p, size_t len, uint32_t acc = 0) {
  for (size_t i = 0; i + 1 < len; i += 2) acc += uint32_t(p[i]) << 8 | p[i + 1];
  if (len & 1) acc += uint32_t(p[len - 1]) << 8;
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

// A node's TCP segment (20-byte header, 4 bytes of data) with valid checksums.
std::vector<uint8_t> Segment(uint32_t src, uint32_t dst, uint16_t dport) {
  std::vector<uint8_t> f(14 + 20 + 24, 0);
  f[12] = 0x08;
  uint8_t* ip = &f[14];
  ip[0] = 0x45, ip[3] = 44, ip[8] = 64, ip[9] = 6;
  for (int i = 0; i < 4; ++i) ip[12 + i] = uint8_t(src >> (24 - 8 * i)), ip[16 + i] = uint8_t(dst >> (24 - 8 * i));
  uint8_t* tcp = ip + 20;
  tcp[0] = 0x9c, tcp[1] = 0x40, tcp[2] = uint8_t(dport >> 8), tcp[3] = uint8_t(dport), tcp[12] = 0x50;
  tcp[20] = 'p', tcp[21] = 'i', tcp[22] = 'n', tcp[23] = 'g';
  uint16_t c = static_cast<uint16_t>(~Sum(ip, 20));
  ip[10] = uint8_t(c >> 8), ip[11] = uint8_t(c);
  uint32_t pseudo = Sum(ip + 12, 8) + 6 + 24;
  c = static_cast<uint16_t>(~Sum(tcp, 24, pseudo));
  tcp[16] = uint8_t(c >> 8), tcp[17] = uint8_t(c);
  return f;
}

bool ChecksumsValid(const std::vector<uint8_t>& f) {
  const uint8_t* ip = &f[14];
  uint32_t pseudo = Sum(ip + 12, 8) + 6 + 24;
  return Sum(ip, 20) == 0xffff && Sum(ip + 20, 24, pseudo) == 0xffff;
}

}  // namespace

TEST_CASE("TCP to a forwarded port of the gateway goes to the hidden address and back") {
  auto f = Segment(0x0a4d0005, kGatewayIp, 7400);
  REQUIRE(ChecksumsValid(f));
  CHECK(RewriteToHidden(f.data(), f.size(), {7400}));
  CHECK(f[14 + 16] == 10);
  CHECK(f[14 + 18] == 1);  // 10.77.1.254
  CHECK(ChecksumsValid(f));

  auto reply = Segment(kHiddenIp, 0x0a4d0005, 40000);
  CHECK(RewriteFromHidden(reply.data(), reply.size()));
  CHECK(reply[14 + 14] == 0);  // from 10.77.0.254
  CHECK(ChecksumsValid(reply));
}

TEST_CASE("other traffic passes untouched") {
  auto other_port = Segment(0x0a4d0005, kGatewayIp, 22);
  auto other_host = Segment(0x0a4d0005, 0x0a4d0006, 7400);
  auto before = other_port;
  CHECK_FALSE(RewriteToHidden(other_port.data(), other_port.size(), {7400}));
  CHECK(other_port == before);
  CHECK_FALSE(RewriteToHidden(other_host.data(), other_host.size(), {7400}));
  CHECK_FALSE(RewriteFromHidden(other_host.data(), other_host.size()));
  std::vector<uint8_t> runt(20, 0);
  runt[12] = 0x08;
  CHECK_FALSE(RewriteToHidden(runt.data(), runt.size(), {7400}));
  CHECK_FALSE(RewriteFromHidden(runt.data(), runt.size()));
}
