#include "launcher/nemesis.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "launcher/control_client.h"
#include "launcher/control_protocol.h"

namespace ssiuml {
namespace {

std::string NodeNames(const std::vector<int>& nodes) {
  std::string text;
  for (int n : nodes) text += (text.empty() ? "" : ",") + std::to_string(n);
  return (nodes.size() == 1 ? "node " : "nodes ") + text;
}

}  // namespace

Nemesis::Nemesis(ClusterPaths paths, uint64_t seed, Logger log)
    : paths_(std::move(paths)), rng_(seed), log_(std::move(log)) {}

std::vector<int> Nemesis::Choose(const std::string& spec, const std::vector<int>& candidates) {
  std::vector<int> pool = candidates;
  std::sort(pool.begin(), pool.end());
  if (pool.empty()) return {};
  if (spec == "all") return pool;
  std::shuffle(pool.begin(), pool.end(), rng_);
  size_t count;
  if (spec == "one") {
    count = 1;
  } else if (spec == "minority") {
    count = std::max<size_t>(1, (pool.size() - 1) / 2);
  } else if (spec == "majority") {
    count = pool.size() / 2 + 1;
  } else if (spec == "random") {
    count = std::uniform_int_distribution<size_t>(1, pool.size())(rng_);
  } else {
    int node = std::atoi(spec.c_str());
    return std::count(pool.begin(), pool.end(), node) ? std::vector<int>{node} : std::vector<int>{};
  }
  pool.resize(std::min(count, pool.size()));
  std::sort(pool.begin(), pool.end());
  return pool;
}

Status Nemesis::States(std::map<int, std::string>* states) {
  nlohmann::json status;
  Status s = ClusterStatus(paths_, &status);
  if (!s.ok()) return s;
  for (const auto& n : status.value("nodes", nlohmann::json::array()))
    (*states)[n.value("node", 0)] = n.value("state", "");
  return Status::OK();
}

std::vector<int> Nemesis::InState(const std::map<int, std::string>& states, const std::string& state) {
  std::vector<int> nodes;
  for (const auto& [node, s] : states)
    if (s == state) nodes.push_back(node);
  return nodes;
}

void Nemesis::Record(const std::string& event, const std::vector<int>& nodes) {
  Request request;
  request.cmd = Command::kEvent;
  request.event = event;
  request.event_fields = {{"nodes", nodes}};
  nlohmann::json ignored;
  CallSupervisor(paths_, request, [](const nlohmann::json&) {}, &ignored, 10000);
}

Status Nemesis::Apply(Command command, const std::vector<int>& nodes, uint64_t timeout_ms) {
  Request request;
  request.cmd = command;
  request.nodes = nodes;
  request.timeout_ms = timeout_ms;
  std::vector<std::string> errors;
  Status s = NodeRequest(paths_, request, &errors);
  if (!s.ok()) return s;
  if (!errors.empty()) return Status::IOError(errors.front());
  return Status::OK();
}

Status Nemesis::HitRunning(const std::string& spec, Command command, const std::string& verb,
                           std::set<int>* applied, std::vector<int>* chosen) {
  std::map<int, std::string> states;
  Status s = States(&states);
  if (!s.ok()) return s;
  std::vector<int> nodes = Choose(spec, InState(states, "running"));
  if (chosen) *chosen = nodes;
  if (nodes.empty()) return Status::InvalidArgument("no running node matches '" + spec + "'");
  log_(verb + " " + NodeNames(nodes));
  Record("nemesis_" + verb, nodes);
  s = Apply(command, nodes, 0);
  if (s.ok()) applied->insert(nodes.begin(), nodes.end());
  return s;
}

Status Nemesis::Crash(const std::string& spec, std::vector<int>* chosen) {
  return HitRunning(spec, Command::kRm, "crash", &crashed_, chosen);
}

Status Nemesis::Restart(const std::string& spec, uint64_t timeout_ms) {
  std::map<int, std::string> states;
  Status s = States(&states);
  if (!s.ok()) return s;
  std::vector<int> down = InState(states, "crashed");
  for (int n : InState(states, "off")) down.push_back(n);
  std::vector<int> nodes = Choose(spec, down);
  if (nodes.empty()) return Status::InvalidArgument("no crashed node matches '" + spec + "'");
  log_("restart " + NodeNames(nodes));
  Record("nemesis_restart", nodes);
  s = Apply(Command::kAdd, nodes, timeout_ms);
  for (int n : nodes) crashed_.erase(n);
  return s;
}

Status Nemesis::Pause(const std::string& spec, std::vector<int>* chosen) {
  return HitRunning(spec, Command::kPause, "pause", &paused_, chosen);
}

Status Nemesis::Resume(const std::string& spec) {
  std::map<int, std::string> states;
  Status s = States(&states);
  if (!s.ok()) return s;
  std::vector<int> nodes = Choose(spec, InState(states, "paused"));
  if (nodes.empty()) return Status::InvalidArgument("no paused node matches '" + spec + "'");
  log_("resume " + NodeNames(nodes));
  Record("nemesis_resume", nodes);
  s = Apply(Command::kResume, nodes, 0);
  for (int n : nodes) paused_.erase(n);
  return s;
}

Status Nemesis::RollingRestart(uint64_t pause_ms, const std::function<bool()>& keep_going) {
  std::map<int, std::string> states;
  Status s = States(&states);
  if (!s.ok()) return s;
  for (int node : InState(states, "running")) {
    if (!keep_going()) break;
    std::string spec = std::to_string(node);
    s = Crash(spec);
    if (s.ok()) s = Restart(spec);
    if (!s.ok()) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
  return Status::OK();
}

Status Nemesis::Heal() {
  Status first;
  if (!paused_.empty()) {
    std::vector<int> nodes(paused_.begin(), paused_.end());
    log_("heal: resume " + NodeNames(nodes));
    Record("nemesis_heal", nodes);
    Status s = Apply(Command::kResume, nodes, 0);
    if (!s.ok()) first = s;
    paused_.clear();
  }
  if (!crashed_.empty()) {
    std::vector<int> nodes(crashed_.begin(), crashed_.end());
    log_("heal: restart " + NodeNames(nodes));
    Record("nemesis_heal", nodes);
    Status s = Apply(Command::kAdd, nodes, 120000);
    if (!s.ok() && first.ok()) first = s;
    crashed_.clear();
  }
  return first;
}

}  // namespace ssiuml
