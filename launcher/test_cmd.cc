// ssi-test: runs scenario files end to end and reports per check, with the
// event timeline and console excerpts; the exit status says whether all passed.
#include <unistd.h>

#include <cstdio>

#include "common/env.h"
#include "launcher/cli.h"
#include "launcher/cluster_setup.h"
#include "launcher/interruption.h"
#include "launcher/scenario.h"
#include "launcher/scenario_runner.h"

namespace po = boost::program_options;

namespace ssiuml {

int CmdTest(const Context& ctx, const std::vector<std::string>& args) {
  const char* usage = "ssi-test [--cluster NAME] [--root VDI@SNAP|IMAGE] [--keep] [--record] [--seed N] SCENARIO...";
  po::options_description options("ssi-test options");
  bool keep = false, record = false;
  uint64_t seed = 0;
  std::string root;
  options.add_options()("root", po::value(&root), "boot from this image or snapshot instead of ROOT")(
      "keep", po::bool_switch(&keep), "leave the cluster running afterwards")(
      "record", po::bool_switch(&record), "record signatures instead of comparing them")(
      "seed", po::value(&seed), "override the scenarios' seeds");
  po::variables_map vm;
  std::vector<std::string> files;
  if (!ParseArgs(ctx, args, options, usage, &vm, &files)) return kExitUsage;
  if (files.empty()) return Error(ctx, std::string("which scenario? (usage: ") + usage + ")", kExitUsage);
  ClusterSetup setup;
  Status s = LoadClusterSetup(Env::Default(), &setup);
  if (s.ok() && !root.empty()) {
    s = ResolveRoot(root, &setup);
    root = setup.root_snapshot.empty() ? setup.root : setup.root_snapshot;  // absolute, for ssid
  }
  if (!s.ok()) return Error(ctx, s.message(), kExitUsage);

  std::vector<Scenario> scenarios(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    std::string text;
    s = Env::Default()->ReadFileToString(files[i], &text);
    if (!s.ok()) return Error(ctx, "cannot read scenario " + files[i] + ": " + s.message(), kExitUsage);
    s = ParseScenario(text, files[i], setup.config.max_nodes, &scenarios[i]);
    if (!s.ok()) return Error(ctx, s.message(), kExitUsage);
    if (vm.count("seed")) scenarios[i].seed = seed;
  }
  // A cluster of its own unless told otherwise, so a user's cluster is safe.
  ClusterPaths paths = ctx.paths;
  if (!vm.count("cluster") && ctx.paths.name == "default") {
    s = ResolveClusterPaths("test" + std::to_string(::getpid()), &paths);
    if (!s.ok()) return Error(ctx, s.message());
  }
  CatchInterruptions();

  int failed = 0;
  for (const auto& scenario : scenarios) {
    if (Interrupted()) break;
    RunOptions run{keep, record, root};
    RunReport report = RunScenario(scenario, paths, run, [] { return Interrupted(); },
                                   [&](const std::string& m) {
                                     if (ctx.verbose) std::fprintf(stderr, "%s\n", m.c_str());
                                   });
    std::printf("%s", FormatReport(scenario, paths, report).c_str());
    std::fflush(stdout);
    if (report.failed > 0) ++failed;
  }
  return Interrupted() ? 130 : failed == 0 ? kExitOk : kExitFailure;
}

}  // namespace ssiuml
