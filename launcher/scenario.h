// Test scenarios for ssi-test: a plain-text file naming the nodes, set-up
// commands, a background workload, a fault schedule and the checks.
//
//   # comment
//   nodes 3                          boot nodes 1..3 (first, once)
//   timeout 300s                     budget for the whole run
//   seed 42                          makes random targets repeatable
//   setup all: CMD                   on every node; must exit 0
//   workload 1,2: CMD                runs in the background during the steps
//   step wait 2s
//   step crash TARGET                ssi-rm
//   step restart TARGET              ssi-add, waits until the node is up
//   step pause TARGET [DURATION]     mconsole stop; resumed after DURATION if given
//   step resume TARGET
//   step rolling-restart [DURATION]  every node in turn: crash, restart, wait
//   step exec TARGETS: CMD           must exit 0
//   step partition halves|ring|isolate TARGET|GROUPS   GROUPS such as 1,2 3;
//                                    ring: Jepsen's majorities ring over the
//                                    running nodes, in random order
//   step loss TARGET PCT%            frames from/to the nodes dropped
//   step delay TARGET DURATION [JITTER]
//   step disk-stall TARGET [DURATION]   the node's disk stops answering
//   step disk-error TARGET [DURATION]   the node's disk fails every request
//   step heal                        undo every fault: resume, restart,
//                                    heal network and disks
//   check TARGETS: CMD == TEXT       output (trimmed) equals TEXT
//   check TARGETS: CMD ~ TEXT        output contains TEXT
//   check TARGETS: CMD exit N        exit status is N
//   check signature TARGETS          matches the recorded ltest-style signature
//   check members TARGETS == 1,2,3 [within 10s]
//                                    each node's /run/ssi/members converges to the set
//   check lock-history FILE          every node's ssi-lock --history FILE, merged,
//                                    passes the mutual-exclusion checker
//
// TARGETS is all, or node numbers separated by commas. TARGET (for faults)
// is a node number, one, random, minority, majority or all, chosen among the
// nodes the fault applies to with the scenario's seed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ssiuml {

struct ScenarioStep {
  enum class Kind {
    kWait, kCrash, kRestart, kPause, kResume, kRollingRestart, kExec, kHeal,
    kPartition, kLoss, kDelay, kDiskStall, kDiskError,
  };
  Kind kind = Kind::kWait;
  int line = 0;
  std::string target;       // fault target spec
  std::vector<int> nodes;   // exec
  uint64_t duration_ms = 0;  // wait, pause, rolling-restart, delay, disk faults
  uint64_t jitter_ms = 0;    // delay
  double percent = 0;        // loss
  std::string shape;         // partition: halves, ring, isolate or explicit groups
  std::string command;      // exec
  std::string text;         // as written, for the timeline
};

struct ScenarioCheck {
  enum class Kind { kEquals, kContains, kExit, kSignature, kMembers, kLockHistory };
  Kind kind = Kind::kEquals;
  int line = 0;
  std::vector<int> nodes;
  std::string command;
  std::string expected;  // kEquals, kContains; kLockHistory: the file
  std::vector<int> members;  // kMembers
  uint64_t within_ms = 10000;  // kMembers
  int exit_status = 0;   // kExit
  std::string text;      // as written, for the report
};

struct ScenarioCommand {
  int line = 0;
  std::vector<int> nodes;
  std::string command;
};

struct Scenario {
  std::string name;  // file name without folder and extension
  std::string path;
  int nodes = 0;
  uint64_t timeout_ms = 600000;
  uint64_t seed = 1;
  std::vector<ScenarioCommand> setup;
  std::vector<ScenarioCommand> workload;
  std::vector<ScenarioStep> steps;
  std::vector<ScenarioCheck> checks;
};

// Parses text; errors read "FILE:LINE: what is wrong".
Status ParseScenario(std::string_view text, const std::string& path, int max_nodes, Scenario* scenario);
// "250ms", "3s", "2m" -> milliseconds.
bool ParseDuration(std::string_view text, uint64_t* ms);
// Whether spec names a fault target (see above).
bool ValidTargetSpec(const std::string& spec, int nodes);

}  // namespace ssiuml
