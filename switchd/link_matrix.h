// Which nodes' frames reach which: every cut of the network (partition
// groups, isolate, Jepsen's majorities ring) compiles to this matrix, so the
// forwarding path makes one check, a bit test, whatever the shape. Ids are
// the last byte of a node's MAC: 1-254 are nodes, 255 is the gateway, and 0
// stands for any MAC that is not a node's, which no cut stops.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <vector>

#include "common/status.h"

namespace ssiuml::vde {

class LinkMatrix {
 public:
  static constexpr int kIds = 256;
  static constexpr int kGateway = 255;

  LinkMatrix() { bits_.set(); }  // everyone reaches everyone

  // Ids reach each other when they share a group (group[id], the gateway's
  // included).
  static LinkMatrix Groups(const std::array<int, kIds>& group);
  // Jepsen's partition-majorities-ring over order (3 to 254 distinct nodes,
  // 1-254): each node reaches the nodes nearest it on the ring, in both
  // directions, as few as make a majority with itself, so every node sees a
  // majority and no two see the same one. Nodes outside the ring reach each
  // other, never a ring node. Everyone keeps the gateway: the ring tests the
  // application's own quorum, and a lock service that still sees every node
  // fences none of them.
  static Status Ring(const std::vector<int>& order, LinkMatrix* out);

  // REQUIRES: 0 <= from, to < kIds.
  bool Reaches(int from, int to) const { return bits_[static_cast<size_t>(from) * kIds + static_cast<size_t>(to)]; }

 private:
  void Link(int a, int b, bool on) {
    bits_[static_cast<size_t>(a) * kIds + static_cast<size_t>(b)] = on;
    bits_[static_cast<size_t>(b) * kIds + static_cast<size_t>(a)] = on;
  }

  std::bitset<static_cast<size_t>(kIds) * kIds> bits_;  // [from * kIds + to]; 8 KiB
};

}  // namespace ssiuml::vde
