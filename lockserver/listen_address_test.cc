#include "lockserver/listen_address.h"

#include <arpa/inet.h>

#include <catch2/catch.hpp>

using namespace ssiuml::lock;

namespace {
in_addr Ip(const char* text) {
  in_addr a{};
  REQUIRE(ParseIpv4(text, &a).ok());
  return a;
}
}  // namespace

TEST_CASE("listener addresses are IPv4:PORT") {
  sockaddr_in a;
  REQUIRE(ParseIpv4Port("0.0.0.0:7400", &a).ok());
  CHECK(a.sin_family == AF_INET);
  CHECK(ntohs(a.sin_port) == 7400);
  CHECK(a.sin_addr.s_addr == INADDR_ANY);
  REQUIRE(ParseIpv4Port("10.77.0.253:0", &a).ok());
  CHECK(a.sin_addr.s_addr == Ip("10.77.0.253").s_addr);
  for (const char* bad : {"", "7400", "0.0.0.0", "0.0.0.0:", "0.0.0.0:65536", "0.0.0.0:-1", "host:7400",
                          "10.77.0:7400", "[::1]:7400", "0.0.0.0:74x"})
    CHECK(ParseIpv4Port(bad, &a).IsInvalidArgument());
  in_addr ip;
  CHECK(ParseIpv4("10.77.0.254", &ip).ok());
  CHECK(ParseIpv4("10.77.0.256", &ip).message() == "'10.77.0.256' is not an IPv4 address");
  CHECK(!ParseIpv4("::1", &ip).ok());
}

TEST_CASE("a connection's origin: by listener, and on the lock node's listeners by peer") {
  in_addr gateway = Ip("10.77.0.254"), node = Ip("10.77.0.3");
  CHECK(ConnectionOrigin(Listener::kInet, gateway, gateway) == Origin::kTcp);
  CHECK(ConnectionOrigin(Listener::kInet, node, gateway) == Origin::kGateway);
  CHECK(ConnectionOrigin(Listener::kControlInet, gateway, gateway) == Origin::kControl);
  CHECK(!ConnectionOrigin(Listener::kControlInet, node, gateway).has_value());
  // The host's own listeners do not look at the peer.
  CHECK(ConnectionOrigin(Listener::kLoopbackTcp, node, gateway) == Origin::kTcp);
  CHECK(ConnectionOrigin(Listener::kGatewaySocket, gateway, gateway) == Origin::kGateway);
  CHECK(ConnectionOrigin(Listener::kControlSocket, node, gateway) == Origin::kControl);
}
