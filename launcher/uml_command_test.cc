#include "launcher/uml_command.h"

#include <algorithm>
#include <catch2/catch.hpp>

using namespace ssiuml;

TEST_CASE("node MAC follows the architecture") {
  CHECK(NodeMac(1) == "02:55:4d:00:00:01");
  CHECK(NodeMac(64) == "02:55:4d:00:00:40");
}

TEST_CASE("UML command line carries identity, disk, network and lines") {
  ClusterPaths paths{"demo", "/run/u/ssiuml/demo", "/home/u/.ssiuml/clusters/demo"};
  Config config;
  NodeLaunch launch{3, "/usr/bin/linux.uml", "/img/root.img", "/run/u/ssiuml/demo/switch", "", "", ""};
  auto argv = UmlArgv(launch, config, paths);
  auto has = [&](const std::string& arg) {
    return std::find(argv.begin(), argv.end(), arg) != argv.end();
  };
  CHECK(argv[0] == "/usr/bin/linux.uml");
  CHECK(has("umid=demo-n3"));
  CHECK(has("uml_dir=/run/u/ssiuml/demo/uml"));
  CHECK(has("mem=128M"));
  CHECK(has("ubd0=/home/u/.ssiuml/clusters/demo/disk/node3.cow,/img/root.img"));
  CHECK(has("eth0=vde,/run/u/ssiuml/demo/switch,02:55:4d:00:00:03,,,,ssiuml-node=3"));
  CHECK(has("con0=fd:3,fd:3"));
  CHECK(has("ssl1=fd:4,fd:4"));
  CHECK(has("ssi.node=3"));
  CHECK(has("ssi.cluster=demo"));
  CHECK(has("ssi.subnet=10.77.0"));
  CHECK(std::none_of(argv.begin(), argv.end(),
                     [](const std::string& a) { return a.rfind("initrd=", 0) == 0; }));
  launch.initrd = "/img/initrd";
  CHECK(UmlArgv(launch, config, paths).back() == "initrd=/img/initrd");
}

TEST_CASE("DISK=plx nodes boot from plxd's socket through the initramfs") {
  ClusterPaths paths{"demo", "/run/u/ssiuml/demo", "/home/u/.ssiuml/clusters/demo"};
  Config config;
  NodeLaunch launch{2, "/usr/bin/linux.uml", "/img/root.img", "/sw", "/run/disk/node2.sock", "/img/initrd.gz", ""};
  auto argv = UmlArgv(launch, config, paths);
  auto has = [&](const std::string& arg) {
    return std::find(argv.begin(), argv.end(), arg) != argv.end();
  };
  CHECK(has("virtio_uml.device=/run/disk/node2.sock:2"));
  CHECK(has("initrd=/img/initrd.gz"));
  CHECK(std::none_of(argv.begin(), argv.end(),
                     [](const std::string& a) { return a.rfind("ubd0=", 0) == 0; }));
}

TEST_CASE("the lock node boots the lock server's initramfs on the switch, with no disk") {
  ClusterPaths paths{"demo", "/run/u/ssiuml/demo", "/home/u/.ssiuml/clusters/demo"};
  Config config;
  NodeLaunch lock{kLockNode, "/usr/bin/linux.uml", "", "/sw", "", "/img/lock-initrd.gz", ""};
  auto argv = UmlArgv(lock, config, paths);
  auto has = [&](const std::string& arg) { return std::find(argv.begin(), argv.end(), arg) != argv.end(); };
  CHECK(has("eth0=vde,/sw,02:55:4d:00:00:ff,,,,ssiuml-node=255"));
  CHECK(has("initrd=/img/lock-initrd.gz"));
  CHECK(has("mem=64M"));
  CHECK(has("ssi.lockd.heartbeat_ms=200"));
  CHECK(has("ssi.lockd.expiry_missed=5"));
  CHECK(std::none_of(argv.begin(), argv.end(), [](const std::string& a) {
    return a.rfind("ssi.node=", 0) == 0 || a.rfind("ubd0=", 0) == 0 || a.rfind("virtio_uml", 0) == 0;
  }));

  NodeLaunch node{2, "/usr/bin/linux.uml", "", "/sw", "/run/disk/node2.sock", "/img/initrd.gz", "10.77.0.253:7400"};
  argv = UmlArgv(node, config, paths);
  CHECK(std::find(argv.begin(), argv.end(), "ssi.lock=10.77.0.253:7400") != argv.end());
}
