#include "switchd/vde_request.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

using namespace ssiuml::vde;

namespace {

std::vector<uint8_t> Encode(uint32_t magic, uint32_t version, uint32_t type, const std::string& path,
                             const std::string& descr) {
  std::vector<uint8_t> r(12 + kSockaddrSize, 0);
  std::memcpy(r.data(), &magic, 4);
  std::memcpy(r.data() + 4, &version, 4);
  std::memcpy(r.data() + 8, &type, 4);
  uint16_t family = AF_UNIX;
  std::memcpy(r.data() + 12, &family, 2);
  std::memcpy(r.data() + 14, path.data(), path.size());
  for (char c : descr) r.push_back(static_cast<uint8_t>(c));
  return r;
}

}  // namespace

TEST_CASE("the requests UML and vde_plug send parse") {
  auto r = Encode(kMagic, 3, 0, "/run/sw/.00042-00000", "UML vde_transport user=root pid=42");
  ssiuml::vde::Request req;
  REQUIRE(ParseRequest(r.data(), r.size(), &req).ok());
  CHECK(req.port == 0);
  CHECK(req.client_path == "/run/sw/.00042-00000");
  CHECK(req.description == "UML vde_transport user=root pid=42");
  auto numbered = Encode(kMagic, 3, 7 << 8, "/x", "");
  REQUIRE(ParseRequest(numbered.data(), numbered.size(), &req).ok());
  CHECK(req.port == 7);
}

TEST_CASE("malformed requests are refused") {
  ssiuml::vde::Request req;
  auto bad_magic = Encode(0xdeadbeef, 3, 0, "/x", "");
  CHECK_FALSE(ParseRequest(bad_magic.data(), bad_magic.size(), &req).ok());
  auto bad_version = Encode(kMagic, 2, 0, "/x", "");
  CHECK_FALSE(ParseRequest(bad_version.data(), bad_version.size(), &req).ok());
  auto management = Encode(kMagic, 3, 1, "/x", "");
  CHECK_FALSE(ParseRequest(management.data(), management.size(), &req).ok());
  auto no_path = Encode(kMagic, 3, 0, "", "");
  CHECK_FALSE(ParseRequest(no_path.data(), no_path.size(), &req).ok());
  auto short_one = Encode(kMagic, 3, 0, "/x", "");
  CHECK_FALSE(ParseRequest(short_one.data(), 40, &req).ok());
  std::vector<uint8_t> huge(400, 0);
  CHECK_FALSE(ParseRequest(huge.data(), huge.size(), &req).ok());
  auto unterminated = Encode(kMagic, 3, 0, std::string(108, 'a'), "");
  CHECK_FALSE(ParseRequest(unterminated.data(), unterminated.size(), &req).ok());
  auto control_chars = Encode(kMagic, 3, 0, "/x", "evil\x1b[2J");
  REQUIRE(ParseRequest(control_chars.data(), control_chars.size(), &req).ok());
  CHECK(req.description == "evil?[2J");
}
