#include "switchd/link_matrix.h"

#include <string>

namespace ssiuml::vde {

LinkMatrix LinkMatrix::Groups(const std::array<int, kIds>& group) {
  LinkMatrix m;
  for (int a = 1; a < kIds; ++a)  // id 0 keeps its full row and column
    for (int b = 1; b < kIds; ++b) m.bits_[static_cast<size_t>(a) * kIds + static_cast<size_t>(b)] = group[a] == group[b];
  return m;
}

Status LinkMatrix::Ring(const std::vector<int>& order, LinkMatrix* out) {
  if (order.size() < 3)
    return Status::InvalidArgument("a ring needs at least 3 nodes, not " + std::to_string(order.size()) +
                                   "; name more nodes");
  std::array<bool, kIds> in_ring{};
  for (int node : order) {
    if (node < 1 || node >= kGateway)
      return Status::InvalidArgument("node " + std::to_string(node) + " is not a node number; use 1 to 254");
    if (in_ring[node])
      return Status::InvalidArgument("node " + std::to_string(node) + " is in the ring twice; name each node once");
    in_ring[node] = true;
  }
  LinkMatrix m;
  for (int a : order)
    for (int b = 1; b < kGateway; ++b) m.Link(a, b, false);
  size_t k = order.size();
  // The fewest neighbours on each side that make a majority (k/2 + 1) with
  // the node itself. Windows of the same width centred on different nodes
  // differ while they are narrower than the ring.
  size_t side = (k / 2 + 1) / 2;
  for (size_t i = 0; i < k; ++i)
    for (size_t d = 0; d <= side; ++d) m.Link(order[i], order[(i + d) % k], true);
  // Three nodes: the window is the whole ring, one majority for all. Cutting
  // one link of the ring leaves a line, whose ends see different pairs and
  // whose middle sees all three.
  if (k == 3) m.Link(order[2], order[0], false);
  *out = m;
  return Status::OK();
}

}  // namespace ssiuml::vde
