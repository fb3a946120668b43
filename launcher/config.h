// The per-user cluster configuration, ~/.ssiuml/ssiuml.conf: shell-style
// KEY=value lines, as in SSI/UML's ssiuml.conf.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/env.h"
#include "common/status.h"

namespace ssiuml {

enum class DiskKind { kUbd, kPlx };
// spread: each node on one CPU, round robin (launcher/cpu_placement.h);
// none: wherever the host's scheduler puts it.
enum class Placement { kSpread, kNone };

struct Config {
  std::string kernel = "linux.uml";  // UML binary; a bare name is looked up on PATH
  std::string root;                  // shared root image; empty = the built default
  std::string cidev;                 // VNL of an existing switch; empty = our own
  std::string initrd;                // node initramfs, optional
  std::string initrd_memexp;         // lock-server node initramfs, optional
  uint64_t mem_mib = 128;            // guest memory per node
  int nodes = 3;                     // ssi-start's default node count
  int max_nodes = 64;                // highest node number accepted
  std::string subnet = "10.77.0";    // first three octets of the /24
  DiskKind disk = DiskKind::kPlx;
  // The lock server's failure detection: a node whose agent is silent for
  // heartbeat_ms * expiry_missed leaves the cluster and is fenced.
  int heartbeat_ms = 200;
  int expiry_missed = 5;
  // Nodes that boot at once; 0: twice the host's CPUs (see boot_queue.h).
  int boot_parallel = 0;
  Placement placement = Placement::kSpread;
};

// Parses text; errors read "FILE:LINE: what is wrong".
Status ParseConfig(std::string_view text, const std::string& filename, Config* config);
// Reads path into config. A missing file is fine when it is the default path.
Status LoadConfig(Env* env, const std::string& path, bool must_exist, Config* config);
// $SSIUML_CONF, else ~/.ssiuml/ssiuml.conf.
std::string ConfigPath(bool* explicitly_set);

}  // namespace ssiuml
