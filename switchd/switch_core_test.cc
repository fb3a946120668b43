#include "switchd/switch_core.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <vector>

using namespace ssiuml::vde;

namespace {

std::vector<uint8_t> Frame(int dst_node, int src_node, size_t len = 60) {
  std::vector<uint8_t> f(std::max<size_t>(len, 12), 0);
  uint8_t node_mac[6] = {0x02, 0x55, 0x4d, 0, 0, 0};
  if (dst_node < 0) {
    std::fill(f.begin(), f.begin() + 6, 0xff);
  } else {
    std::copy(node_mac, node_mac + 6, f.begin());
    f[5] = static_cast<uint8_t>(dst_node);
  }
  std::copy(node_mac, node_mac + 6, f.begin() + 6);
  f[11] = static_cast<uint8_t>(src_node);
  f.resize(len);  // a runt keeps only the start of the header
  return f;
}

std::vector<Egress> Route(SwitchCore& sw, int ingress, const uint8_t* frame, size_t len, uint64_t now, double random) {
  std::vector<Egress> out;
  sw.Route(ingress, frame, len, now, random, &out);
  return out;
}

std::vector<int> Ports(const std::vector<Egress>& out) {
  std::vector<int> ports;
  for (const auto& e : out) ports.push_back(e.port);
  return ports;
}

// Three nodes on ports 1-3, each having sent one broadcast.
SwitchCore ThreeNodes() {
  SwitchCore sw(false);
  for (int p = 1; p <= 3; ++p) sw.AddPort(p);
  for (int n = 1; n <= 3; ++n) {
    auto f = Frame(-1, n);
    Route(sw, n, f.data(), f.size(), 0, 0.5);
  }
  return sw;
}

}  // namespace

TEST_CASE("learning, flooding and unicast") {
  SwitchCore sw(false);
  for (int p = 1; p <= 3; ++p) sw.AddPort(p);
  auto unknown = Frame(2, 1);
  CHECK(Ports(Route(sw, 1, unknown.data(), unknown.size(), 0, 0.5)) == std::vector<int>{2, 3});  // flood
  auto reply = Frame(1, 2);
  CHECK(Ports(Route(sw, 2, reply.data(), reply.size(), 1, 0.5)) == std::vector<int>{1});  // learned
  CHECK(Ports(Route(sw, 1, unknown.data(), unknown.size(), 2, 0.5)) == std::vector<int>{2});
  CHECK(sw.NodeOfPort(1) == 1);
  CHECK(sw.NodeOfPort(2) == 2);
  // Entries expire.
  CHECK(Ports(Route(sw, 1, unknown.data(), unknown.size(), kMacExpiryMs + 10, 0.5)).size() == 2);
  // A MAC seen on its own port goes nowhere.
  CHECK(Route(sw, 2, reply.data(), reply.size(), kMacExpiryMs + 11, 0.5).empty() == false);
  sw.RemovePort(2);
  CHECK(Ports(Route(sw, 1, unknown.data(), unknown.size(), kMacExpiryMs + 12, 0.5)) == std::vector<int>{3});
}

TEST_CASE("hub mode floods everything") {
  SwitchCore hub(true);
  for (int p = 1; p <= 3; ++p) hub.AddPort(p);
  auto f = Frame(2, 1);
  Route(hub, 2, Frame(1, 2).data(), 60, 0, 0.5);
  CHECK(Ports(Route(hub, 1, f.data(), f.size(), 1, 0.5)) == std::vector<int>{2, 3});
}

TEST_CASE("bad frames are dropped and counted") {
  SwitchCore sw(false);
  sw.AddPort(1);
  sw.AddPort(2);
  auto runt = Frame(2, 1, 10);
  auto jumbo = Frame(2, 1, kMaxFrame + 1);
  CHECK(Route(sw, 1, runt.data(), runt.size(), 0, 0.5).empty());
  CHECK(Route(sw, 1, jumbo.data(), jumbo.size(), 0, 0.5).empty());
  CHECK(sw.counters(1).drops[static_cast<size_t>(Drop::kRunt)] == 1);
  CHECK(sw.counters(1).drops[static_cast<size_t>(Drop::kOversize)] == 1);
}

TEST_CASE("partitions cut between groups; unnamed nodes form one group; heal restores") {
  SwitchCore sw = ThreeNodes();
  sw.Partition({{1, 2}});
  auto b = Frame(-1, 1);
  CHECK(Ports(Route(sw, 1, b.data(), b.size(), 10, 0.5)) == std::vector<int>{2});
  auto to3 = Frame(3, 1);
  CHECK(Route(sw, 1, to3.data(), to3.size(), 10, 0.5).empty());
  CHECK(sw.counters(3).drops[static_cast<size_t>(Drop::kPartition)] == 2);
  sw.Partition({{3}});  // isolate 3
  auto to2 = Frame(2, 1);
  CHECK(Ports(Route(sw, 1, to2.data(), to2.size(), 10, 0.5)) == std::vector<int>{2});
  CHECK(Route(sw, 1, to3.data(), to3.size(), 10, 0.5).empty());
  sw.Heal();
  CHECK(Ports(Route(sw, 1, to3.data(), to3.size(), 10, 0.5)) == std::vector<int>{3});
}

TEST_CASE("the gateway stays with the largest group of a partition") {
  SwitchCore sw = ThreeNodes();
  const int gw = 1000;
  sw.AddPort(gw);
  sw.SetGatewayPort(gw);
  std::vector<uint8_t> from_gw = Frame(-1, 0);
  from_gw[6] = 0x52;  // slirp's MAC, not a node's
  auto reach = [&](int node) {
    auto to_gw = Frame(-1, node);
    auto ports = Ports(Route(sw, node, to_gw.data(), to_gw.size(), 10, 0.5));
    return std::count(ports.begin(), ports.end(), gw) == 1;
  };
  sw.Partition({{3}});  // isolate 3: the gateway stays with 1 and 2
  CHECK(reach(1));
  CHECK(reach(2));
  CHECK_FALSE(reach(3));
  CHECK(Ports(Route(sw, gw, from_gw.data(), from_gw.size(), 10, 0.5)) == std::vector<int>{1, 2});
  sw.Partition({{1}, {2, 3}});
  CHECK_FALSE(reach(1));
  CHECK(reach(3));
  sw.Heal();
  CHECK(reach(3));
  CHECK(Ports(Route(sw, gw, from_gw.data(), from_gw.size(), 10, 0.5)) == std::vector<int>{1, 2, 3});
  sw.RemovePort(3);  // two nodes left: isolating one still leaves it alone
  sw.Isolate(2);
  CHECK(reach(1));
  CHECK_FALSE(reach(2));
}

TEST_CASE("a bound port is its node: faults follow the port, and frames claiming another's address are dropped") {
  SwitchCore sw(false);
  for (int p = 1; p <= 3; ++p) sw.AddPort(p, p);  // as ssid's nodes, ports bound by their description
  const int gw = 1000;
  sw.AddPort(gw);
  sw.SetGatewayPort(gw);
  CHECK(sw.NodeOfPort(3) == 3);  // known before any frame
  std::vector<uint8_t> from_gw = Frame(-1, 0);
  from_gw[6] = 0x52;  // slirp's MAC, not a node's
  CHECK(Ports(Route(sw, gw, from_gw.data(), from_gw.size(), 0, 0.5)) == std::vector<int>{1, 2, 3});
  for (int n = 1; n <= 3; ++n) {
    auto hello = Frame(-1, n);
    Route(sw, n, hello.data(), hello.size(), 0, 0.5);
  }
  auto spoofed = [&](int port) { return sw.counters(port).drops[static_cast<size_t>(Drop::kSpoof)]; };
  auto as1 = Frame(2, 1);  // node 3 writes node 1's MAC
  CHECK(Route(sw, 3, as1.data(), as1.size(), 1, 0.5).empty());
  auto as_gw = from_gw;  // and then the gateway's
  CHECK(Route(sw, 3, as_gw.data(), as_gw.size(), 1, 0.5).empty());
  CHECK(spoofed(3) == 2);
  CHECK(sw.counters(3).rx_frames == 1);  // only its own hello
  auto to1 = Frame(1, 2);
  CHECK(Ports(Route(sw, 2, to1.data(), to1.size(), 2, 0.5)) == std::vector<int>{1});  // node 1's MAC stayed on port 1

  // A MAC that is nobody's passes, and counts as the port's node: a partition
  // cuts it off too.
  std::vector<uint8_t> stranger = Frame(-1, 0);
  stranger[6] = 0x0a;
  sw.Partition({{1, 2}, {3}});
  CHECK(Route(sw, 3, stranger.data(), stranger.size(), 3, 0.5).empty());
  CHECK(sw.counters(1).drops[static_cast<size_t>(Drop::kPartition)] == 1);
  // And frames to a bound port are cut by its node, whatever MAC they are sent to.
  std::vector<uint8_t> to_stranger = Frame(0, 1);
  to_stranger[0] = 0x0a;
  to_stranger[5] = 0;
  CHECK(Route(sw, 1, to_stranger.data(), to_stranger.size(), 3, 0.5).empty());  // learned on port 3
  sw.Heal();
  CHECK(Ports(Route(sw, 1, to_stranger.data(), to_stranger.size(), 3, 0.5)) == std::vector<int>{3});
  CHECK(spoofed(3) == 2);

  // A MAC that is no node's may move from node to node, as a VRRP virtual MAC fails over.
  std::vector<uint8_t> vrrp = Frame(-1, 0);
  vrrp[6] = 0x00, vrrp[7] = 0x00, vrrp[8] = 0x5e, vrrp[9] = 0x00, vrrp[10] = 0x01, vrrp[11] = 0x07;
  CHECK_FALSE(Route(sw, 3, vrrp.data(), vrrp.size(), 3, 0.5).empty());
  CHECK_FALSE(Route(sw, 2, vrrp.data(), vrrp.size(), 3, 0.5).empty());
  std::vector<uint8_t> to_vrrp = Frame(0, 1);
  std::copy(vrrp.begin() + 6, vrrp.begin() + 12, to_vrrp.begin());
  CHECK(Ports(Route(sw, 1, to_vrrp.data(), to_vrrp.size(), 3, 0.5)) == std::vector<int>{2});
  CHECK(spoofed(2) == 0);

  // An unbound port (a host tool, a cascade) may carry any node's frames.
  sw.AddPort(4);
  auto as2 = Frame(-1, 2);
  CHECK_FALSE(Route(sw, 4, as2.data(), as2.size(), 4, 0.5).empty());
  CHECK(spoofed(4) == 0);
  // A bound port that goes forgets its MACs: node 3 may come back on another port.
  sw.RemovePort(3);
  sw.AddPort(5, 3);
  auto back = Frame(-1, 3);
  CHECK(Ports(Route(sw, 5, back.data(), back.size(), 5, 0.5)) == std::vector<int>{1, 2, 4, gw});
  CHECK(spoofed(5) == 0);
}

TEST_CASE("a port description that names no node leaves the port unbound") {
  SwitchCore sw(false);
  sw.AddPort(1, 0);
  sw.AddPort(2, 256);  // out of range: as if none
  auto f = Frame(-1, 7);
  Route(sw, 2, f.data(), f.size(), 0, 0.5);
  CHECK(sw.NodeOfPort(2) == 7);  // learned from its frames, as before
  CHECK(sw.NodeOfPort(1) == 0);
}

TEST_CASE("loss, delay and a node's link down") {
  SwitchCore sw = ThreeNodes();
  auto to2 = Frame(2, 1);
  sw.SetLoss(2, 0.2);
  CHECK(Route(sw, 1, to2.data(), to2.size(), 10, 0.1).empty());  // below the loss rate: dropped
  CHECK(Route(sw, 1, to2.data(), to2.size(), 10, 0.5).size() == 1);
  sw.SetDelay(2, 50, 10);
  auto out = Route(sw, 1, to2.data(), to2.size(), 10, 0.5);
  REQUIRE(out.size() == 1);
  CHECK(out[0].delay_ms == 55);
  sw.SetDown(2, true);
  CHECK(Route(sw, 1, to2.data(), to2.size(), 10, 0.9).empty());
  sw.SetDown(2, false);
  CHECK(Route(sw, 1, to2.data(), to2.size(), 10, 0.9).size() == 1);
}

namespace {

// Nodes 1..k on ports 1..k, the gateway on port 1000; each node has sent one
// broadcast.
SwitchCore NodesAndGateway(int k) {
  SwitchCore sw(false);
  for (int p = 1; p <= k; ++p) sw.AddPort(p);
  sw.AddPort(1000);
  sw.SetGatewayPort(1000);
  for (int n = 1; n <= k; ++n) {
    auto f = Frame(-1, n);
    Route(sw, n, f.data(), f.size(), 0, 0.5);
  }
  return sw;
}

// The nodes (and the gateway, as 1000) a broadcast from node reaches.
std::set<int> Reach(SwitchCore& sw, int node) {
  auto b = Frame(-1, node);
  auto ports = Ports(Route(sw, node, b.data(), b.size(), 10, 0.5));
  return {ports.begin(), ports.end()};
}

}  // namespace

TEST_CASE("a majorities ring of 3, 4 and 5 nodes keeps the gateway with all, and heal restores") {
  for (int k = 3; k <= 5; ++k) {
    INFO(k << " nodes");
    SwitchCore sw = NodesAndGateway(k);
    std::vector<int> order;
    for (int n = k; n >= 1; --n) order.push_back(n);
    REQUIRE(sw.Ring(order).ok());
    std::set<std::set<int>> seen;
    for (int n = 1; n <= k; ++n) {
      std::set<int> reach = Reach(sw, n);
      CHECK(reach.erase(1000) == 1);
      reach.insert(n);
      CHECK(reach.size() >= size_t(k / 2 + 1));
      CHECK(reach.size() < size_t(k) + (k == 3 && n == 2 ? 1 : 0));  // the middle of three sees all
      seen.insert(reach);
    }
    CHECK(seen.size() == size_t(k));
    sw.Heal();
    for (int n = 1; n <= k; ++n) CHECK(Reach(sw, n).size() == size_t(k));  // the others and the gateway
  }
}

TEST_CASE("in a ring of 5 node 1 reaches its neighbours 2 and 5, and unicast to 3 is dropped as partition") {
  SwitchCore sw = NodesAndGateway(6);
  REQUIRE(sw.Ring({1, 2, 3, 4, 5}).ok());
  CHECK(Reach(sw, 1) == std::set<int>{2, 5, 1000});
  CHECK(Reach(sw, 3) == std::set<int>{2, 4, 1000});
  CHECK(Reach(sw, 6) == std::set<int>{1000});  // outside the ring
  auto to3 = Frame(3, 1);
  uint64_t before = sw.counters(3).drops[static_cast<size_t>(Drop::kPartition)];
  CHECK(Route(sw, 1, to3.data(), to3.size(), 10, 0.5).empty());
  CHECK(sw.counters(3).drops[static_cast<size_t>(Drop::kPartition)] == before + 1);
  REQUIRE(sw.cut());
  CHECK(sw.cut()->shape == "ring");
  CHECK(sw.cut()->groups == std::vector<std::vector<int>>{{1, 2, 3, 4, 5}});
  sw.Partition({{1, 2, 3}});  // a partition replaces the ring
  CHECK(Reach(sw, 1) == std::set<int>{2, 3, 1000});
  sw.Heal();
  CHECK_FALSE(sw.cut());
}

TEST_CASE("a bad ring is refused and the cut before stays") {
  SwitchCore sw = NodesAndGateway(3);
  sw.Isolate(3);
  CHECK(sw.Ring({1, 2}).message() == "a ring needs at least 3 nodes, not 2; name more nodes");
  CHECK(sw.Ring({1, 2, 1}).IsInvalidArgument());
  CHECK(sw.Ring({1, 2, 300}).IsInvalidArgument());
  REQUIRE(sw.cut());
  CHECK(sw.cut()->shape == "isolate");
  CHECK(Reach(sw, 1) == std::set<int>{2, 1000});
}

TEST_CASE("a MAC flood fills the table to its bound; expired MACs make room again") {
  SwitchCore sw(false);
  sw.AddPort(1);
  sw.AddPort(2);
  auto f = Frame(-1, 1);
  auto flood = [&](uint32_t first, uint32_t count, uint64_t now) {
    for (uint32_t i = first; i < first + count; ++i) {
      f[7] = static_cast<uint8_t>(i >> 16), f[8] = static_cast<uint8_t>(i >> 8), f[9] = static_cast<uint8_t>(i);
      f[6] = 0x0a;  // unicast, not a node's MAC
      Route(sw, 1, f.data(), f.size(), now, 0.5);
    }
  };
  flood(0, kMaxMacs + 1000, 0);
  CHECK(sw.MacTable(0).size() == kMaxMacs);
  // Port 2's node is still learned once the flood's MACs have expired.
  Route(sw, 2, Frame(-1, 2).data(), 60, kMacExpiryMs + 2000, 0.5);
  CHECK(sw.MacTable(kMacExpiryMs + 2000).size() == 1);
  CHECK(Ports(Route(sw, 1, Frame(2, 1).data(), 60, kMacExpiryMs + 2001, 0.5)) == std::vector<int>{2});
}
