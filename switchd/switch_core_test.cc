#include "switchd/switch_core.h"

#include <catch2/catch.hpp>
#include <vector>

using namespace ssiuml::vde;

namespace {

std::vector<uint8_t> Frame(int dst_node, int src_node, size_t len = 60) {
  std::vector<uint8_t> f(len, 0);
  uint8_t node_mac[6] = {0x02, 0x55, 0x4d, 0, 0, 0};
  if (dst_node < 0) {
    std::fill(f.begin(), f.begin() + 6, 0xff);
  } else {
    std::copy(node_mac, node_mac + 6, f.begin());
    f[5] = static_cast<uint8_t>(dst_node);
  }
  std::copy(node_mac, node_mac + 6, f.begin() + 6);
  f[11] = static_cast<uint8_t>(src_node);
  return f;
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
    sw.Route(n, f.data(), f.size(), 0, 0.5);
  }
  return sw;
}

}  // namespace

TEST_CASE("learning, flooding and unicast") {
  SwitchCore sw(false);
  for (int p = 1; p <= 3; ++p) sw.AddPort(p);
  auto unknown = Frame(2, 1);
  CHECK(Ports(sw.Route(1, unknown.data(), unknown.size(), 0, 0.5)) == std::vector<int>{2, 3});  // flood
  auto reply = Frame(1, 2);
  CHECK(Ports(sw.Route(2, reply.data(), reply.size(), 1, 0.5)) == std::vector<int>{1});  // learned
  CHECK(Ports(sw.Route(1, unknown.data(), unknown.size(), 2, 0.5)) == std::vector<int>{2});
  CHECK(sw.NodeOfPort(1) == 1);
  CHECK(sw.NodeOfPort(2) == 2);
  // Entries expire.
  CHECK(Ports(sw.Route(1, unknown.data(), unknown.size(), kMacExpiryMs + 10, 0.5)).size() == 2);
  // A MAC seen on its own port goes nowhere.
  CHECK(sw.Route(2, reply.data(), reply.size(), kMacExpiryMs + 11, 0.5).empty() == false);
  sw.RemovePort(2);
  CHECK(Ports(sw.Route(1, unknown.data(), unknown.size(), kMacExpiryMs + 12, 0.5)) == std::vector<int>{3});
}

TEST_CASE("hub mode floods everything") {
  SwitchCore hub(true);
  for (int p = 1; p <= 3; ++p) hub.AddPort(p);
  auto f = Frame(2, 1);
  hub.Route(2, Frame(1, 2).data(), 60, 0, 0.5);
  CHECK(Ports(hub.Route(1, f.data(), f.size(), 1, 0.5)) == std::vector<int>{2, 3});
}

TEST_CASE("bad frames are dropped and counted") {
  SwitchCore sw(false);
  sw.AddPort(1);
  sw.AddPort(2);
  auto runt = Frame(2, 1, 10);
  auto jumbo = Frame(2, 1, kMaxFrame + 1);
  CHECK(sw.Route(1, runt.data(), runt.size(), 0, 0.5).empty());
  CHECK(sw.Route(1, jumbo.data(), jumbo.size(), 0, 0.5).empty());
  CHECK(sw.counters().at(1).drops[static_cast<size_t>(Drop::kRunt)] == 1);
  CHECK(sw.counters().at(1).drops[static_cast<size_t>(Drop::kOversize)] == 1);
}

TEST_CASE("partitions cut between groups; unnamed nodes form one group; heal restores") {
  SwitchCore sw = ThreeNodes();
  sw.Partition({{1, 2}});
  auto b = Frame(-1, 1);
  CHECK(Ports(sw.Route(1, b.data(), b.size(), 10, 0.5)) == std::vector<int>{2});
  auto to3 = Frame(3, 1);
  CHECK(sw.Route(1, to3.data(), to3.size(), 10, 0.5).empty());
  CHECK(sw.counters().at(3).drops[static_cast<size_t>(Drop::kPartition)] == 2);
  sw.Partition({{3}});  // isolate 3
  auto to2 = Frame(2, 1);
  CHECK(Ports(sw.Route(1, to2.data(), to2.size(), 10, 0.5)) == std::vector<int>{2});
  CHECK(sw.Route(1, to3.data(), to3.size(), 10, 0.5).empty());
  sw.Heal();
  CHECK(Ports(sw.Route(1, to3.data(), to3.size(), 10, 0.5)) == std::vector<int>{3});
}

TEST_CASE("loss, delay and a node's link down") {
  SwitchCore sw = ThreeNodes();
  auto to2 = Frame(2, 1);
  sw.SetLoss(2, 0.2);
  CHECK(sw.Route(1, to2.data(), to2.size(), 10, 0.1).empty());  // below the loss rate: dropped
  CHECK(sw.Route(1, to2.data(), to2.size(), 10, 0.5).size() == 1);
  sw.SetDelay(2, 50, 10);
  auto out = sw.Route(1, to2.data(), to2.size(), 10, 0.5);
  REQUIRE(out.size() == 1);
  CHECK(out[0].delay_ms == 55);
  sw.SetDown(2, true);
  CHECK(sw.Route(1, to2.data(), to2.size(), 10, 0.9).empty());
  sw.SetDown(2, false);
  CHECK(sw.Route(1, to2.data(), to2.size(), 10, 0.9).size() == 1);
}
