// Per-node disk and network figures for ssi-status and the dashboard, asked
// of plxd (blocks a node's VDI owns and shares) and switchd (frames and drops
// on the node's port). Disk usage walks every tree and flushes, so it is
// asked at most every few seconds; the switch's counters are cheap.
#pragma once

#include <cstdint>
#include <map>

#include <nlohmann/json.hpp>

#include "launcher/cluster_paths.h"

namespace ssiuml {

class NodeFigures {
 public:
  // Adds disk_* and net_* fields to each node of status["nodes"].
  void Fill(const ClusterPaths& paths, bool plxd, bool switchd, uint64_t now_ms, nlohmann::json* nodes);

 private:
  static constexpr uint64_t kDiskEveryMs = 5000;
  uint64_t disk_at_ms_ = 0;
  nlohmann::json du_;
};

}  // namespace ssiuml
