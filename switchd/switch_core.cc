#include "switchd/switch_core.h"

#include <algorithm>
#include <cstdio>

namespace ssiuml::vde {
namespace {

uint64_t MacKey(const uint8_t* mac) {
  uint64_t key = 0;
  for (int i = 0; i < 6; ++i) key = (key << 8) | mac[i];
  return key;
}

bool Multicast(const uint8_t* mac) { return mac[0] & 1; }

}  // namespace

const char* DropName(Drop cause) {
  switch (cause) {
    case Drop::kRunt: return "runt";
    case Drop::kOversize: return "oversize";
    case Drop::kDown: return "down";
    case Drop::kPartition: return "partition";
    case Drop::kLoss: return "loss";
    case Drop::kSamePort: return "same_port";
    case Drop::kFull: return "full";
    case Drop::kSpoof: return "spoof";
    case Drop::kCount: break;
  }
  return "?";
}

int SwitchCore::NodeOfMac(const uint8_t* mac) {
  static const uint8_t kPrefix[5] = {0x02, 0x55, 0x4d, 0x00, 0x00};
  for (int i = 0; i < 5; ++i)
    if (mac[i] != kPrefix[i]) return 0;
  return mac[5];
}

void SwitchCore::AddPort(int port, int node) {
  if (port < 0) return;
  if (size_t(port) >= slots_.size()) slots_.resize(size_t(port) + 1);
  if (slots_[port].attached) return;
  bool bound = node >= 1 && node <= kGatewayNode;
  slots_[port] = Slot{true, bound, bound ? node : 0, PortCounters()};
  ports_.insert(std::lower_bound(ports_.begin(), ports_.end(), port), port);
}

void SwitchCore::RemovePort(int port) {
  if (!HasPort(port)) return;
  const PortCounters& c = slots_[port].counters;
  departed_.rx_frames += c.rx_frames;
  departed_.rx_bytes += c.rx_bytes;
  departed_.tx_frames += c.tx_frames;
  departed_.tx_bytes += c.tx_bytes;
  for (size_t i = 0; i < c.drops.size(); ++i) departed_.drops[i] += c.drops[i];
  slots_[port] = Slot();
  ports_.erase(std::lower_bound(ports_.begin(), ports_.end(), port));
  for (auto it = macs_.begin(); it != macs_.end();) it = it->second.port == port ? macs_.erase(it) : std::next(it);
}

std::vector<std::pair<std::string, int>> SwitchCore::MacTable(uint64_t now_ms) const {
  std::vector<std::pair<std::string, int>> table;
  for (const auto& [key, entry] : macs_) {
    if (now_ms - entry.seen_ms > kMacExpiryMs) continue;
    char text[18];
    std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", unsigned(key >> 40 & 0xff),
                  unsigned(key >> 32 & 0xff), unsigned(key >> 24 & 0xff), unsigned(key >> 16 & 0xff),
                  unsigned(key >> 8 & 0xff), unsigned(key & 0xff));
    table.emplace_back(text, entry.port);
  }
  return table;
}

void SwitchCore::Partition(const std::vector<std::vector<int>>& groups) {
  std::array<int, LinkMatrix::kIds> group{};  // 0: the unnamed nodes' group
  for (size_t g = 0; g < groups.size(); ++g)
    for (int node : groups[g]) group[node] = static_cast<int>(g) + 1;
  // The gateway joins the largest group; the first listed wins a tie, and
  // the unnamed nodes (counted among the connected) come last.
  size_t unnamed = 0;
  for (int port : ports_) {
    int node = slots_[port].node;
    unnamed += node != 0 && group[node] == 0 ? 1 : 0;
  }
  int best = 0;
  size_t best_size = 0;
  for (size_t g = 0; g < groups.size(); ++g)
    if (groups[g].size() > best_size) best = static_cast<int>(g) + 1, best_size = groups[g].size();
  if (unnamed > best_size) best = 0;
  group[kGatewayNode] = best;
  links_ = LinkMatrix::Groups(group);
  cut_ = Cut{"groups", groups};
}

void SwitchCore::Isolate(int node) {
  std::array<int, LinkMatrix::kIds> group{};
  group[node] = 1;  // the gateway stays with the rest, even when that is one node
  links_ = LinkMatrix::Groups(group);
  cut_ = Cut{"isolate", {{node}}};
}

Status SwitchCore::Ring(const std::vector<int>& order) {
  Status s = LinkMatrix::Ring(order, &links_);
  if (s.ok()) cut_ = Cut{"ring", {order}};
  return s;
}

void SwitchCore::Heal() {
  links_ = LinkMatrix();
  cut_.reset();
  loss_.clear();
  delay_.clear();
  down_.clear();
}

bool SwitchCore::Blocked(int src_node, int dst_node, double random, Drop* cause) const {
  auto is_down = [this](int node) {
    auto it = down_.find(node);
    return node != 0 && it != down_.end() && it->second;
  };
  if (is_down(src_node) || is_down(dst_node)) {
    *cause = Drop::kDown;
    return true;
  }
  // Only traffic between nodes and the gateway is cut: the matrix lets
  // strangers (id 0) through.
  if (!links_.Reaches(src_node, dst_node)) {
    *cause = Drop::kPartition;
    return true;
  }
  double loss = 0;
  for (int node : {src_node, dst_node})
    if (auto it = loss_.find(node); node != 0 && it != loss_.end()) loss = std::max(loss, it->second);
  if (loss > 0 && random < loss) {
    *cause = Drop::kLoss;
    return true;
  }
  return false;
}

uint32_t SwitchCore::DelayFor(int src_node, int dst_node, double random) const {
  uint32_t delay = 0;
  for (int node : {src_node, dst_node}) {
    auto it = delay_.find(node);
    if (node == 0 || it == delay_.end()) continue;
    auto [ms, jitter] = it->second;
    delay = std::max(delay, ms + static_cast<uint32_t>(random * jitter));
  }
  return delay;
}

void SwitchCore::Deliver(int port, int src_node, int unicast_node, double random, std::vector<Egress>* out) {
  if (!Faulty()) {  // the common case skips the per-node lookups
    out->push_back({port, 0});
    return;
  }
  int dst_node = port == gateway_port_ ? kGatewayNode
                 : slots_[port].bound ? slots_[port].node
                 : unicast_node != 0  ? unicast_node
                                      : NodeOfPort(port);
  Drop cause;
  if (Blocked(src_node, dst_node, random, &cause)) {
    ++slots_[port].counters.drops[static_cast<size_t>(cause)];
    return;
  }
  out->push_back({port, DelayFor(src_node, dst_node, random)});
}

void SwitchCore::Learn(uint64_t mac, int port, uint64_t now_ms) {
  auto it = macs_.find(mac);
  if (it != macs_.end()) {
    it->second = {port, now_ms};
    return;
  }
  if (macs_.size() >= kMaxMacs && now_ms >= last_sweep_ms_ + 1000) {
    last_sweep_ms_ = now_ms;
    std::erase_if(macs_, [now_ms](const auto& entry) { return now_ms - entry.second.seen_ms > kMacExpiryMs; });
  }
  if (macs_.size() < kMaxMacs) macs_.emplace(mac, MacEntry{port, now_ms});
}

// Only bound ports are asked, and the gateway's never is one.
bool SwitchCore::Spoofed(int ingress, const uint8_t* src) const {
  int claimed = NodeOfMac(src);
  if (claimed != 0 && claimed != slots_[ingress].node) return true;
  // Other MACs may move between nodes (a VRRP virtual MAC fails over), but
  // not away from the gateway.
  auto owner = macs_.find(MacKey(src));
  return owner != macs_.end() && owner->second.port == gateway_port_;
}

void SwitchCore::Route(int ingress, const uint8_t* frame, size_t len, uint64_t now_ms, double random,
                       std::vector<Egress>* out) {
  out->clear();
  if (!HasPort(ingress)) return;
  PortCounters& in = slots_[ingress].counters;
  if (len < kMinFrame) {
    ++in.drops[static_cast<size_t>(Drop::kRunt)];
    return;
  }
  if (len > kMaxFrame) {
    ++in.drops[static_cast<size_t>(Drop::kOversize)];
    return;
  }
  const uint8_t* dst = frame;
  const uint8_t* src = frame + 6;
  const Slot& slot = slots_[ingress];
  if (slot.bound && Spoofed(ingress, src)) {
    ++in.drops[static_cast<size_t>(Drop::kSpoof)];
    return;
  }
  ++in.rx_frames;
  in.rx_bytes += len;
  int src_node = ingress == gateway_port_ ? kGatewayNode : slot.bound ? slot.node : NodeOfMac(src);
  if (!Multicast(src) && !hub_) {
    Learn(MacKey(src), ingress, now_ms);
    if (!slot.bound && src_node != 0 && src_node != kGatewayNode) slots_[ingress].node = src_node;
  }
  int unicast_node = Multicast(dst) ? 0 : NodeOfMac(dst);
  auto known = hub_ || Multicast(dst) ? macs_.end() : macs_.find(MacKey(dst));
  if (known == macs_.end() || now_ms - known->second.seen_ms > kMacExpiryMs) {
    for (int port : ports_)
      if (port != ingress) Deliver(port, src_node, unicast_node, random, out);
  } else if (known->second.port == ingress) {
    ++in.drops[static_cast<size_t>(Drop::kSamePort)];
  } else {
    Deliver(known->second.port, src_node, unicast_node, random, out);
  }
}

}  // namespace ssiuml::vde
