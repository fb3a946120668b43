// Runs a Scenario end to end on a fresh cluster: start, set up, workload,
// fault steps, final heal, checks, report, stop. Whatever happens (a failed
// step, the time budget, an interrupt) every fault is healed and the cluster
// and workload processes are gone at the end, unless asked to keep them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "launcher/cluster_paths.h"
#include "launcher/scenario.h"

namespace ssiuml {

struct RunOptions {
  bool keep = false;    // leave the cluster running afterwards
  bool record = false;  // write signatures instead of comparing them
  std::string root;     // image or VDI@SNAP instead of the config's ROOT
};

struct CheckResult {
  int line = 0;
  int node = 0;
  bool pass = false;
  std::string what;    // the check as written
  std::string detail;  // why it failed
};

struct RunReport {
  std::vector<CheckResult> results;
  std::vector<std::string> timeline;
  std::vector<std::string> excerpts;  // console tails of the nodes that failed
  std::string aborted;                // why the run stopped early, if it did
  int passed = 0;
  int failed = 0;
};

// The signature files of scenario for node (ltest's _test/signature).
std::string SignaturePath(const Scenario& scenario, int node);

RunReport RunScenario(const Scenario& scenario, const ClusterPaths& paths, const RunOptions& options,
                      const std::function<bool()>& interrupted,
                      const std::function<void(const std::string&)>& progress);

std::string FormatReport(const Scenario& scenario, const ClusterPaths& paths, const RunReport& report);

}  // namespace ssiuml
