// The ssi-* commands are one binary, dispatched on argv[0] (or `ssi COMMAND
// ...`). Each is a thin client of the cluster's ssid. This file has the
// cluster life-cycle commands; nemesis_cmd.cc and test_cmd.cc the others.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/mgmt_frame.h"
#include "launcher/cluster_paths.h"
#include "launcher/cli.h"
#include "launcher/cluster_setup.h"
#include "launcher/control_client.h"
#include "launcher/format.h"
#include "launcher/node_list.h"
#include "launcher/plx_store.h"

namespace po = boost::program_options;
using namespace ssiuml;

namespace {

// Prints per-node progress; returns false if any node failed.
void PrintNodeProgress(const Context& ctx, const nlohmann::json& m, bool* failed) {
  if (m.value("type", "") != "node") return;
  int node = m.value("node", 0);
  if (m.value("ok", false)) {
    if (m.value("state", "") != "starting" || ctx.verbose)
      std::printf("node %d: %s\n", node, m.value("state", "").c_str());
  } else {
    *failed = true;
    Error(ctx, m.value("error", "node " + std::to_string(node) + " failed"));
  }
  std::fflush(stdout);
}

void PrintStatusTable(const nlohmann::json& s) {
  std::printf("cluster %s: ssid %d, %s disks, switch %s\n", s.value("cluster", "").c_str(),
              s.value("ssid_pid", 0), s.value("disk", "").c_str(), s.value("switch", "").c_str());
  if (auto lock = s.find("lock_node"); lock != s.end() && lock->is_object())
    std::printf("lock node: %s at %s, pid %d, console %s%s\n", lock->value("state", "").c_str(),
                lock->value("ip", "").c_str(), lock->value("pid", 0), lock->value("console", "").c_str(),
                lock->contains("cause") ? (" (" + lock->value("cause", "") + ")").c_str() : "");
  // STATE is ssid's view of the processes, MEMBER the cluster's (the lock
  // server's): after a power cut they differ until the session expires.
  std::printf("%-5s %-9s %-9s %-8s %-8s %-8s %-14s %s\n", "NODE", "STATE", "MEMBER", "PID", "UPTIME", "MEM",
              "IP", "NOTE");
  for (const auto& n : s["nodes"]) {
    std::string pid = n.contains("pid") ? std::to_string(n["pid"].get<int>()) : "-";
    std::string up = n.contains("uptime_s") ? FormatUptime(n["uptime_s"].get<uint64_t>()) : "-";
    std::string mem = n.contains("mem_kib") ? FormatMemory(n["mem_kib"].get<uint64_t>()) : "-";
    std::printf("%-5d %-9s %-9s %-8s %-8s %-8s %-14s %s\n", n.value("node", 0), n.value("state", "").c_str(),
                n.value("member", "-").c_str(), pid.c_str(), up.c_str(), mem.c_str(),
                n.value("ip", "").c_str(), n.value("cause", "").c_str());
  }
  for (const auto& w : s.value("warnings", nlohmann::json::array()))
    if (w.is_string()) std::printf("warning: %s\n", w.get<std::string>().c_str());
}

// Starts ssid if need be (with setup's root), then adds the nodes. A root
// snapshot that does not exist is refused before anything starts, and so is
// a ROOT other than the one a running ssid boots every node from (without
// ROOT, nodes follow the cluster's root, whichever ssi-start --root chose).
int RunAdd(const Context& ctx, const ClusterSetup& setup, const std::vector<int>& nodes, bool fresh, bool wait,
           int timeout_s, bool* failed, const std::string& from = "") {
  bool cleaned = false;
  Status s;
  std::string root = setup.root_snapshot.empty() ? setup.root : setup.root_snapshot;
  nlohmann::json status;
  if (SupervisorRunning(ctx.paths, &cleaned)) {
    if (!setup.config.root.empty() && ClusterStatus(ctx.paths, &status).ok() && status.value("root", root) != root)
      return Error(ctx, "cluster " + ctx.paths.name + " runs root " + status.value("root", "") + ", not " + root +
                            "; ssi-stop it first to boot another root");
  } else if (!setup.root_snapshot.empty()) {
    s = CheckRootSnapshot(ctx.paths, setup.root_snapshot);
  }
  if (s.ok()) s = EnsureSupervisor(ctx.paths, ctx.verbose, root, !setup.lock_initrd.empty());
  if (!s.ok()) return Error(ctx, s.message());
  Request request;
  request.cmd = Command::kAdd;
  request.nodes = nodes;
  request.fresh = fresh;
  request.wait = wait;
  request.from = from;
  request.timeout_ms = static_cast<uint64_t>(timeout_s) * 1000;
  nlohmann::json result;
  s = CallSupervisor(ctx.paths, request, [&](const nlohmann::json& m) {
    PrintNodeProgress(ctx, m, failed);
  }, &result);
  if (!s.ok()) return Error(ctx, s.message());
  if (!result.value("ok", false)) {
    if (result.contains("error")) Error(ctx, result["error"].get<std::string>());
    *failed = true;
  }
  return *failed ? kExitFailure : kExitOk;
}

bool AnyNodeLive(const Context& ctx) {
  Request request;
  request.cmd = Command::kStatus;
  nlohmann::json status;
  if (!CallSupervisor(ctx.paths, request, [](const nlohmann::json&) {}, &status, 10000).ok())
    return false;
  for (const auto& n : status.value("nodes", nlohmann::json::array()))
    if (n.contains("pid")) return true;
  return false;
}

int CmdStart(const Context& ctx, const std::vector<std::string>& args) {
  const char* usage =
      "ssi-start [--cluster NAME] [--root VDI@SNAP|IMAGE] [--lock-node] [--timeout SECONDS] [--fresh] [N]";
  po::options_description options("ssi-start options");
  int timeout_s = 120;
  bool fresh = false, lock_node = false;
  std::string root;
  options.add_options()("timeout", po::value(&timeout_s), "seconds to wait for the nodes (120)")(
      "fresh", po::bool_switch(&fresh), "discard the nodes' disk changes first")(
      "root", po::value(&root), "boot from this snapshot (rootfs-tools import) or image instead of ROOT")(
      "lock-node", po::bool_switch(&lock_node), "run the lock server in a UML lock node (as INITRD_MEMEXP)");
  po::variables_map vm;
  std::vector<std::string> positional;
  if (!ParseArgs(ctx, args, options, usage, &vm, &positional)) return kExitUsage;
  ClusterSetup setup;
  Status s = LoadClusterSetup(Env::Default(), &setup);
  if (s.ok() && !root.empty()) s = ResolveRoot(root, &setup);
  if (s.ok() && lock_node) s = UseLockNode(&setup);
  if (!s.ok()) return Error(ctx, s.message(), kExitUsage);
  int count = setup.config.nodes;
  if (positional.size() > 1) return Error(ctx, std::string("too many arguments (usage: ") + usage + ")", kExitUsage);
  if (positional.size() == 1) {
    NodeList list = ParseNodeList({"1-" + positional[0]}, setup.config.max_nodes);
    if (!list.errors.empty() || list.nodes.empty())
      return Error(ctx, "'" + positional[0] + "' is not a node count from 1 to " +
                            std::to_string(setup.config.max_nodes), kExitUsage);
    count = static_cast<int>(list.nodes.size());
  }
  if (timeout_s <= 0) return Error(ctx, "--timeout must be positive", kExitUsage);
  bool cleaned = false;
  if (SupervisorRunning(ctx.paths, &cleaned))
    return Error(ctx, "cluster " + ctx.paths.name + " is already running (ssi-add adds nodes, "
                      "ssi-stop stops it)");
  if (cleaned)
    std::fprintf(stderr, "%s: cleaned up after a supervisor of cluster %s that died\n",
                 ctx.program.c_str(), ctx.paths.name.c_str());
  std::vector<int> nodes;
  for (int n = 1; n <= count; ++n) nodes.push_back(n);
  bool failed = false;
  int rc = RunAdd(ctx, setup, nodes, fresh, true, timeout_s, &failed);
  if (rc != kExitOk && !AnyNodeLive(ctx)) {
    // Nothing came up: leave no empty supervisor behind to block the next start.
    StopCluster(ctx.paths);
  }
  if (rc == kExitOk)
    std::printf("cluster %s: %d node%s up; ssi-status shows them, ssi-stop stops them\n",
                ctx.paths.name.c_str(), count, count == 1 ? "" : "s");
  return rc;
}

int CmdAdd(const Context& ctx, const std::vector<std::string>& args) {
  const char* usage =
      "ssi-add [--cluster NAME] [--fresh] [--from nodeN@SNAP] [--no-wait] [--timeout SECONDS] N...";
  po::options_description options("ssi-add options");
  int timeout_s = 120;
  bool fresh = false, no_wait = false;
  std::string from;
  options.add_options()("fresh", po::bool_switch(&fresh), "discard the nodes' disk changes first")(
      "from", po::value(&from), "boot from a snapshot taken with ssi-snap (DISK=plx)")(
      "no-wait", po::bool_switch(&no_wait), "return once the nodes are spawned")(
      "timeout", po::value(&timeout_s), "seconds to wait for the nodes (120)");
  po::variables_map vm;
  std::vector<std::string> positional;
  if (!ParseArgs(ctx, args, options, usage, &vm, &positional)) return kExitUsage;
  if (positional.empty()) return Error(ctx, std::string("which nodes? (usage: ") + usage + ")", kExitUsage);
  if (timeout_s <= 0) return Error(ctx, "--timeout must be positive", kExitUsage);
  ClusterSetup setup;
  Status s = LoadClusterSetup(Env::Default(), &setup);
  if (!s.ok()) return Error(ctx, s.message(), kExitUsage);
  NodeList list = ParseNodeList(positional, setup.config.max_nodes);
  for (const auto& e : list.errors) Error(ctx, e);
  bool failed = !list.errors.empty();
  if (list.nodes.empty()) return kExitFailure;
  int rc = RunAdd(ctx, setup, list.nodes, fresh, !no_wait, timeout_s, &failed, from);
  return failed ? kExitFailure : rc;
}

// ssi-rm, ssi-pause, ssi-resume: one request for a list of nodes, with a
// line per node that failed.
int RunNodeCommand(const Context& ctx, const std::vector<std::string>& args, Command cmd) {
  std::string usage = ctx.program + " [--cluster NAME] N...";
  po::options_description options(ctx.program + " options");
  po::variables_map vm;
  std::vector<std::string> positional;
  if (!ParseArgs(ctx, args, options, usage.c_str(), &vm, &positional)) return kExitUsage;
  if (positional.empty()) return Error(ctx, "which nodes? (usage: " + usage + ")", kExitUsage);
  ClusterSetup setup;
  LoadClusterSetup(Env::Default(), &setup);  // only max_nodes matters here
  NodeList list = ParseNodeList(positional, setup.config.max_nodes);
  for (const auto& e : list.errors) Error(ctx, e);
  bool failed = !list.errors.empty();
  if (list.nodes.empty()) return kExitFailure;
  Request request;
  request.cmd = cmd;
  request.nodes = list.nodes;
  nlohmann::json result;
  Status s = CallSupervisor(ctx.paths, request, [&](const nlohmann::json& m) {
    PrintNodeProgress(ctx, m, &failed);
  }, &result);
  if (!s.ok()) return Error(ctx, s.message());
  return failed || !result.value("ok", false) ? kExitFailure : kExitOk;
}

int CmdRm(const Context& ctx, const std::vector<std::string>& args) {
  return RunNodeCommand(ctx, args, Command::kRm);
}

// ssi-pause / ssi-resume: freeze and thaw whole guests (mconsole stop/go).
int CmdPause(const Context& ctx, const std::vector<std::string>& args) {
  return RunNodeCommand(ctx, args, Command::kPause);
}

int CmdResume(const Context& ctx, const std::vector<std::string>& args) {
  return RunNodeCommand(ctx, args, Command::kResume);
}

// ssi-snap N [NAME]: a live snapshot of node N's disk, which ssi-add --from
// boots other nodes from.
int CmdSnap(const Context& ctx, const std::vector<std::string>& args) {
  const char* usage = "ssi-snap [--cluster NAME] N [SNAPSHOT]";
  po::options_description options("ssi-snap options");
  po::variables_map vm;
  std::vector<std::string> positional;
  if (!ParseArgs(ctx, args, options, usage, &vm, &positional)) return kExitUsage;
  if (positional.empty() || positional.size() > 2)
    return Error(ctx, std::string("usage: ") + usage, kExitUsage);
  ClusterSetup setup;
  LoadClusterSetup(Env::Default(), &setup);
  NodeList list = ParseNodeList({positional[0]}, setup.config.max_nodes);
  if (!list.errors.empty() || list.nodes.size() != 1)
    return Error(ctx, list.errors.empty() ? "one node, please" : list.errors[0], kExitUsage);
  Request request;
  request.cmd = Command::kSnap;
  request.node = list.nodes[0];
  if (positional.size() == 2) request.name = positional[1];
  nlohmann::json result;
  Status s = CallSupervisor(ctx.paths, request, [](const nlohmann::json&) {}, &result, 60000);
  if (!s.ok()) return Error(ctx, s.message());
  if (!result.value("ok", false)) return Error(ctx, result.value("error", std::string("snapshot failed")));
  std::printf("%s\n", result.value("snapshot", std::string()).c_str());
  return kExitOk;
}

int CmdStop(const Context& ctx, const std::vector<std::string>& args) {
  const char* usage = "ssi-stop [--cluster NAME]";
  po::options_description options("ssi-stop options");
  po::variables_map vm;
  std::vector<std::string> positional;
  if (!ParseArgs(ctx, args, options, usage, &vm, &positional)) return kExitUsage;
  if (!positional.empty()) return Error(ctx, std::string("unexpected argument (usage: ") + usage + ")", kExitUsage);
  bool cleaned = false;
  if (!SupervisorRunning(ctx.paths, &cleaned)) {
    std::printf("cluster %s is not running%s\n", ctx.paths.name.c_str(),
                cleaned ? " (cleaned up after a supervisor that died)" : "");
    return kExitOk;
  }
  Status s = StopCluster(ctx.paths);
  if (!s.ok()) return Error(ctx, s.message());
  std::printf("cluster %s stopped\n", ctx.paths.name.c_str());
  return kExitOk;
}

int CmdStatus(const Context& ctx, const std::vector<std::string>& args) {
  const char* usage = "ssi-status [--cluster NAME] [--json]";
  po::options_description options("ssi-status options");
  bool json = false;
  options.add_options()("json", po::bool_switch(&json), "machine-readable output");
  po::variables_map vm;
  std::vector<std::string> positional;
  if (!ParseArgs(ctx, args, options, usage, &vm, &positional)) return kExitUsage;
  if (!positional.empty()) return Error(ctx, std::string("unexpected argument (usage: ") + usage + ")", kExitUsage);
  Request request;
  request.cmd = Command::kStatus;
  nlohmann::json result;
  bool cleaned = false;
  Status s = SupervisorRunning(ctx.paths, &cleaned)
                 ? CallSupervisor(ctx.paths, request, [](const nlohmann::json&) {}, &result, 10000)
                 : Status::NotFound("");
  if (s.IsNotFound()) {
    if (json) {
      std::printf("%s\n", nlohmann::json({{"cluster", ctx.paths.name}, {"running", false}}).dump().c_str());
    } else {
      std::printf("cluster %s is not running%s\n", ctx.paths.name.c_str(),
                  cleaned ? " (cleaned up after a supervisor that died)" : "");
    }
    return kExitOk;
  }
  if (!s.ok()) return Error(ctx, s.message());
  result.erase("v");
  result.erase("type");
  result.erase("ok");
  result["running"] = true;
  if (json) {
    std::printf("%s\n", result.dump(2).c_str());
  } else {
    PrintStatusTable(result);
  }
  return kExitOk;
}

int CmdExec(const Context& ctx, const std::vector<std::string>& args) {
  const char* usage = "ssi-exec [--cluster NAME] [--timeout SECONDS] N -- COMMAND...";
  auto dashes = std::find(args.begin(), args.end(), "--");
  std::vector<std::string> before(args.begin(), dashes);
  std::vector<std::string> command(dashes == args.end() ? dashes : dashes + 1, args.end());
  po::options_description options("ssi-exec options");
  int timeout_s = 600;
  options.add_options()("timeout", po::value(&timeout_s), "seconds before the command is killed (600)");
  po::variables_map vm;
  std::vector<std::string> positional;
  if (!ParseArgs(ctx, before, options, usage, &vm, &positional)) return kExitUsage;
  if (positional.size() != 1 || command.empty())
    return Error(ctx, std::string("usage: ") + usage, kExitUsage);
  if (timeout_s <= 0 || timeout_s > 86400)
    return Error(ctx, "--timeout must be 1-86400 seconds (a day at most)", kExitUsage);
  ClusterSetup setup;
  LoadClusterSetup(Env::Default(), &setup);
  NodeList list = ParseNodeList(positional, setup.config.max_nodes);
  if (!list.errors.empty()) return Error(ctx, list.errors[0], kExitUsage);
  if (list.nodes.size() != 1)
    return Error(ctx, "ssi-exec runs on one node; run it once per node for several", kExitUsage);
  Request request;
  request.cmd = Command::kExec;
  request.node = list.nodes[0];
  request.timeout_ms = static_cast<uint64_t>(timeout_s) * 1000;
  // Several words are joined as a shell would see them; one word is a script.
  for (size_t i = 0; i < command.size(); ++i) request.command += (i ? " " : "") + command[i];
  nlohmann::json result;
  Status s = CallSupervisor(ctx.paths, request, [](const nlohmann::json& m) {
    if (m.value("type", "") != "output") return;
    std::string data;
    if (!mgmt::Base64Decode(m.value("data", ""), &data)) return;
    std::FILE* out = m.value("fd", 1) == 2 ? stderr : stdout;
    std::fwrite(data.data(), 1, data.size(), out);
    std::fflush(out);
  }, &result);
  if (!s.ok()) return Error(ctx, s.message());
  if (!result.value("ok", false)) return Error(ctx, result.value("error", std::string("exec failed")));
  return result.value("exit", kExitFailure);
}

const std::map<std::string, CommandFn> kCommands = {
    {"start", CmdStart}, {"add", CmdAdd},       {"rm", CmdRm},
    {"stop", CmdStop},   {"status", CmdStatus}, {"exec", CmdExec},
    {"pause", CmdPause}, {"resume", CmdResume}, {"nemesis", CmdNemesis}, {"snap", CmdSnap},
    {"net", CmdNet},
    {"test", CmdTest},
};

int Usage() {
  std::fprintf(stderr,
               "usage: ssi-start [N] | ssi-add N... | ssi-rm N... | ssi-stop | ssi-status [--json]"
               " | ssi-exec N -- CMD | ssi-pause N... | ssi-resume N...\n"
               "       ssi-snap N [NAME] | ssi-net partition 1,2 3 | ssi-nemesis [FAULTS] | ssi-test SCENARIO\n"
               "       (or: ssi COMMAND ...); every command takes --cluster NAME and -v\n");
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  std::string program = argv[0];
  program = program.substr(program.rfind('/') + 1);
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string command;
  if (program.rfind("ssi-", 0) == 0) {
    command = program.substr(4);
  } else {
    if (args.empty()) return Usage();
    command = args[0];
    args.erase(args.begin());
    program = "ssi-" + command;
  }
  auto fn = kCommands.find(command);
  if (fn == kCommands.end()) return Usage();

  // Global options anywhere before "--": --cluster NAME, -v.
  Context ctx;
  ctx.program = program;
  std::string cluster = "default";
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      rest.insert(rest.end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    if (args[i] == "-v" || args[i] == "--verbose") {
      ctx.verbose = true;
    } else if (args[i] == "--cluster" && i + 1 < args.size()) {
      cluster = args[++i];
    } else if (args[i].rfind("--cluster=", 0) == 0) {
      cluster = args[i].substr(10);
    } else if (args[i] == "--cluster") {
      return Error(ctx, "--cluster needs a name", kExitUsage);
    } else {
      rest.push_back(args[i]);
    }
  }
  SetupLogging(program, ctx.verbose);
  Status s = ResolveClusterPaths(cluster, &ctx.paths);
  if (!s.ok()) return Error(ctx, s.message(), kExitUsage);
  return fn->second(ctx, rest);
}
