// ssi-nemesis: random faults against a running cluster, Jepsen's flip-flop
// schedule: a fault, an interval, its heal, an interval, and so on; at the
// end (or on Ctrl-C) everything it did is healed.

#include <chrono>
#include <cstdio>
#include <random>
#include <set>
#include <thread>

#include "launcher/cli.h"
#include "launcher/control_client.h"
#include "launcher/interruption.h"
#include "launcher/nemesis.h"
#include "launcher/scenario.h"

namespace po = boost::program_options;

namespace ssiuml {
namespace {


void SleepUnlessInterrupted(uint64_t ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!Interrupted() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

}  // namespace

int CmdNemesis(const Context& ctx, const std::vector<std::string>& args) {
  const char* usage =
      "ssi-nemesis [--cluster NAME] [--seed N] [--interval 10s] [--count K] [--target one|minority|"
      "majority|all|random|N] FAULT...   or   ssi-nemesis heal\n"
      "  FAULT: crash pause partition (random halves) ring (majorities ring, random order) isolate loss (30%)\n"
      "         delay (100ms±20ms) disk-stall disk-error";
  po::options_description options("ssi-nemesis options");
  uint64_t seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  std::string interval_text = "10s", target = "one";
  int count = 3;
  options.add_options()("seed", po::value(&seed), "random seed, for a repeatable schedule")(
      "interval", po::value(&interval_text), "time between a fault and its heal (10s)")(
      "count", po::value(&count), "number of faults (3)")(
      "target", po::value(&target), "which nodes a fault hits (one)");
  po::variables_map vm;
  std::vector<std::string> faults;
  if (!ParseArgs(ctx, args, options, usage, &vm, &faults)) return kExitUsage;
  uint64_t interval_ms = 0;
  if (!ParseDuration(interval_text, &interval_ms))
    return Error(ctx, "bad --interval '" + interval_text + "' (such as 500ms, 10s or 1m)", kExitUsage);
  if (count < 1) return Error(ctx, "--count must be at least 1", kExitUsage);
  if (!ValidTargetSpec(target, 999)) return Error(ctx, "bad --target '" + target + "'", kExitUsage);
  bool heal_only = faults.size() == 1 && faults[0] == "heal";
  if (faults.empty()) return Error(ctx, std::string("which faults? (usage: ") + usage + ")", kExitUsage);
  const std::set<std::string> known = {"crash", "pause", "partition", "ring", "isolate",
                                       "loss", "delay", "disk-stall", "disk-error"};
  for (const auto& f : faults)
    if (!heal_only && !known.count(f))
      return Error(ctx, "unknown fault '" + f + "' (crash, pause, partition, ring, isolate, loss, delay, disk-stall, disk-error)",
                   kExitUsage);
  bool cleaned = false;
  if (!SupervisorRunning(ctx.paths, &cleaned))
    return Error(ctx, "cluster " + ctx.paths.name + " is not running (start it with ssi-start)");

  Nemesis nemesis(ctx.paths, seed, [](const std::string& m) {
    std::printf("ssi-nemesis: %s\n", m.c_str());
    std::fflush(stdout);
  });
  if (heal_only) {
    // A separate run's faults are unknown here: resume and restart all, heal
    // the network and every disk.
    Status s = nemesis.Resume("all");
    Status r = nemesis.Restart("all");
    if (!s.ok() && !r.ok()) std::printf("ssi-nemesis: no node to resume or restart\n");
    nemesis.HealEverything();
    return kExitOk;
  }
  CatchInterruptions();

  std::printf("ssi-nemesis: seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 pick(seed);
  int failures = 0;
  for (int i = 0; i < count && !Interrupted(); ++i) {
    const std::string& fault = faults[pick() % faults.size()];
    Status s = fault == "crash"        ? nemesis.Crash(target)
               : fault == "pause"      ? nemesis.Pause(target)
               : fault == "partition"  ? nemesis.Partition("halves")
               : fault == "ring"       ? nemesis.Partition("ring")
               : fault == "isolate"    ? nemesis.Partition("isolate", target)
               : fault == "loss"       ? nemesis.Loss(target, 30)
               : fault == "delay"      ? nemesis.Delay(target, 100, 20)
               : fault == "disk-stall" ? nemesis.DiskFault(target, "stall")
                                       : nemesis.DiskFault(target, "error");
    if (!s.ok()) {
      Error(ctx, s.message());
      ++failures;
    }
    SleepUnlessInterrupted(interval_ms);
    s = nemesis.Heal();
    if (!s.ok()) {
      Error(ctx, s.message());
      ++failures;
    }
    if (i + 1 < count) SleepUnlessInterrupted(interval_ms);
  }
  Status s = nemesis.Heal();
  if (!s.ok()) Error(ctx, s.message());
  return failures == 0 && s.ok() ? (Interrupted() ? 130 : kExitOk) : kExitFailure;
}

}  // namespace ssiuml
