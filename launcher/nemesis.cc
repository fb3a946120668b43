#include "launcher/nemesis.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <thread>

#include "launcher/control_client.h"
#include "launcher/control_protocol.h"
#include "launcher/daemon_control.h"

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

Status Nemesis::Running(std::vector<int>* nodes) {
  std::map<int, std::string> states;
  Status s = States(&states);
  *nodes = InState(states, "running");
  return s;
}

Status Nemesis::Net(const nlohmann::json& request) {
  Request call;
  call.cmd = Command::kNet;
  call.net = request;
  nlohmann::json result;
  Status s = CallSupervisor(paths_, call, [](const nlohmann::json&) {}, &result, 30000);
  if (s.ok() && !result.value("ok", false)) s = Status::IOError(result.value("error", std::string("net failed")));
  if (s.ok() && request.value("cmd", "") != "heal") net_faulted_ = true;
  return s;
}

Status Nemesis::Partition(const std::string& shape, const std::string& target) {
  std::vector<int> running;
  Status s = Running(&running);
  if (!s.ok()) return s;
  if (shape == "ring") {
    if (running.size() < 3)
      return Status::InvalidArgument("a ring needs at least 3 running nodes, and " + std::to_string(running.size()) +
                                     " are running; start more with ssi-add");
    std::shuffle(running.begin(), running.end(), rng_);
    log_("ring " + nlohmann::json(running).dump());
    Record("nemesis_partition", running);
    return Net({{"cmd", "ring"}, {"nodes", running}});
  }
  nlohmann::json groups = nlohmann::json::array();
  if (shape == "halves") {
    std::vector<int> minority = Choose("minority", running);
    std::vector<int> majority;
    for (int n : running)
      if (!std::count(minority.begin(), minority.end(), n)) majority.push_back(n);
    groups = {majority, minority};
  } else if (shape == "isolate") {
    std::vector<int> alone = Choose(target, running);
    if (alone.empty()) return Status::InvalidArgument("no running node matches '" + target + "'");
    groups = {alone};
  } else {
    // Explicit: "1,2 3,4".
    std::string group;
    nlohmann::json current = nlohmann::json::array();
    for (size_t i = 0; i <= shape.size(); ++i) {
      char c = i < shape.size() ? shape[i] : ' ';
      if (std::isdigit(static_cast<unsigned char>(c))) {
        group += c;
        continue;
      }
      if (!group.empty()) current.push_back(std::stoi(group));
      group.clear();
      if (c == ' ' && !current.empty()) {
        groups.push_back(current);
        current = nlohmann::json::array();
      } else if (c != ',' && c != ' ') {
        return Status::InvalidArgument("bad partition '" + shape + "' (halves, ring, isolate, or groups such as 1,2 3)");
      }
    }
    if (groups.empty()) return Status::InvalidArgument("partition needs groups such as 1,2 3");
  }
  log_("partition " + groups.dump());
  Record("nemesis_partition", {});
  return Net({{"cmd", "partition"}, {"groups", groups}});
}

Status Nemesis::Loss(const std::string& spec, double percent) {
  std::vector<int> running;
  Status s = Running(&running);
  std::vector<int> nodes = Choose(spec, running);
  if (s.ok() && nodes.empty()) s = Status::InvalidArgument("no running node matches '" + spec + "'");
  if (s.ok()) log_("loss " + std::to_string(static_cast<int>(percent)) + "% on " + NodeNames(nodes));
  for (int n : nodes)
    if (s.ok()) s = Net({{"cmd", "loss"}, {"node", n}, {"percent", percent}});
  return s;
}

Status Nemesis::Delay(const std::string& spec, uint64_t ms, uint64_t jitter_ms) {
  std::vector<int> running;
  Status s = Running(&running);
  std::vector<int> nodes = Choose(spec, running);
  if (s.ok() && nodes.empty()) s = Status::InvalidArgument("no running node matches '" + spec + "'");
  if (s.ok()) log_("delay " + std::to_string(ms) + "ms on " + NodeNames(nodes));
  for (int n : nodes)
    if (s.ok()) s = Net({{"cmd", "delay"}, {"node", n}, {"ms", ms}, {"jitter_ms", jitter_ms}});
  return s;
}

Status Nemesis::Disk(int node, const std::string& fault) {
  Request call;
  call.cmd = Command::kDisk;
  call.node = node;
  call.fault = fault;
  nlohmann::json result;
  Status s = CallSupervisor(paths_, call, [](const nlohmann::json&) {}, &result, 30000);
  if (s.ok() && !result.value("ok", false)) s = Status::IOError(result.value("error", std::string("disk fault failed")));
  return s;
}

Status Nemesis::DiskFault(const std::string& spec, const std::string& fault, std::vector<int>* chosen) {
  std::vector<int> running;
  Status s = Running(&running);
  if (!s.ok()) return s;
  std::vector<int> nodes = Choose(spec, running);
  if (chosen) *chosen = nodes;
  if (nodes.empty()) return Status::InvalidArgument("no running node matches '" + spec + "'");
  log_("disk " + fault + " on " + NodeNames(nodes));
  for (int n : nodes) {
    if (s.ok()) s = Disk(n, fault);
    if (s.ok()) disk_faulted_.insert(n);
  }
  return s;
}

void Nemesis::HealEverything() {
  net_faulted_ = true;
  std::vector<int> running;
  if (Running(&running).ok()) disk_faulted_.insert(running.begin(), running.end());
  Status s = Heal();
  if (!s.ok()) log_("heal: " + s.message());
}

Status Nemesis::HealDisks() {
  Status first;
  for (int n : disk_faulted_) {
    log_("heal: disk of node " + std::to_string(n));
    Status s = Disk(n, "none");
    if (!s.ok() && first.ok()) first = s;
  }
  disk_faulted_.clear();
  return first;
}

bool Nemesis::SessionsSettled(uint64_t since_heal_ms, uint64_t* expiry_ms) {
  nlohmann::json status;
  if (!DaemonRequest("lockserver", paths_.LockControl(), {{"cmd", "status"}, {"locks", false}}, &status).ok()) return true;
  *expiry_ms = status.value("heartbeat_ms", uint64_t{0}) * status.value("expiry_missed", uint64_t{0});
  std::map<int, std::string> states;
  if (!States(&states).ok()) return true;
  for (const auto& session : status.value("sessions", nlohmann::json::array())) {
    if (session.value("kind", "") != "node") continue;
    auto state = states.find(session.value("node", 0));
    if (state == states.end() || state->second != "running") continue;
    // A fencing session ends in ssid killing its node: not settled until then.
    if (session.value("state", "") != "live" || session.value("idle_ms", uint64_t{0}) >= since_heal_ms) return false;
  }
  return true;
}

void Nemesis::AwaitSessions() {
  // Heartbeats lost in a partition or a pause come back after TCP's
  // retransmission backoff, which can outlast the lock server's expiry: a node
  // may be fenced a second after the heal, even after one late heartbeat got
  // through. So the heal waits until every running node's sessions have been
  // heard from since and stayed live for a whole expiry, or were fenced.
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t) {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
  };
  auto healed = Clock::now();
  std::optional<Clock::time_point> settled_at;
  uint64_t expiry_ms = 0;
  for (;;) {
    uint64_t since = ms_since(healed);
    if (since > 0 && SessionsSettled(since, &expiry_ms)) {
      if (!settled_at) settled_at = Clock::now();
      // Half an expiry more for the lock server's tick and ssid's kill.
      if (ms_since(*settled_at) > expiry_ms * 3 / 2) return;
    } else {
      settled_at.reset();
    }
    if (since > 2 * expiry_ms + kFenceGraceMs) {
      log_("heal: some node has not been heard from since the heal; going on");
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Status Nemesis::Heal() {
  Status first;
  bool await_sessions = net_faulted_ || !paused_.empty();
  if (net_faulted_) {
    log_("heal: network");
    first = Net({{"cmd", "heal"}});
    net_faulted_ = false;
  }
  Status disks = HealDisks();
  if (first.ok()) first = disks;
  if (!paused_.empty()) {
    std::vector<int> nodes(paused_.begin(), paused_.end());
    log_("heal: resume " + NodeNames(nodes));
    Record("nemesis_heal", nodes);
    Status s = Apply(Command::kResume, nodes, 0);
    if (!s.ok()) first = s;
    paused_.clear();
  }
  if (await_sessions) AwaitSessions();
  // Nodes the lock server had fenced after a partition or a long pause are
  // this run's casualties too.
  nlohmann::json status;
  if (ClusterStatus(paths_, &status).ok())
    for (const auto& n : status.value("nodes", nlohmann::json::array()))
      if (n.value("state", "") == "crashed" && n.value("cause", "").rfind("fenced", 0) == 0)
        crashed_.insert(n.value("node", 0));
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
