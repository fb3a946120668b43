// The switch's forwarding logic, free of sockets so it is tested directly:
// MAC learning per port with expiry, flooding of broadcast and unknown
// destinations, hub mode, and the faults ssi-net applies between nodes
// (partition groups, isolate, majorities ring, loss, delay, a node's link
// down). Nodes are known by their MAC, 02:55:4d:00:00:<N>, as
// ARCHITECTURE.md fixes it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "switchd/link_matrix.h"

namespace ssiuml::vde {

constexpr size_t kMaxFrame = 1518;  // Ethernet with a VLAN tag; larger is over the MTU
constexpr size_t kMinFrame = 14;
constexpr uint64_t kMacExpiryMs = 100000;
// A MAC flood (macof, in a lab) fills the table to here; past it new MACs are
// not learned until old ones expire, and frames to them flood, as on a real
// switch whose table is full.
constexpr size_t kMaxMacs = 16384;

enum class Drop { kRunt, kOversize, kDown, kPartition, kLoss, kSamePort, kFull, kSpoof, kCount };
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

  // Ports are small numbers (VDE 1-999, internal from 1000): the per-frame
  // lookups index flat arrays.
  // node (1-255, 0: none) binds the port to that node, as ssid's nodes say
  // in their VDE description: faults then follow the port, and a frame from
  // it that claims another node's MAC or one learned on the gateway's port
  // is dropped (Drop::kSpoof). An unbound port's node is the one its frames'
  // source MAC names (a host tool, or a cascade of switches).
  void AddPort(int port, int node = 0);
  void RemovePort(int port);  // also forgets its MACs
  bool HasPort(int port) const { return port >= 0 && size_t(port) < slots_.size() && slots_[port].attached; }
  const std::vector<int>& ports() const { return ports_; }  // ascending
  // REQUIRES: HasPort(port).
  const PortCounters& counters(int port) const { return slots_[port].counters; }
  PortCounters& counters(int port) { return slots_[port].counters; }
  // The node whose frames the port carries (0: none seen yet).
  int NodeOfPort(int port) const { return HasPort(port) ? slots_[port].node : 0; }
  std::vector<std::pair<std::string, int>> MacTable(uint64_t now_ms) const;
  // What ports that have since gone counted, so their drops stay visible.
  const PortCounters& departed() const { return departed_; }

  // Decides where a frame from ingress goes, into *out (cleared first; the
  // caller reuses it so the hot path allocates nothing). random in [0, 1)
  // drives loss and jitter so tests can fix it; it is only read when Faulty().
  // A port that is not attached sends nowhere.
  void Route(int ingress, const uint8_t* frame, size_t len, uint64_t now_ms, double random, std::vector<Egress>* out);

  // The gateway's port (the lock server behind it). In a partition it stays
  // with the largest group, as a quorum keeps the lock service: a node cut
  // off from the majority loses its lock-server session and is fenced. In a
  // ring every node keeps it.
  void SetGatewayPort(int port) { gateway_port_ = port; }

  // Faults. A partition, isolate and a ring each replace the cut before.
  // Nodes named in no group of a partition form one group of their own.
  void Partition(const std::vector<std::vector<int>>& groups);
  // Cuts node off everyone, the gateway included, whatever the group sizes.
  void Isolate(int node);
  // Jepsen's majorities ring over order (LinkMatrix::Ring); the gateway
  // stays reachable from every node. Refuses fewer than 3 nodes, a number
  // outside 1-254 and a node named twice.
  Status Ring(const std::vector<int>& order);
  void SetLoss(int node, double fraction) { loss_[node] = fraction; }
  void SetDelay(int node, uint32_t ms, uint32_t jitter_ms) { delay_[node] = {ms, jitter_ms}; }
  void SetDown(int node, bool down) { down_[node] = down; }
  void Heal();

  // The cut in force, as it was given, for status.
  struct Cut {
    std::string shape;                     // "groups", "isolate" or "ring"
    std::vector<std::vector<int>> groups;  // isolate: {{node}}; ring: {order}
  };
  const std::optional<Cut>& cut() const { return cut_; }
  // Whether from's frames reach to under the cut (ids as in LinkMatrix).
  bool Reaches(int from_node, int to_node) const { return links_.Reaches(from_node, to_node); }

  static int NodeOfMac(const uint8_t* mac);
  bool Faulty() const { return cut_.has_value() || !loss_.empty() || !delay_.empty() || !down_.empty(); }

 private:
  struct MacEntry {
    int port;
    uint64_t seen_ms;
  };
  struct Slot {
    bool attached = false;
    bool bound = false;  // node came with the port, not from its frames
    int node = 0;
    PortCounters counters;
  };
  // Whether a frame from a bound ingress with this source MAC claims an
  // address that is not its own (see AddPort).
  bool Spoofed(int ingress, const uint8_t* src) const;
  void Learn(uint64_t mac, int port, uint64_t now_ms);
  void Deliver(int port, int src_node, int unicast_node, double random, std::vector<Egress>* out);
  bool Blocked(int src_node, int dst_node, double random, Drop* cause) const;
  uint32_t DelayFor(int src_node, int dst_node, double random) const;

  static constexpr int kGatewayNode = LinkMatrix::kGateway;  // nodes are 1-254

  bool hub_;
  int gateway_port_ = -1;
  std::vector<Slot> slots_;  // indexed by port number
  std::vector<int> ports_;   // the attached ones, for flooding
  PortCounters departed_;
  std::unordered_map<uint64_t, MacEntry> macs_;
  uint64_t last_sweep_ms_ = 0;  // of expired MACs, at most once a second
  LinkMatrix links_;  // everyone reaches everyone unless cut_
  std::optional<Cut> cut_;
  std::map<int, double> loss_;
  std::map<int, std::pair<uint32_t, uint32_t>> delay_;
  std::map<int, bool> down_;
};

}  // namespace ssiuml::vde
