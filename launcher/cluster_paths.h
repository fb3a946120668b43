// Where one cluster keeps its files. RUN holds what dies with the cluster
// (sockets, umid dirs, pid files); STATE survives ssi-stop (disks, logs,
// events). See ARCHITECTURE.md.
#pragma once

#include <string>

#include "common/status.h"

namespace ssiuml {

// The lock node (INITRD_MEMEXP) runs as node 255, which no cluster node can
// be: its MAC ends in ff, so switchd's cuts keep it with the gateway.
constexpr int kLockNode = 255;

struct ClusterPaths {
  std::string name;
  std::string run;    // $XDG_RUNTIME_DIR/ssiuml/<name> or ~/.ssiuml/run/<name>
  std::string state;  // ~/.ssiuml/clusters/<name>

  std::string SupervisorSocket() const { return run + "/ssid.sock"; }
  std::string SupervisorLock() const { return run + "/ssid.lock"; }
  std::string SupervisorPidFile() const { return run + "/ssid.pid"; }
  // One file per process group ssid started, holding its pgid, so a cleaner
  // can find every process after ssid itself was killed.
  std::string PidDir() const { return run + "/pids"; }
  std::string UmlDir() const { return run + "/uml"; }
  std::string SwitchDir() const { return run + "/switch"; }
  std::string SwitchControl() const { return run + "/switch.ctl"; }
  std::string LockDir() const { return run + "/lock"; }
  std::string LockControl() const { return LockDir() + "/ctl"; }
  // switchd's gateway hands each guest connection to 10.77.0.254:7400 here.
  std::string LockGateway() const { return LockDir() + "/gw.sock"; }
  std::string LockPortFile() const { return LockDir() + "/port"; }
  std::string LogDir() const { return state + "/log"; }
  std::string DiskDir() const { return state + "/disk"; }
  std::string Events() const { return state + "/events.jsonl"; }
  std::string SupervisorLog() const { return LogDir() + "/ssid.log"; }
  std::string ConsoleLog(int node) const {
    return LogDir() + (node == kLockNode ? std::string("/lock-node") : "/node" + std::to_string(node)) + ".console";
  }
  std::string Overlay(int node) const {
    return DiskDir() + "/node" + std::to_string(node) + ".cow";
  }
  // DISK=plx: one store holds the root and every node's disk.
  std::string Store() const { return DiskDir() + "/cluster.plx"; }
  std::string StoreRootStamp() const { return DiskDir() + "/root.stamp"; }
  std::string PlxdControl() const { return run + "/disk/plxd.ctl"; }
  std::string DiskSocket(int node) const { return run + "/disk/node" + std::to_string(node) + ".sock"; }
  std::string Umid(int node) const { return name + "-n" + std::to_string(node); }
  std::string MconsoleSocket(int node) const { return UmlDir() + "/" + Umid(node) + "/mconsole"; }
};

// Checks the cluster name: 1-32 of [A-Za-z0-9_-], so it is safe in paths
// and in UML's umid.
Status ValidateClusterName(const std::string& name);
// Computes the paths and checks that the longest socket path fits.
Status ResolveClusterPaths(const std::string& name, ClusterPaths* paths);

}  // namespace ssiuml
