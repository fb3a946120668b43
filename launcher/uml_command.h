// The linux.uml command line for one node: identity, disk, network, the two
// serial lines ssid holds, and the ssi.* parameters the root's init reads.
#pragma once

#include <string>
#include <vector>

#include "launcher/cluster_paths.h"
#include "launcher/config.h"

namespace ssiuml {

// fds the node process receives from ssid (see SpawnSpec::extra_fds).
constexpr int kConsoleFd = 3;
constexpr int kMgmtFd = 4;

// The lock node (kLockNode, see cluster_paths.h) answers at SUBNET.253.
constexpr int kLockNodeHost = 253;
constexpr int kLockPort = 7400;
constexpr int kLockControlPort = 7401;

struct NodeLaunch {
  int node = 0;  // kLockNode boots the lock server's initramfs, with no disk
  std::string kernel;   // resolved path
  std::string root;     // shared root image
  std::string switch_vnl;  // where eth0 plugs in
  std::string disk_socket; // DISK=plx: plxd's vhost-user socket; empty: ubd
  std::string initrd;      // the initramfs that mounts the vhost-user disk
  std::string lock_server; // IP:PORT of a lock node; empty: the gateway's
  int cpu = -1;            // PLACEMENT=spread: the CPU the node runs on alone
};

// MAC 02:55:4d:00:00:<N hex> ("\x02UM" + node), as ARCHITECTURE.md fixes.
std::string NodeMac(int node);
std::vector<std::string> UmlArgv(const NodeLaunch& launch, const Config& config,
                                 const ClusterPaths& paths);

}  // namespace ssiuml
