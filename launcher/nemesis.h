// Nemesis: faults against a running cluster, Jepsen style. Every fault goes
// through ssid, is recorded as an event, and is remembered, so Heal() undoes
// all of them: after a normal end, a failure, or an interrupt.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "launcher/cluster_paths.h"
#include "launcher/control_protocol.h"

namespace ssiuml {

class Nemesis {
 public:
  using Logger = std::function<void(const std::string&)>;

  Nemesis(ClusterPaths paths, uint64_t seed, Logger log);

  // Chooses nodes for a target spec (N, one, random, minority, majority,
  // all) among candidates, with the seeded generator.
  std::vector<int> Choose(const std::string& spec, const std::vector<int>& candidates);

  Status Crash(const std::string& spec, std::vector<int>* chosen = nullptr);
  Status Restart(const std::string& spec, uint64_t timeout_ms = 120000);
  Status Pause(const std::string& spec, std::vector<int>* chosen = nullptr);
  Status Resume(const std::string& spec);
  // Crash and restart every node in turn, waiting pause_ms between nodes.
  Status RollingRestart(uint64_t pause_ms, const std::function<bool()>& keep_going);
  // Cuts the network between running nodes. shape: "halves" (random, the
  // larger half a majority), "ring" (Jepsen's majorities ring, in random
  // order: each node sees a different majority), "isolate" (target alone)
  // or explicit groups such as "1,2 3"; nodes in no group form their own.
  Status Partition(const std::string& shape, const std::string& target = "one");
  Status Loss(const std::string& spec, double percent);
  Status Delay(const std::string& spec, uint64_t ms, uint64_t jitter_ms);
  // fault: stall or error, on the chosen running nodes' disks.
  Status DiskFault(const std::string& spec, const std::string& fault, std::vector<int>* chosen = nullptr);
  Status HealDisks();
  // Heals the network and every running node's disk, whoever faulted them.
  void HealEverything();
  // Resumes what it paused, heals the network and the disks it faulted,
  // waits until the lock server hears from every running node again, then
  // restarts what it crashed and what was fenced meanwhile.
  Status Heal();

 private:
  // Nodes by state, from ssid.
  Status States(std::map<int, std::string>* states);
  std::vector<int> InState(const std::map<int, std::string>& states, const std::string& state);
  // Applies command to the running nodes spec chooses and remembers them.
  Status HitRunning(const std::string& spec, Command command, const std::string& verb,
                    std::set<int>* applied, std::vector<int>* chosen);
  Status Apply(Command command, const std::vector<int>& nodes, uint64_t timeout_ms);
  void Record(const std::string& event, const std::vector<int>& nodes);
  Status Net(const nlohmann::json& request);
  Status Disk(int node, const std::string& fault);
  Status Running(std::vector<int>* nodes);
  // Whether every running node's lock sessions were heard from in the last
  // since_heal_ms; sets expiry_ms from the lock server's settings.
  bool SessionsSettled(uint64_t since_heal_ms, uint64_t* expiry_ms);
  void AwaitSessions();

  // How long past the expiry a fence may take to reach ssid and kill its node.
  static constexpr uint64_t kFenceGraceMs = 5000;

  ClusterPaths paths_;
  std::mt19937_64 rng_;
  Logger log_;
  std::set<int> crashed_;
  std::set<int> paused_;
  bool net_faulted_ = false;
  std::set<int> disk_faulted_;
};

}  // namespace ssiuml
