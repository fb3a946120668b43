// ssi-net: the cluster's switch. Status (ports, counters, MACs) and faults
// between nodes, each applied at once and recorded as an event:
//   ssi-net partition 1,2 3,4,5   ssi-net partition ring   ssi-net isolate 3   ssi-net heal
//   ssi-net loss 3 20%   ssi-net delay 3 50ms [5ms]   ssi-net down 3 / up 3
//   ssi-net forward 8080 3:80 (127.0.0.1:8080 on the host to node3:80)   ssi-net forwards
#include <algorithm>
#include <charconv>
#include <cstdio>

#include "launcher/cli.h"
#include "launcher/control_client.h"
#include "launcher/scenario.h"

namespace po = boost::program_options;

namespace ssiuml {
namespace {

bool ParseNode(const std::string& text, int* node) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *node);
  return ec == std::errc() && ptr == text.data() + text.size() && *node >= 1 && *node <= 254;
}

bool ParsePort(const std::string& text, int* port) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *port);
  return ec == std::errc() && ptr == text.data() + text.size() && *port >= 1 && *port <= 65535;
}

// "1,2,5" -> [1,2,5].
bool ParseGroup(const std::string& text, nlohmann::json* group) {
  *group = nlohmann::json::array();
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    int node = 0;
    if (!ParseNode(text.substr(start, comma - start), &node)) return false;
    group->push_back(node);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return true;
}

// "1,2,5".
std::string NodeList(const nlohmann::json& nodes) {
  std::string text;
  for (const auto& n : nodes) text += (text.empty() ? "" : ",") + n.dump();
  return text;
}

// The running nodes in number order, for a ring.
Status RunningNodes(const ClusterPaths& paths, nlohmann::json* nodes) {
  nlohmann::json status;
  Status s = ClusterStatus(paths, &status);
  if (!s.ok()) return s;
  std::vector<int> running;
  for (const auto& n : status.value("nodes", nlohmann::json::array()))
    if (n.value("state", "") == "running") running.push_back(n.value("node", 0));
  std::sort(running.begin(), running.end());
  if (running.size() < 3)
    return Status::InvalidArgument("a ring needs at least 3 running nodes, and " + std::to_string(running.size()) +
                                   " are running; start more with ssi-add");
  *nodes = running;
  return Status::OK();
}

void PrintCut(const nlohmann::json& cut) {
  if (!cut.is_object()) return;
  std::string groups;
  for (const auto& g : cut.value("groups", nlohmann::json::array())) groups += " " + NodeList(g);
  std::printf("\n%s%s\n", cut.value("shape", std::string("cut")).c_str(), groups.c_str());
  nlohmann::json reaches = cut.value("reach", nlohmann::json::object());
  for (const auto& [node, reach] : reaches.items())
    std::printf("  node %s reaches %s\n", node.c_str(), reach.empty() ? "none of them" : NodeList(reach).c_str());
}

void PrintStatus(const nlohmann::json& net) {
  std::printf("%-5s %-5s %10s %10s %12s %12s  %s\n", "PORT", "NODE", "RX_FRAMES", "TX_FRAMES", "RX_BYTES",
              "TX_BYTES", "DROPS");
  for (const auto& p : net.value("ports", nlohmann::json::array())) {
    std::string drops;
    for (const auto& [cause, count] : p["drops"].items())
      drops += (drops.empty() ? "" : " ") + cause + "=" + std::to_string(count.get<uint64_t>());
    std::string node = p.value("node", 0) ? std::to_string(p.value("node", 0)) : "-";
    std::printf("%-5d %-5s %10llu %10llu %12llu %12llu  %s\n", p.value("port", 0), node.c_str(),
                static_cast<unsigned long long>(p.value("rx_frames", uint64_t{0})),
                static_cast<unsigned long long>(p.value("tx_frames", uint64_t{0})),
                static_cast<unsigned long long>(p.value("rx_bytes", uint64_t{0})),
                static_cast<unsigned long long>(p.value("tx_bytes", uint64_t{0})), drops.c_str());
  }
  PrintCut(net.value("cut", nlohmann::json()));
}

}  // namespace

int CmdNet(const Context& ctx, const std::vector<std::string>& args) {
  const char* usage =
      "ssi-net [--cluster NAME] status [--json] | partition G1 G2... | partition ring | isolate N | heal | "
      "loss N PCT% | delay N MS [JITTER] | down N | up N | forward HOSTPORT N:PORT | forwards";
  po::options_description options("ssi-net options");
  bool json = false;
  options.add_options()("json", po::bool_switch(&json), "status as JSON");
  po::variables_map vm;
  std::vector<std::string> words;
  if (!ParseArgs(ctx, args, options, usage, &vm, &words)) return kExitUsage;
  if (words.empty()) return Error(ctx, std::string("usage: ") + usage, kExitUsage);
  const std::string& verb = words[0];
  nlohmann::json request = {{"cmd", verb}};
  int node = 0;
  bool node_verb = verb == "isolate" || verb == "loss" || verb == "delay" || verb == "down" || verb == "up";
  if (node_verb && (words.size() < 2 || !ParseNode(words[1], &node)))
    return Error(ctx, verb + " needs a node number (usage: " + usage + ")", kExitUsage);
  if (node_verb) request["node"] = node;
  size_t expected = verb == "status" || verb == "heal" || verb == "forwards" ? 1
                    : verb == "loss" || verb == "forward"                  ? 3
                    : verb == "delay"                                      ? 0
                                                                           : 2;
  if (verb == "partition" && words.size() == 2 && words[1] == "ring") {
    // Jepsen's majorities ring over the running nodes (switchd/PROTOCOL.md).
    nlohmann::json nodes;
    Status s = RunningNodes(ctx.paths, &nodes);
    if (!s.ok()) return Error(ctx, s.message());
    request = {{"cmd", "ring"}, {"nodes", nodes}};
  } else if (verb == "partition") {
    if (words.size() < 2) return Error(ctx, "partition needs groups such as 1,2 3, or ring", kExitUsage);
    nlohmann::json groups = nlohmann::json::array();
    for (size_t i = 1; i < words.size(); ++i) {
      nlohmann::json group;
      if (!ParseGroup(words[i], &group)) return Error(ctx, "'" + words[i] + "' is not a group such as 1,2", kExitUsage);
      groups.push_back(group);
    }
    request["groups"] = groups;
  } else if (verb == "loss") {
    std::string pct = words.size() > 2 ? words[2] : "";
    if (!pct.empty() && pct.back() == '%') pct.pop_back();
    char* end = nullptr;
    double value = pct.empty() ? -1 : std::strtod(pct.c_str(), &end);
    if (pct.empty() || *end != '\0' || value < 0 || value > 100)
      return Error(ctx, "loss needs a percentage such as 20%", kExitUsage);
    request["percent"] = value;
  } else if (verb == "delay") {
    uint64_t ms = 0, jitter = 0;
    if (words.size() < 3 || words.size() > 4 || !ParseDuration(words[2], &ms) ||
        (words.size() == 4 && !ParseDuration(words[3], &jitter)))
      return Error(ctx, "delay needs a time such as 50ms, and maybe a jitter such as 5ms", kExitUsage);
    request["ms"] = ms;
    request["jitter_ms"] = jitter;
  } else if (verb == "forward") {
    int host_port = 0, node = 0, port = 0;
    size_t colon = words.size() == 3 ? words[2].find(':') : std::string::npos;
    if (colon == std::string::npos || !ParsePort(words[1], &host_port) ||
        !ParseNode(words[2].substr(0, colon), &node) || !ParsePort(words[2].substr(colon + 1), &port))
      return Error(ctx, "forward needs HOSTPORT N:PORT such as 8080 3:80", kExitUsage);
    request["host_port"] = host_port;
    request["node"] = node;
    request["port"] = port;
  } else if (verb != "status" && verb != "heal" && verb != "forwards" && !node_verb) {
    return Error(ctx, "unknown ssi-net command '" + verb + "' (usage: " + usage + ")", kExitUsage);
  }
  if (expected != 0 && verb != "partition" && words.size() != expected)
    return Error(ctx, std::string("usage: ") + usage, kExitUsage);

  Request call;
  call.cmd = Command::kNet;
  call.net = request;
  nlohmann::json result;
  Status s = CallSupervisor(ctx.paths, call, [](const nlohmann::json&) {}, &result, 30000);
  if (!s.ok()) return Error(ctx, s.message());
  if (!result.value("ok", false)) return Error(ctx, result.value("error", std::string("failed")));
  if (verb == "forward") {
    std::printf("%s -> node%d:%d\n", result["net"].value("listen", std::string()).c_str(), request["node"].get<int>(),
                request["port"].get<int>());
  } else if (verb == "forwards") {
    for (const auto& f : result["net"].value("forwards", nlohmann::json::array()))
      std::printf("127.0.0.1:%d -> node%d:%d\n", f.value("host_port", 0), f.value("node", 0), f.value("port", 0));
  } else if (verb == "status") {
    if (json) {
      std::printf("%s\n", result["net"].dump(2).c_str());
    } else {
      PrintStatus(result["net"]);
    }
  }
  return kExitOk;
}

}  // namespace ssiuml
