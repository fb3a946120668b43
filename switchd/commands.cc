#include "switchd/commands.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "switchd/gateway.h"
#include "switchd/vde_ports.h"

namespace ssiuml::vde {
namespace {

bool ValidNode(const nlohmann::json& j) {
  return j.is_number_integer() && j.get<int64_t>() >= 1 && j.get<int64_t>() <= 254;
}

bool ValidPort(const nlohmann::json& j) {
  return j.is_number_integer() && j.get<int64_t>() >= 1 && j.get<int64_t>() <= 65535;
}

nlohmann::json Fail(const std::string& error) {
  return nlohmann::json{{"v", kProtocolVersion}, {"ok", false}, {"error", error}};
}

nlohmann::json Ok() { return nlohmann::json{{"v", kProtocolVersion}, {"ok", true}}; }

}  // namespace

nlohmann::json Commands::Execute(const std::string& line) { return Run(nlohmann::json::parse(line, nullptr, false)); }

nlohmann::json Commands::Run(nlohmann::json req) {
  if (!req.is_object() || req.value("v", 0) != kProtocolVersion || !req.contains("cmd") || !req["cmd"].is_string())
    return Fail("expected {\"v\":1,\"cmd\":...}");
  std::string cmd = req["cmd"];
  SwitchCore& core = fabric_->core();
  int node = req.contains("node") && ValidNode(req["node"]) ? req["node"].get<int>() : 0;
  bool needs_node = cmd == "isolate" || cmd == "loss" || cmd == "delay" || cmd == "down" || cmd == "up";
  if (needs_node && node == 0) return Fail(cmd + " needs a node from 1 to 254");
  if (cmd == "status") return Status();
  if (cmd == "forward") return Forward(req);
  if (cmd == "forwards") return Forwards();
  if (cmd == "partition") {
    auto groups = req.find("groups");
    if (groups == req.end() || !groups->is_array() || groups->empty() || groups->size() > 254)
      return Fail("partition needs \"groups\": [[1,2],[3]]");
    std::vector<std::vector<int>> parsed;
    for (const auto& g : *groups) {
      if (!g.is_array()) return Fail("each group is a list of nodes");
      parsed.emplace_back();
      for (const auto& n : g) {
        if (!ValidNode(n)) return Fail("nodes are 1 to 254");
        parsed.back().push_back(n.get<int>());
      }
    }
    core.Partition(parsed);
  } else if (cmd == "isolate") {
    core.Isolate(node);
  } else if (cmd == "ring") {
    auto nodes = req.find("nodes");
    if (nodes == req.end() || !nodes->is_array() || nodes->size() > 254)
      return Fail("ring needs \"nodes\": [1,2,3,4,5] in ring order");
    std::vector<int> order;
    for (const auto& n : *nodes) {
      if (!ValidNode(n)) return Fail("nodes are 1 to 254");
      order.push_back(n.get<int>());
    }
    ssiuml::Status s = core.Ring(order);
    if (!s.ok()) return Fail(s.message());
  } else if (cmd == "heal") {
    core.Heal();
  } else if (cmd == "loss") {
    double percent = req.value("percent", -1.0);
    if (percent < 0 || percent > 100) return Fail("loss needs \"percent\" from 0 to 100");
    core.SetLoss(node, percent / 100.0);
  } else if (cmd == "delay") {
    int64_t ms = req.value("ms", int64_t{-1}), jitter = req.value("jitter_ms", int64_t{0});
    if (ms < 0 || ms > 10000 || jitter < 0 || jitter > 10000)
      return Fail("delay needs \"ms\" (and \"jitter_ms\") up to 10000");
    core.SetDelay(node, static_cast<uint32_t>(ms), static_cast<uint32_t>(jitter));
  } else if (cmd == "down" || cmd == "up") {
    core.SetDown(node, cmd == "down");
  } else {
    return Fail("unknown command " + cmd);
  }
  spdlog::info("fault: {}", req.dump());
  return Ok();
}

namespace {

nlohmann::json DropsJson(const PortCounters& counters) {
  nlohmann::json drops = nlohmann::json::object();
  for (size_t i = 0; i < counters.drops.size(); ++i)
    if (counters.drops[i] != 0) drops[DropName(static_cast<Drop>(i))] = counters.drops[i];
  return drops;
}

// The cut as given, and whom each node it names reaches among them.
nlohmann::json CutJson(const SwitchCore& core) {
  if (!core.cut()) return nullptr;
  const SwitchCore::Cut& cut = *core.cut();
  std::vector<int> named;
  for (const auto& group : cut.groups) named.insert(named.end(), group.begin(), group.end());
  std::sort(named.begin(), named.end());
  named.erase(std::unique(named.begin(), named.end()), named.end());
  nlohmann::json reach = nlohmann::json::object();
  for (int from : named) {
    nlohmann::json to = nlohmann::json::array();
    for (int other : named)
      if (other != from && core.Reaches(from, other)) to.push_back(other);
    reach[std::to_string(from)] = to;
  }
  return {{"shape", cut.shape}, {"groups", cut.groups}, {"reach", reach}};
}

}  // namespace

nlohmann::json Commands::Status() const {
  const SwitchCore& core = fabric_->core();
  nlohmann::json ports = nlohmann::json::array();
  for (int number : core.ports()) {
    const PortCounters& counters = core.counters(number);
    nlohmann::json drops = DropsJson(counters);
    ports.push_back({{"port", number},
                     {"node", core.NodeOfPort(number)},
                     {"description", fabric_->Description(number)},
                     {"rx_frames", counters.rx_frames},
                     {"rx_bytes", counters.rx_bytes},
                     {"tx_frames", counters.tx_frames},
                     {"tx_bytes", counters.tx_bytes},
                     {"drops", drops}});
  }
  nlohmann::json macs = nlohmann::json::array();
  for (const auto& [mac, port] : core.MacTable(EventLoop::NowMs())) macs.push_back({{"mac", mac}, {"port", port}});
  nlohmann::json ok = Ok();
  ok["ports"] = ports;
  ok["macs"] = macs;
  ok["refused_clients"] = ports_ != nullptr ? ports_->refused() : 0;
  ok["departed_drops"] = DropsJson(core.departed());
  ok["cut"] = CutJson(core);
  return ok;
}

nlohmann::json Commands::Forward(const nlohmann::json& req) {
  if (gateway_ == nullptr) return Fail("forward needs switchd --gateway");
  auto field = [&req](const char* name) { return req.contains(name) ? req[name] : nlohmann::json(); };
  if (!ValidPort(field("host_port")) || !ValidNode(field("node")) || !ValidPort(field("port")))
    return Fail("forward needs \"host_port\" (1-65535), \"node\" (1-254) and \"port\" (1-65535)");
  HostForward f{field("host_port").get<int>(), field("node").get<int>(), field("port").get<int>()};
  ssiuml::Status s = gateway_->AddHostForward(f);
  if (!s.ok()) return Fail(s.message());
  nlohmann::json ok = Ok();
  ok["listen"] = "127.0.0.1:" + std::to_string(f.host_port);
  return ok;
}

nlohmann::json Commands::Forwards() const {
  nlohmann::json host = nlohmann::json::array(), guest = nlohmann::json::array();
  if (gateway_ != nullptr) {
    for (const HostForward& f : gateway_->host_forwards())
      host.push_back({{"host_port", f.host_port}, {"node", f.node}, {"port", f.guest_port}});
    for (const UnixForward& f : gateway_->unix_forwards()) guest.push_back({{"port", f.guest_port}, {"socket", f.socket}});
  }
  nlohmann::json ok = Ok();
  ok["gateway"] = gateway_ != nullptr;
  ok["forwards"] = host;
  ok["gateway_forwards"] = guest;
  return ok;
}

}  // namespace ssiuml::vde
