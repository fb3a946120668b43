// The switch's forwarding logic, free of sockets so it is tested directly:
// MAC learning per port with expiry, flooding of broadcast and unknown
// destinations, hub mode, and the faults ssi-net applies between nodes
// (partition groups, loss, delay, a node's link down). Nodes are known by
// their MAC, 02:55:4d:00:00:<N>, as ARCHITECTURE.md fixes it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace ssiuml::vde {

constexpr size_t kMaxFrame = 1518;  // Ethernet with a VLAN tag; larger is over the MTU
constexpr size_t kMinFrame = 14;
constexpr uint64_t kMacExpiryMs = 100000;

enum class Drop { kRunt, kOversize, kDown, kPartition, kLoss, kSamePort, kFull, kCount };
const char* DropName(Drop cause);

struct PortCounters {
  uint64_t rx_frames = 0, rx_bytes = 0, tx_frames = 0, tx_bytes = 0;
  std::array<uint64_t, static_cast<size_t>(Drop::kCount)> drops{};
};

// A frame's way out: the ports it goes to, after how long.
struct Egress {
  int port;
  uint32_t delay_ms;
};

class SwitchCore {
 public:
  explicit SwitchCore(bool hub) : hub_(hub) {}

  void AddPort(int port);
  void RemovePort(int port);  // also forgets its MACs
  bool HasPort(int port) const { return counters_.count(port) != 0; }
  const std::map<int, PortCounters>& counters() const { return counters_; }
  PortCounters& counters(int port) { return counters_[port]; }
  // The node whose frames the port carries (0: none seen yet).
  int NodeOfPort(int port) const;
  std::vector<std::pair<std::string, int>> MacTable(uint64_t now_ms) const;

  // Decides where a frame from ingress goes; random in [0, 1) drives loss
  // and jitter so tests can fix it.
  std::vector<Egress> Route(int ingress, const uint8_t* frame, size_t len, uint64_t now_ms, double random);

  // Faults. Nodes named in no group of a partition form one group of their own.
  void Partition(const std::vector<std::vector<int>>& groups);
  void SetLoss(int node, double fraction) { loss_[node] = fraction; }
  void SetDelay(int node, uint32_t ms, uint32_t jitter_ms) { delay_[node] = {ms, jitter_ms}; }
  void SetDown(int node, bool down) { down_[node] = down; }
  void Heal();

  static int NodeOfMac(const uint8_t* mac);

 private:
  struct MacEntry {
    int port;
    uint64_t seen_ms;
  };
  bool Blocked(int src_node, int dst_node, double random, Drop* cause) const;
  uint32_t DelayFor(int src_node, int dst_node, double random) const;

  bool hub_;
  std::map<int, PortCounters> counters_;
  std::unordered_map<uint64_t, MacEntry> macs_;
  std::map<int, int> port_node_;
  std::map<int, int> group_;  // node -> partition group; empty: no partition
  bool partitioned_ = false;
  std::map<int, double> loss_;
  std::map<int, std::pair<uint32_t, uint32_t>> delay_;
  std::map<int, bool> down_;
};

}  // namespace ssiuml::vde
