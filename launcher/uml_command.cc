#include "launcher/uml_command.h"

#include <cstdio>

#include "common/node_port.h"

namespace ssiuml {

std::string NodeMac(int node) {
  char mac[32];
  std::snprintf(mac, sizeof mac, "02:55:4d:00:00:%02x", node & 0xff);
  return mac;
}

std::vector<std::string> UmlArgv(const NodeLaunch& launch, const Config& config,
                                 const ClusterPaths& paths) {
  const std::string n = std::to_string(launch.node);
  const std::string console = "fd:" + std::to_string(kConsoleFd);
  const std::string mgmt = "fd:" + std::to_string(kMgmtFd);
  std::vector<std::string> argv = {
      launch.kernel,
      "umid=" + paths.Umid(launch.node),
      "uml_dir=" + paths.UmlDir(),
      // A lock table needs little: the lock node takes no part in MEM.
      "mem=" + std::to_string(launch.node == kLockNode ? 64 : config.mem_mib) + "M",
      // The description (after port, group and mode, left to the switch)
      // tells switchd which node the port is: faults then follow the port,
      // whatever source address the guest puts on its frames.
      "eth0=vde," + launch.switch_vnl + "," + NodeMac(launch.node) + ",,,," + NodePortDescription(launch.node),
      // Every console and serial line is off except the two ssid holds.
      "con=null",
      "ssl=null",
      "con0=" + console + "," + console,
      "ssl1=" + mgmt + "," + mgmt,
      "ssi.cluster=" + paths.name,
      "ssi.subnet=" + config.subnet,
  };
  if (launch.node == kLockNode) {
    argv.insert(argv.end(), {"ssi.lockd.heartbeat_ms=" + std::to_string(config.heartbeat_ms),
                             "ssi.lockd.expiry_missed=" + std::to_string(config.expiry_missed),
                             "initrd=" + launch.initrd});
    return argv;
  }
  argv.push_back("ssi.node=" + n);
  if (!launch.lock_server.empty()) argv.push_back("ssi.lock=" + launch.lock_server);
  if (launch.disk_socket.empty()) {
    argv.insert(argv.end(), {"ubd0=" + paths.Overlay(launch.node) + "," + launch.root, "root=/dev/ubda", "rw"});
    if (!launch.initrd.empty()) argv.push_back("initrd=" + launch.initrd);
  } else {
    // Block device id 2 is virtio-blk; the initramfs mounts it as root.
    argv.insert(argv.end(), {"virtio_uml.device=" + launch.disk_socket + ":2", "initrd=" + launch.initrd});
  }
  return argv;
}

}  // namespace ssiuml
