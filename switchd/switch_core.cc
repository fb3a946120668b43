#include "switchd/switch_core.h"

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

void SwitchCore::AddPort(int port) { counters_[port] = PortCounters(); }

void SwitchCore::RemovePort(int port) {
  counters_.erase(port);
  port_node_.erase(port);
  for (auto it = macs_.begin(); it != macs_.end();) it = it->second.port == port ? macs_.erase(it) : std::next(it);
}

int SwitchCore::NodeOfPort(int port) const {
  auto it = port_node_.find(port);
  return it == port_node_.end() ? 0 : it->second;
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
  group_.clear();
  for (size_t g = 0; g < groups.size(); ++g)
    for (int node : groups[g]) group_[node] = static_cast<int>(g) + 1;
  partitioned_ = true;
}

void SwitchCore::Heal() {
  group_.clear();
  partitioned_ = false;
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
  // Only traffic between two nodes is cut; the gateway and strangers pass.
  if (partitioned_ && src_node != 0 && dst_node != 0) {
    auto group = [this](int node) {
      auto it = group_.find(node);
      return it == group_.end() ? 0 : it->second;  // the unnamed nodes share group 0
    };
    if (group(src_node) != group(dst_node)) {
      *cause = Drop::kPartition;
      return true;
    }
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

std::vector<Egress> SwitchCore::Route(int ingress, const uint8_t* frame, size_t len, uint64_t now_ms, double random) {
  std::vector<Egress> out;
  PortCounters& in = counters_[ingress];
  if (len < kMinFrame) {
    ++in.drops[static_cast<size_t>(Drop::kRunt)];
    return out;
  }
  if (len > kMaxFrame) {
    ++in.drops[static_cast<size_t>(Drop::kOversize)];
    return out;
  }
  ++in.rx_frames;
  in.rx_bytes += len;
  const uint8_t* dst = frame;
  const uint8_t* src = frame + 6;
  int src_node = NodeOfMac(src);
  if (!Multicast(src) && !hub_) {
    macs_[MacKey(src)] = {ingress, now_ms};
    if (src_node != 0) port_node_[ingress] = src_node;
  }
  std::vector<int> targets;
  auto known = macs_.find(MacKey(dst));
  if (hub_ || Multicast(dst) || known == macs_.end() || now_ms - known->second.seen_ms > kMacExpiryMs) {
    for (const auto& [port, counters] : counters_)
      if (port != ingress) targets.push_back(port);
  } else if (known->second.port == ingress) {
    ++in.drops[static_cast<size_t>(Drop::kSamePort)];
  } else {
    targets.push_back(known->second.port);
  }
  int unicast_node = Multicast(dst) ? 0 : NodeOfMac(dst);
  for (int port : targets) {
    int dst_node = unicast_node != 0 ? unicast_node : NodeOfPort(port);
    Drop cause;
    if (Blocked(src_node, dst_node, random, &cause)) {
      ++counters_[port].drops[static_cast<size_t>(cause)];
      continue;
    }
    out.push_back({port, DelayFor(src_node, dst_node, random)});
  }
  return out;
}

}  // namespace ssiuml::vde
