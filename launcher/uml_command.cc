#include "launcher/uml_command.h"

#include <cstdio>

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
      "mem=" + std::to_string(config.mem_mib) + "M",
      "ubd0=" + paths.Overlay(launch.node) + "," + launch.root,
      "root=/dev/ubda",
      "rw",
      "eth0=vde," + launch.switch_vnl + "," + NodeMac(launch.node),
      // Every console and serial line is off except the two ssid holds.
      "con=null",
      "ssl=null",
      "con0=" + console + "," + console,
      "ssl1=" + mgmt + "," + mgmt,
      "ssi.cluster=" + paths.name,
      "ssi.node=" + n,
      "ssi.subnet=" + config.subnet,
  };
  if (!config.initrd.empty()) argv.push_back("initrd=" + config.initrd);
  return argv;
}

}  // namespace ssiuml
