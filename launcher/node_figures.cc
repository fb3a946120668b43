#include "launcher/node_figures.h"

#include <string>

#include "launcher/daemon_control.h"

namespace ssiuml {

void NodeFigures::Fill(const ClusterPaths& paths, bool plxd, bool switchd, uint64_t now_ms,
                       nlohmann::json* nodes) {
  if (!plxd) plxd_.Reset();
  if (!switchd) switchd_.Reset();
  if (plxd && (disk_at_ms_ == 0 || now_ms - disk_at_ms_ >= kDiskEveryMs)) {
    nlohmann::json reply;
    du_ = plxd_.Ask(paths.PlxdControl(), {{"cmd", "du"}}, &reply).ok() ? reply["du"] : nlohmann::json();
    disk_at_ms_ = now_ms;
  }
  std::map<std::string, std::pair<uint64_t, uint64_t>> disk;
  if (plxd && du_.is_array())
    for (const auto& d : du_)
      disk[d.value("vdi", "")] = {d.value("private_blocks", uint64_t{0}) * 4, d.value("shared_blocks", uint64_t{0}) * 4};
  nlohmann::json net;
  std::map<int, nlohmann::json> ports;
  if (switchd && switchd_.Ask(paths.SwitchControl(), {{"cmd", "status"}}, &net).ok())
    for (const auto& p : net.value("ports", nlohmann::json::array()))
      if (p.value("node", 0) > 0) ports[p.value("node", 0)] = p;
  for (auto& n : *nodes) {
    int number = n.value("node", 0);
    if (auto d = disk.find("node" + std::to_string(number)); d != disk.end()) {
      n["disk_private_kib"] = d->second.first;
      n["disk_shared_kib"] = d->second.second;
    }
    if (auto p = ports.find(number); p != ports.end()) {
      uint64_t drops = 0;
      nlohmann::json causes = p->second.value("drops", nlohmann::json::object());  // outlives the loop
      for (const auto& [cause, count] : causes.items())
        if (count.is_number_unsigned()) drops += count.get<uint64_t>();
      n["net_rx_frames"] = p->second.value("rx_frames", uint64_t{0});
      n["net_tx_frames"] = p->second.value("tx_frames", uint64_t{0});
      n["net_drops"] = drops;
    }
  }
}

std::vector<std::string> NodeFigures::troubles() const {
  std::vector<std::string> all;
  for (const DaemonStatusQuery* q : {&plxd_, &switchd_})
    if (!q->trouble().empty()) all.push_back(q->trouble() + "; its figures are left out");
  return all;
}

}  // namespace ssiuml
