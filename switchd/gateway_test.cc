#include "switchd/gateway.h"

#include <catch2/catch.hpp>
#include <string>

using namespace ssiuml::vde;

TEST_CASE("ParseUnixForward takes PORT=unix:PATH and refuses anything else") {
  UnixForward f;
  REQUIRE(ParseUnixForward("7400=unix:/run/ssiuml/c/lock/gw.sock", &f).ok());
  CHECK(f.guest_port == 7400);
  CHECK(f.socket == "/run/ssiuml/c/lock/gw.sock");
  REQUIRE(ParseUnixForward("1=unix:rel=unix:x", &f).ok());  // the first "=unix:" splits
  CHECK(f.socket == "rel=unix:x");
  for (const char* bad : {"", "7400", "7400=/x", "7400=tcp:/x", "=unix:/x", "0=unix:/x", "65536=unix:/x",
                          "-1=unix:/x", " 7400=unix:/x", "74a=unix:/x", "7400=unix:"})
    CHECK_FALSE(ParseUnixForward(bad, &f).ok());
  CHECK(ParseUnixForward("7400=unix:/" + std::string(106, 'a'), &f).ok());
  CHECK_FALSE(ParseUnixForward("7400=unix:/" + std::string(107, 'a'), &f).ok());  // over sun_path
}
