// Per-node disk and network figures for ssi-status and the dashboard, asked
// of plxd (blocks a node's VDI owns and shares) and switchd (frames and drops
// on the node's port). Disk usage walks every tree and flushes, so it is
// asked at most every few seconds; the switch's counters are cheap. A daemon
// that does not answer leaves its figures out (DaemonStatusQuery).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "launcher/cluster_paths.h"
#include "launcher/daemon_control.h"

namespace ssiuml {

class NodeFigures {
 public:
  // Adds disk_* and net_* fields to each node of status["nodes"].
  void Fill(const ClusterPaths& paths, bool plxd, bool switchd, uint64_t now_ms, nlohmann::json* nodes);
  // Why figures are left out, one line per daemon that does not answer.
  std::vector<std::string> troubles() const;

 private:
  static constexpr uint64_t kDiskEveryMs = 5000;
  DaemonStatusQuery plxd_{"plxd", DaemonStatusQuery::kSlowTimeoutMs};
  DaemonStatusQuery switchd_{"switchd"};
  uint64_t disk_at_ms_ = 0;
  nlohmann::json du_;
};

}  // namespace ssiuml
