#include "launcher/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

#include "common/mgmt_frame.h"
#include "launcher/cpu_placement.h"
#include "launcher/daemon_control.h"
#include "launcher/lock_node.h"
#include "launcher/mconsole.h"
#include "launcher/plx_store.h"
#include "launcher/spawner.h"
#include "launcher/stale_run.h"
#include "launcher/ubd_overlay.h"

namespace ssiuml {
namespace {

// ssi-stop's schedule: sync through the agent, halt, then signals.
constexpr uint64_t kSyncTimeoutMs = 3000;
constexpr uint64_t kHaltGraceMs = 4000;
constexpr uint64_t kTermGraceMs = 3000;
constexpr uint64_t kDaemonGraceMs = 2000;
// A lock node boots in 2-5 s; a loaded machine can take several times that.
constexpr uint64_t kLockNodeBootMs = 60000;
constexpr uint64_t kAddTimeoutRecheckMs = 100;

std::string Seconds(uint64_t ms) { return std::to_string(ms / 1000) + " s"; }

int BootParallel(const Config& config) {
  if (config.boot_parallel > 0) return config.boot_parallel;
  return 2 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

// An ssi-add (or ssi-start) waiting for its nodes to answer.
struct Supervisor::AddWait {
  std::shared_ptr<ControlConnection> conn;
  std::set<int> pending;
  int errors = 0;
  uint64_t timeout_ms = 0;  // per node, from its start
  uint64_t timer = 0;
};

// A console viewer (ssi-console): follows some nodes' consoles and events.
struct Supervisor::Session {
  std::shared_ptr<ControlConnection> conn;
  std::set<int> follow;
  bool events = false;
};

Supervisor::Supervisor(EventLoop* loop, Env* env, ClusterPaths paths, ClusterSetup setup)
    : loop_(loop), env_(env), paths_(std::move(paths)), setup_(std::move(setup)),
      events_(env, paths_.Events(), paths_.name),
      server_(loop, [this](const std::string& line, std::shared_ptr<ControlConnection> conn) {
        HandleLine(line, std::move(conn));
      }),
      boot_queue_(BootParallel(setup_.config)) {
  events_.SetListener([this](const nlohmann::json& event) { OnEvent(event); });
}

Supervisor::~Supervisor() = default;

Status Supervisor::Start() {
  // The switch's gateway forwards to a host lock server's socket, and to a
  // lock node, which boots on the switch.
  bool lock_node = !setup_.lock_initrd.empty();
  Status s = lock_node ? Status::OK() : StartLockServer();
  if (s.ok()) s = StartSwitch();
  if (s.ok() && lock_node) s = StartLockServer();
  if (s.ok()) s = StartDiskServer();
  if (s.ok()) s = server_.Listen(paths_.SupervisorSocket());
  if (!s.ok()) return s;
  events_.Append("cluster_started", {{"pid", ::getpid()}});
  return Status::OK();
}

Status Supervisor::StartSwitch() {
  if (!setup_.config.cidev.empty()) {
    switch_vnl_ = setup_.config.cidev;
    spdlog::info("nodes attach to CIDEV {}", switch_vnl_);
    return Status::OK();
  }
  switch_vnl_ = paths_.SwitchDir();
  // Nodes that boot before the switch listens come up with a dead eth0, and
  // a lock node needs its forwards: switchd's control socket comes up last.
  Status s = switch_.Start(env_, paths_,
                           {ExecutableDir() + "/switchd", switch_vnl_, "--control", paths_.SwitchControl(),
                            "--gateway", "--gateway-forward", "7400=unix:" + paths_.LockGateway(),
                            "--exit-on-stdin-eof"},
                           paths_.LogDir() + "/switch.log", paths_.SwitchControl());
  if (s.ok()) spdlog::info("switchd pid {} at {}", switch_.pid(), switch_vnl_);
  return s;
}

Status Supervisor::StartLockServer() {
  auto fence = [this](int number, const std::string& boot, std::function<void()> done) {
    Fence(number, boot, std::move(done));
  };
  auto on_change = [this](int number, bool joined, const std::string& cause) {
    if (joined) {
      events_.Append("member_joined", {{"node", number}});
    } else {
      events_.Append("member_left", {{"node", number}, {"cause", cause}});
    }
  };
  if (setup_.lock_initrd.empty())
    return locks_.Start(setup_.config.heartbeat_ms, setup_.config.expiry_missed, fence, on_change);
  lock_node_ = std::make_unique<LockNode>(
      loop_, env_, &paths_, &events_,
      Node::Callbacks{nullptr, [this](Node&) { OnLockNodeGone(); },
                      [this](Node& n, std::string_view data) { OnConsole(n, data); }});
  NodeLaunch launch{kLockNode, setup_.kernel, "", switch_vnl_, "", setup_.lock_initrd, ""};
  std::string control;
  Status s = lock_node_->Start(launch, setup_.config, kLockNodeBootMs, &control);
  if (s.ok()) s = locks_.Attach(control, fence, on_change, /*send_host_clock=*/true);
  return s;
}

void Supervisor::OnLockNodeGone() {
  locks_.Detach();
  if (stopping_) return;
  const std::string& cause = lock_node_->node().exit_cause();
  spdlog::error("the lock node exited ({}); the nodes have lost locks and membership{}", cause,
                plxd_.running() ? ", and plxd the ownership of their disks (they fail from now on)" : "");
  events_.Append("lock_node_exited", {{"cause", cause}});
}

Node* Supervisor::ConsoleNode(int number) {
  if (number == kLockNode) return lock_node_ ? &lock_node_->node() : nullptr;
  auto it = nodes_.find(number);
  return it == nodes_.end() ? nullptr : it->second.get();
}

bool Supervisor::LockNodeLive() const {
  return lock_node_ && lock_node_->node().pid() > 0 && lock_node_->node().state() != NodeState::kExited;
}

// As GFS does after a partition: a node the lock server gave up on is shot
// before anyone else gets its locks. An incarnation that is already gone,
// or was replaced by a new boot, needs nothing.
void Supervisor::Fence(int number, const std::string& boot, std::function<void()> done) {
  if (!NodeLive(number) || nodes_[number]->mgmt() == nullptr || nodes_[number]->mgmt()->boot_id() != boot)
    return done();
  // ssi-stop halts nodes at once, so their sessions expire: no fence is due.
  if (stopping_) return WhenGone({number}, std::move(done));
  Node& node = *nodes_[number];
  node.ExpectExit("fenced: the lock server expired its session");
  node.Signal(SIGKILL);
  events_.Append("node_fenced", {{"node", number}});
  WhenGone({number}, std::move(done));
}

Status Supervisor::StartDiskServer() {
  if (setup_.config.disk != DiskKind::kPlx) return Status::OK();
  Status s;
  if (setup_.root_snapshot.empty()) {
    s = PrepareStore(env_, paths_, setup_.root, &base_snapshot_);
  } else {
    s = CheckRootSnapshot(paths_, setup_.root_snapshot);
    base_snapshot_ = setup_.root_snapshot;
  }
  if (s.ok()) s = env_->CreateDirs(paths_.run + "/disk", 0700);
  // The lock server (started first) owns the VDIs plxd writes, so no other
  // process, here or on a host sharing the store, writes them meanwhile.
  if (s.ok())
    s = plxd_.Start(env_, paths_,
                    {ExecutableDir() + "/plxd", "--store", paths_.Store(), "--control", paths_.PlxdControl(),
                     "--locks", paths_.LockPortFile(), "--exit-on-stdin-eof"},
                    paths_.LogDir() + "/plxd.log", paths_.PlxdControl());
  if (s.ok()) spdlog::info("plxd pid {} serves {}; nodes clone {}", plxd_.pid(), paths_.Store(), base_snapshot_);
  return s;
}

// The node's VDI: cloned from the root snapshot unless it exists (--fresh
// clones anew), then served at the node's socket.
Status Supervisor::ServeNodeDisk(int number, bool fresh, const std::string& from, int cpu, std::string* socket) {
  std::string vdi = "node" + std::to_string(number);
  nlohmann::json reply;
  Status s = DaemonRequest("plxd", paths_.PlxdControl(), {{"cmd", "vdis"}}, &reply);
  if (!s.ok()) return s;
  bool exists = false;
  for (const auto& name : reply.value("vdis", nlohmann::json::array())) exists = exists || name == vdi;
  if (exists && !from.empty() && !fresh)
    return Status::Busy(vdi + " already has a disk; `ssi-add --fresh --from " + from + " " +
                        std::to_string(number) + "` replaces it");
  if (exists && !fresh && from.empty()) {
    s = CheckNodeOrigin(vdi);
    if (!s.ok()) return s;
  }
  if (exists && fresh) {
    s = DaemonRequest("plxd", paths_.PlxdControl(), {{"cmd", "delete"}, {"vdi", vdi}});
    exists = false;
  }
  if (s.ok() && !exists)
    s = DaemonRequest("plxd", paths_.PlxdControl(),
                    {{"cmd", "create"}, {"vdi", vdi}, {"from", from.empty() ? base_snapshot_ : from}});
  *socket = paths_.DiskSocket(number);
  nlohmann::json open = {{"cmd", "open"}, {"vdi", vdi}, {"socket", *socket}};
  if (cpu >= 0) open["cpu"] = cpu;  // served from the node's own CPU
  if (s.ok()) s = DaemonRequest("plxd", paths_.PlxdControl(), open);
  return s;
}

// A node disk cloned from another root image (an earlier ROOT or --root)
// would boot that image, not the cluster's: refused unless --fresh. Disks
// cloned from node snapshots (ssi-add --from) are the user's choice.
Status Supervisor::CheckNodeOrigin(const std::string& vdi) {
  std::vector<StoreVdi> vdis;
  Status s = ListVdis(paths_, &vdis);
  if (!s.ok()) return s;
  std::string root_vdi = base_snapshot_.substr(0, base_snapshot_.find('@'));
  for (const auto& v : vdis) {
    if (v.name != vdi || v.origin.empty()) continue;
    std::string origin_vdi = v.origin.substr(0, v.origin.find('@'));
    if (origin_vdi != root_vdi && origin_vdi.rfind("node", 0) != 0)
      return Status::Busy(vdi + "'s disk is a clone of " + v.origin + ", not of " + base_snapshot_ +
                          "; --fresh clones it anew (its changes are lost)");
  }
  return Status::OK();
}

void Supervisor::HandleLine(const std::string& line, std::shared_ptr<ControlConnection> conn) {
  Request request;
  Status s = ParseRequest(line, setup_.config.max_nodes, &request);
  if (!s.ok()) {
    spdlog::warn("refused control request: {}", s.message());
    conn->Fail(s.message());
    return;
  }
  if (stopping_ && request.cmd != Command::kStatus && request.cmd != Command::kPing) {
    conn->Fail("cluster " + paths_.name + " is stopping");
    return;
  }
  switch (request.cmd) {
    case Command::kPing:
      conn->Finish({{"cluster", paths_.name}, {"pid", ::getpid()}});
      break;
    case Command::kAdd: Add(request, conn); break;
    case Command::kRm: Remove(request, conn); break;
    case Command::kExec: Exec(request, conn); break;
    case Command::kStatus: conn->Finish(StatusReport()); break;
    case Command::kStop: Stop(conn); break;
    case Command::kPause:
    case Command::kResume: PauseResume(request, conn); break;
    case Command::kAttach: Attach(request, conn); break;
    case Command::kFollow:
    case Command::kInput: conn->Fail("follow and input belong in an attach session"); break;
    case Command::kSnap: Snap(request, conn); break;
    case Command::kNet: Net(request, conn); break;
    case Command::kDisk: DiskFault(request, conn); break;
    case Command::kEvent:
      events_.Append(request.event, request.event_fields);
      conn->Finish({{"ok", true}});
      break;
  }
}

bool Supervisor::NodeLive(int number) const {
  auto it = nodes_.find(number);
  return it != nodes_.end() && it->second->state() != NodeState::kExited;
}

Status Supervisor::StartNode(int number, bool fresh, const std::string& from) {
  NodeLaunch launch{number, setup_.kernel, setup_.root, switch_vnl_, "", setup_.initrd, ""};
  if (lock_node_) {
    if (number == kLockNodeHost)
      return Status::InvalidArgument("node " + std::to_string(number) + "'s address " + setup_.config.subnet + "." +
                                     std::to_string(number) + " is the lock node's; choose another number");
    launch.lock_server = LockNode::Address(setup_.config);
  }
  if (setup_.config.placement == Placement::kSpread) launch.cpu = CpuForNode(number, cpus_);
  const std::string overlay = paths_.Overlay(number);
  if (setup_.config.disk == DiskKind::kPlx) {
    Status s = ServeNodeDisk(number, fresh, from, launch.cpu, &launch.disk_socket);
    if (!s.ok()) return Status::IOError("node " + std::to_string(number) + ": " + s.message());
  } else if (!from.empty()) {
    return Status::NotSupported("--from needs DISK=plx (snapshots of running nodes)");
  } else if (fresh) {
    Status s = env_->RemoveFile(overlay);
    if (!s.ok() && !s.IsNotFound()) return s;
  } else {
    Status s = CheckUbdOverlay(env_, overlay, setup_.root);
    if (!s.ok())
      return Status::InvalidArgument("node " + std::to_string(number) + ": " + s.message() +
                                     "; `ssi-add --fresh " + std::to_string(number) +
                                     "` starts it with an empty overlay");
  }
  auto node = std::make_unique<Node>(
      number, loop_, env_, &paths_, &events_,
      Node::Callbacks{[this](Node& n) { OnNodeReady(n); }, [this](Node& n) { OnNodeGone(n); },
                      [this](Node& n, std::string_view data) { OnConsole(n, data); }});
  Status s = node->Start(launch, setup_.config);
  if (!s.ok()) return Status::IOError("node " + std::to_string(number) + ": " + s.message());
  boot_priority_.Booting(node->pid());
  nodes_[number] = std::move(node);
  return Status::OK();
}

void Supervisor::Add(const Request& request, std::shared_ptr<ControlConnection> conn) {
  auto wait = std::make_shared<AddWait>();
  wait->conn = conn;
  for (int number : request.nodes) {
    nlohmann::json msg = Message("node");
    msg["node"] = number;
    Status s;
    bool queued = false;
    if (NodeLive(number)) {
      s = Status::Busy("node " + std::to_string(number) + " is already " + NodeStateName(nodes_[number]->state()));
    } else if (boot_queue_.Waiting(number)) {
      s = Status::Busy("node " + std::to_string(number) + " is already queued to boot");
    } else if (!boot_queue_.Admit({number, request.fresh, request.from})) {
      queued = true;
    } else {
      s = StartNode(number, request.fresh, request.from);
      if (!s.ok()) StartAdmitted(boot_queue_.Done(number));
    }
    msg["ok"] = s.ok();
    if (s.ok()) {
      msg["state"] = queued ? "queued" : "starting";
      if (request.wait) wait->pending.insert(number);
    } else {
      msg["error"] = s.message();
      ++wait->errors;
    }
    conn->Send(msg);
  }
  if (wait->pending.empty()) {
    conn->Finish({{"ok", wait->errors == 0}});
    return;
  }
  wait->timeout_ms = request.timeout_ms;
  ArmAddTimeout(wait, request.timeout_ms);
  add_waits_.push_back(wait);
}

// Each node's time to answer counts from its own start: a queued node has
// not begun to boot.
void Supervisor::ArmAddTimeout(const std::shared_ptr<AddWait>& wait, uint64_t delay_ms) {
  std::weak_ptr<AddWait> weak = wait;
  wait->timer = loop_->After(delay_ms, [this, weak] {
    auto w = weak.lock();
    if (!w) return;
    const uint64_t now = EventLoop::NowMs();
    uint64_t next = w->timeout_ms;
    for (auto it = w->pending.begin(); it != w->pending.end();) {
      const int number = *it;
      auto node = nodes_.find(number);
      const bool booting = node != nodes_.end() && !boot_queue_.Waiting(number);
      const uint64_t deadline = booting ? node->second->started_ms() + w->timeout_ms : 0;
      if (booting && deadline <= now) {
        nlohmann::json msg = Message("node");
        msg["node"] = number;
        msg["ok"] = false;
        msg["error"] = "node " + std::to_string(number) + " did not answer on its management line within " +
                       Seconds(w->timeout_ms) + "; see " + paths_.ConsoleLog(number);
        w->conn->Send(msg);
        ++w->errors;
        it = w->pending.erase(it);
        continue;
      }
      if (booting) next = std::min(next, deadline - now);
      ++it;
    }
    if (w->pending.empty()) {
      w->conn->Finish({{"ok", false}});
      std::erase(add_waits_, w);
      return;
    }
    // Nodes still queued are looked at again no sooner than this: a short
    // timeout would otherwise make this timer spin until they start.
    ArmAddTimeout(w, std::max<uint64_t>(next, kAddTimeoutRecheckMs));
  });
}

void Supervisor::ReportBoot(int number, bool ok, const std::string& error) {
  for (auto it = add_waits_.begin(); it != add_waits_.end();) {
    auto& w = *it;
    if (w->pending.erase(number) != 0) {
      nlohmann::json msg = Message("node");
      msg["node"] = number;
      msg["ok"] = ok;
      if (ok) {
        msg["state"] = "running";
      } else {
        msg["error"] = error;
        ++w->errors;
      }
      w->conn->Send(msg);
    }
    if (w->pending.empty()) {
      loop_->Cancel(w->timer);
      w->conn->Finish({{"ok", w->errors == 0}});
      it = add_waits_.erase(it);
    } else {
      ++it;
    }
  }
}

void Supervisor::StartAdmitted(std::vector<BootQueue::Boot> boots) {
  for (size_t i = 0; i < boots.size() && !stopping_; ++i) {
    const BootQueue::Boot boot = boots[i];
    Status s = StartNode(boot.number, boot.fresh, boot.from);
    if (s.ok()) continue;
    ReportBoot(boot.number, false, s.message());
    auto next = boot_queue_.Done(boot.number);
    boots.insert(boots.end(), next.begin(), next.end());
  }
}

void Supervisor::OnNodeReady(Node& node) {
  boot_retried_.erase(node.number());
  locks_.NodeBooted(node.number(), node.mgmt()->boot_id());
  boot_priority_.Running(node.pid());
  ReportBoot(node.number(), true, "");
  StartAdmitted(boot_queue_.Done(node.number()));
}

void Supervisor::OnNodeGone(Node& node) {
  const int number = node.number();
  if (setup_.config.disk == DiskKind::kPlx && plxd_.running())
    DaemonRequest("plxd", paths_.PlxdControl(), {{"cmd", "close"}, {"vdi", "node" + std::to_string(number)}});
  // A kernel that panics before its agent answers is a boot gone wrong, not
  // a crash: under load a guest's first forks can fail ("/init: can't fork",
  // seen with 16 nodes booting on 2 cores). It gets one more boot, in its
  // boot slot; the retry starts from the loop, as node is being torn down.
  bool boot_panic = !stopping_ && !node.came_up() && node.kernel_panicked();
  if (boot_panic && boot_retried_.insert(number).second) {
    spdlog::warn("node {} panicked while booting; booting it once more", number);
    events_.Append("node_boot_retry", {{"node", number}});
    loop_->After(0, [this, number] { RetryBoot(number); });
    CheckGoneWaiters();
    return;
  }
  boot_retried_.erase(number);
  ReportBoot(node.number(), false,
             "node " + std::to_string(node.number()) + " exited while booting (" + node.exit_cause() + "); see " +
                 paths_.ConsoleLog(node.number()));
  CheckGoneWaiters();
  StartAdmitted(boot_queue_.Done(node.number()));
}

void Supervisor::RetryBoot(int number) {
  Status s = stopping_ || NodeLive(number) ? Status::Busy("node " + std::to_string(number) + " was stopped or re-added")
                                           : StartNode(number, /*fresh=*/false, "");
  if (s.ok()) return;
  ReportBoot(number, false, s.message());
  StartAdmitted(boot_queue_.Done(number));
}

void Supervisor::WhenGone(std::set<int> numbers, std::function<void()> callback) {
  gone_waiters_.emplace_back(std::move(numbers), std::move(callback));
  CheckGoneWaiters();
}

void Supervisor::CheckGoneWaiters() {
  for (size_t i = 0; i < gone_waiters_.size();) {
    auto& [numbers, callback] = gone_waiters_[i];
    std::erase_if(numbers, [this](int n) { return !NodeLive(n); });
    if (numbers.empty()) {
      auto done = std::move(callback);
      gone_waiters_.erase(gone_waiters_.begin() + static_cast<long>(i));
      done();
      i = 0;  // done() may have changed the list
    } else {
      ++i;
    }
  }
}

void Supervisor::Remove(const Request& request, std::shared_ptr<ControlConnection> conn) {
  std::set<int> killed;
  int errors = 0;
  std::vector<nlohmann::json> cancelled;
  for (int number : request.nodes) {
    nlohmann::json msg = Message("node");
    msg["node"] = number;
    if (boot_queue_.Cancel(number)) {
      ReportBoot(number, false, "node " + std::to_string(number) + " was removed before its turn to boot");
      msg["ok"] = true;
      msg["state"] = "removed";
      cancelled.push_back(msg);
      continue;
    }
    if (!NodeLive(number)) {
      msg["ok"] = false;
      msg["error"] = "node " + std::to_string(number) + " is not running";
      ++errors;
      conn->Send(msg);
      continue;
    }
    // A power cut: SIGKILL to the whole group, and nobody is told.
    Node& node = *nodes_[number];
    node.ExpectExit("removed by ssi-rm");
    node.Signal(SIGKILL);
    killed.insert(number);
  }
  WhenGone(killed, [conn, killed, errors, cancelled] {
    for (const auto& msg : cancelled) conn->Send(msg);
    for (int number : killed) {
      nlohmann::json msg = Message("node");
      msg["node"] = number;
      msg["ok"] = true;
      msg["state"] = "removed";
      conn->Send(msg);
    }
    conn->Finish({{"ok", errors == 0}});
  });
}

void Supervisor::Exec(const Request& request, std::shared_ptr<ControlConnection> conn) {
  auto it = nodes_.find(request.node);
  const std::string name = "node " + std::to_string(request.node);
  if (boot_queue_.Waiting(request.node)) {
    conn->Fail(name + " is queued to boot; wait until ssi-status shows it running");
    return;
  }
  if (it == nodes_.end() || it->second->state() == NodeState::kExited) {
    conn->Fail(name + " is not running");
    return;
  }
  Node& node = *it->second;
  if (node.state() != NodeState::kRunning) {
    conn->Fail(name + " is " + NodeStateName(node.state()) + "; wait until ssi-status shows it running");
    return;
  }
  auto timer = std::make_shared<uint64_t>(0);
  MgmtChannel::ExecHandlers handlers;
  handlers.on_output = [conn](int fd, std::string_view data) {
    nlohmann::json msg = Message("output");
    msg["fd"] = fd;
    msg["data"] = mgmt::Base64Encode(data);
    conn->Send(msg);
  };
  handlers.on_done = [this, conn, timer](int status, const std::string& error) {
    loop_->Cancel(*timer);
    if (error.empty()) {
      conn->Finish({{"exit", status}});
    } else {
      conn->Fail(error);
    }
  };
  uint64_t id = node.mgmt()->Exec(request.command, std::move(handlers));
  int number = request.node;
  auto kill_command = [this, number, id] {
    auto n = nodes_.find(number);
    if (n != nodes_.end() && n->second->mgmt() != nullptr) n->second->mgmt()->Kill(id);
  };
  *timer = loop_->After(request.timeout_ms, [conn, kill_command, name, t = request.timeout_ms] {
    kill_command();
    conn->Fail("the command did not finish within " + Seconds(t) + " on " + name +
               "; it was killed");
  });
  conn->OnClose(kill_command);
}

nlohmann::json Supervisor::StatusReport() {
  nlohmann::json nodes = nlohmann::json::array();
  uint64_t now = EventLoop::NowMs();
  std::set<pid_t> groups;
  for (const auto& [number, node] : nodes_)
    if (NodeLive(number)) groups.insert(node->pid());
  auto usage = SampleProcessGroups(groups);
  // Two views of a node: ssid's (its processes) and the cluster's (whether
  // the lock server still counts it a member), as after a power cut they
  // differ until the session expires.
  std::map<int, std::string> members;
  (void)locks_.Members(&members);  // unanswered: every MEMBER is "-", and a warning says why
  for (const auto& [number, node] : nodes_) {
    if (boot_queue_.Waiting(number)) continue;
    // A node that went away without ssi-stop shows as crashed, as after a
    // power cut, unless the guest powered itself off.
    const char* state = node->paused() ? "paused" : NodeStateName(node->state());
    if (node->state() == NodeState::kExited)
      state = node->exit_cause() == "powered off" ? "off" : "crashed";
    nlohmann::json n = {{"node", number},
                        {"state", state},
                        {"ip", setup_.config.subnet + "." + std::to_string(number)},
                        {"console", paths_.ConsoleLog(number)}};
    auto member = members.find(number);
    n["member"] = member == members.end() ? "-" : member->second;
    if (disk_lost_ && node->state() != NodeState::kExited) n["cause"] = "disk server died; ssi-stop and start again";
    if (node->state() == NodeState::kExited) {
      n["cause"] = node->exit_cause();
    } else {
      n["pid"] = node->pid();
      if (setup_.config.placement == Placement::kSpread) n["host_cpu"] = CpuForNode(number, cpus_);
      n["uptime_s"] = (now - node->started_ms()) / 1000;
      if (auto u = usage.find(node->pid()); u != usage.end()) {
        n["mem_kib"] = u->second.rss_kib;
        double cpu = cpu_meter_.Update(node->pid(), u->second.cpu_ticks, now);
        if (cpu >= 0) n["cpu_pct"] = static_cast<int>(cpu * 10) / 10.0;
      }
    }
    nodes.push_back(n);
  }
  // Queued nodes have no process yet (a crashed one waits to boot again).
  for (int number : boot_queue_.waiting())
    nodes.push_back({{"node", number},
                     {"state", "queued"},
                     {"ip", setup_.config.subnet + "." + std::to_string(number)},
                     {"console", paths_.ConsoleLog(number)},
                     {"member", "-"}});
  std::sort(nodes.begin(), nodes.end(),
            [](const nlohmann::json& a, const nlohmann::json& b) { return a["node"] < b["node"]; });
  figures_.Fill(paths_, setup_.config.disk == DiskKind::kPlx && plxd_.running(), switch_.running(), now, &nodes);
  nlohmann::json warnings = figures_.troubles();
  if (!locks_.trouble().empty()) warnings.push_back(locks_.trouble() + "; the MEMBER column is left out");
  return {{"cluster", paths_.name},
          {"ssid_pid", ::getpid()},
          {"stopping", stopping_},
          {"kernel", setup_.kernel},
          {"root", setup_.root_snapshot.empty() ? setup_.root : setup_.root_snapshot},
          {"disk", setup_.config.disk == DiskKind::kPlx ? "plx" : "ubd"},
          {"switch", switch_vnl_},
          {"lock_node", LockNodeReport()},
          {"nodes", nodes},
          {"warnings", warnings}};
}

// null when the lock server runs on the host.
nlohmann::json Supervisor::LockNodeReport() {
  if (!lock_node_) return nullptr;
  Node& node = lock_node_->node();
  nlohmann::json report = {{"state", NodeStateName(node.state())},
                           {"ip", setup_.config.subnet + "." + std::to_string(kLockNodeHost)},
                           {"console", paths_.ConsoleLog(kLockNode)}};
  if (node.state() == NodeState::kExited) {
    report["cause"] = node.exit_cause();
  } else {
    report["pid"] = node.pid();
  }
  return report;
}

void Supervisor::Stop(std::shared_ptr<ControlConnection> reply) {
  if (stopping_) {
    if (reply) reply->Fail("cluster " + paths_.name + " is already stopping");
    return;
  }
  stopping_ = true;
  spdlog::info("stopping cluster {}", paths_.name);
  server_.StopListening();
  for (auto& w : add_waits_) {
    loop_->Cancel(w->timer);
    w->conn->Fail("cluster " + paths_.name + " is stopping");
  }
  add_waits_.clear();
  boot_queue_.Clear();
  std::set<int> live;
  for (const auto& [number, node] : nodes_)
    if (NodeLive(number)) live.insert(number);
  StopNodes();
  WhenGone(live, [this, reply] {
    // A lock node's traffic to plxd crosses the switch: it stays for plxd's last flushes.
    if (!lock_node_) switch_.Stop(loop_, kDaemonGraceMs);
    plxd_.Stop(loop_, kDaemonGraceMs);
    FinishStop(reply, EventLoop::NowMs() + kDaemonGraceMs * 2);
  });
}

void Supervisor::FinishStop(std::shared_ptr<ControlConnection> reply, uint64_t deadline_ms) {
  // The daemons leave at EOF on their stdin, or are killed after a grace.
  // The lock server goes after plxd: plxd's last flushes need its VDIs' ownership.
  bool late = EventLoop::NowMs() >= deadline_ms;
  if ((!plxd_.running() || late) && !locks_.stopping()) {
    locks_.Stop(kDaemonGraceMs);
    if (LockNodeLive()) {
      lock_node_->node().ExpectExit("stopped by ssi-stop");
      lock_node_->node().Signal(SIGKILL);  // it holds no disk and no state worth a sync
    }
    if (lock_node_) switch_.Stop(loop_, kDaemonGraceMs);
  }
  if ((switch_.running() || plxd_.running() || locks_.running() || LockNodeLive()) && !late) {
    loop_->After(20, [this, reply, deadline_ms] { FinishStop(reply, deadline_ms); });
    return;
  }
  events_.Append("cluster_stopped");
  for (auto& session : sessions_) session->conn->Finish({{"ok", true}, {"stopped", true}});
  sessions_.clear();
  if (reply) reply->Finish({{"ok", true}});
  loop_->After(0, [this] { loop_->Quit(); });
}

void Supervisor::StopNodes() {
  std::set<int> syncing;
  for (auto& [number, node] : nodes_) {
    if (!NodeLive(number)) continue;
    node->ExpectExit("stopped by ssi-stop");
    if (node->paused()) node->Resume();
    if (node->state() == NodeState::kRunning) {
      syncing.insert(number);
    } else {
      node->Signal(SIGTERM);  // still booting: nothing worth syncing
    }
    node->set_state(NodeState::kStopping);
  }
  // Data the guests wrote is on disk once sync returns; halt then stops
  // each kernel at once. Nodes that ignore halt get SIGTERM, then SIGKILL.
  auto halt = [this, syncing] {
    for (int number : syncing)
      if (NodeLive(number)) MconsoleSend(paths_.MconsoleSocket(number), "halt");
    loop_->After(kHaltGraceMs, [this] {
      for (auto& [number, node] : nodes_)
        if (NodeLive(number)) node->Signal(SIGTERM);
      loop_->After(kTermGraceMs, [this] {
        for (auto& [number, node] : nodes_)
          if (NodeLive(number)) {
            spdlog::warn("node {} ignored halt and SIGTERM; killing it", number);
            node->Signal(SIGKILL);
          }
      });
    });
  };
  // Halt as soon as every sync is done (or the sync budget is spent).
  auto pending = std::make_shared<std::set<int>>(syncing);
  auto halted = std::make_shared<bool>(false);
  auto maybe_halt = [halt, pending, halted] {
    if (!*halted && pending->empty()) {
      *halted = true;
      halt();
    }
  };
  for (int number : syncing) {
    nodes_[number]->mgmt()->Exec("sync", {nullptr, [pending, maybe_halt, number](int, const std::string&) {
                                            pending->erase(number);
                                            maybe_halt();
                                          }});
  }
  loop_->After(kSyncTimeoutMs, [pending, maybe_halt] {
    pending->clear();
    maybe_halt();
  });
  maybe_halt();
}

void Supervisor::Snap(const Request& request, std::shared_ptr<ControlConnection> conn) {
  if (setup_.config.disk != DiskKind::kPlx) {
    conn->Fail("snapshots need DISK=plx");
    return;
  }
  if (!NodeLive(request.node)) {
    conn->Fail("node " + std::to_string(request.node) + " is not running");
    return;
  }
  std::string vdi = "node" + std::to_string(request.node);
  nlohmann::json reply;
  Status s = DaemonRequest("plxd", paths_.PlxdControl(), {{"cmd", "snapshot"}, {"vdi", vdi}, {"name", request.name}}, &reply);
  if (!s.ok()) {
    conn->Fail(s.message());
    return;
  }
  std::string name = vdi + "@" + reply["snapshot"].value("name", std::string());
  events_.Append("node_snapshot", {{"node", request.node}, {"snapshot", name}});
  conn->Finish({{"snapshot", name}});
}

void Supervisor::Net(const Request& request, std::shared_ptr<ControlConnection> conn) {
  if (!switch_.running()) {
    conn->Fail(setup_.config.cidev.empty() ? "the switch is not running"
                                           : "ssi-net needs the cluster's own switch; CIDEV names another");
    return;
  }
  nlohmann::json reply;
  Status s = DaemonRequest("switchd", paths_.SwitchControl(), request.net, &reply, kSwitchdReplyTimeoutMs);
  if (!s.ok()) {
    conn->Fail(s.message());
    return;
  }
  std::string cmd = request.net.value("cmd", std::string());
  if (cmd != "status" && cmd != "forwards") {
    nlohmann::json fields = request.net;
    fields.erase("cmd");
    fields.erase("v");
    events_.Append("net_" + cmd, fields);  // every fault is an event
  }
  reply.erase("v");
  conn->Finish({{"net", reply}});
}

void Supervisor::DiskFault(const Request& request, std::shared_ptr<ControlConnection> conn) {
  if (setup_.config.disk != DiskKind::kPlx || !plxd_.running()) {
    conn->Fail("disk faults need DISK=plx and a running plxd");
    return;
  }
  // A node that went away took its fault with it: its next disk is healthy.
  if (request.fault == "none" && !NodeLive(request.node)) {
    conn->Finish({{"ok", true}});
    return;
  }
  std::string vdi = "node" + std::to_string(request.node);
  Status s = DaemonRequest("plxd", paths_.PlxdControl(), {{"cmd", "fault"}, {"vdi", vdi}, {"fault", request.fault}});
  if (!s.ok()) {
    conn->Fail(s.message());
    return;
  }
  events_.Append("disk_" + request.fault, {{"node", request.node}});
  conn->Finish({{"ok", true}});
}

void Supervisor::PauseResume(const Request& request, std::shared_ptr<ControlConnection> conn) {
  bool pause = request.cmd == Command::kPause;
  int errors = 0;
  for (int number : request.nodes) {
    nlohmann::json msg = Message("node");
    msg["node"] = number;
    Status s = !NodeLive(number) ? Status::InvalidArgument("node " + std::to_string(number) + " is not running")
               : pause           ? nodes_[number]->Pause()
                                 : nodes_[number]->Resume();
    msg["ok"] = s.ok();
    if (s.ok()) {
      msg["state"] = pause ? "paused" : "running";
    } else {
      msg["error"] = s.message();
      ++errors;
    }
    conn->Send(msg);
  }
  conn->Finish({{"ok", errors == 0}});
}

void Supervisor::Attach(const Request& request, std::shared_ptr<ControlConnection> conn) {
  auto session = std::make_shared<Session>();
  session->conn = conn;
  session->events = request.events;
  sessions_.push_back(session);
  std::weak_ptr<Session> weak = session;
  conn->OnClose([this, weak] {
    if (auto s = weak.lock()) std::erase(sessions_, s);
  });
  conn->OnLine([this, weak](const std::string& line) {
    if (auto s = weak.lock()) HandleSessionLine(s, line);
  });
  Follow(*session, request.nodes);
}

void Supervisor::HandleSessionLine(const std::shared_ptr<Session>& session, const std::string& line) {
  Request request;
  Status s = ParseRequest(line, setup_.config.max_nodes, &request);
  if (!s.ok()) {
    nlohmann::json msg = Message("error");
    msg["error"] = s.message();
    session->conn->Send(msg);
    return;
  }
  switch (request.cmd) {
    case Command::kFollow:
      Follow(*session, request.nodes);
      break;
    case Command::kInput:
      if (Node* node = ConsoleNode(request.node)) node->ConsoleInput(request.data);
      break;
    case Command::kStatus: {
      nlohmann::json msg = StatusReport();
      msg["v"] = kControlVersion;
      msg["type"] = "status";
      session->conn->Send(msg);
      break;
    }
    default: {
      nlohmann::json msg = Message("error");
      msg["error"] = "only follow, input and status belong in an attach session";
      session->conn->Send(msg);
    }
  }
}

void Supervisor::Follow(Session& session, const std::vector<int>& nodes) {
  std::set<int> wanted(nodes.begin(), nodes.end());
  for (int number : wanted) {
    if (session.follow.count(number) != 0) continue;
    if (Node* node = ConsoleNode(number)) SendConsole(*session.conn, number, node->console_history());
  }
  session.follow = std::move(wanted);
}

void Supervisor::SendConsole(ControlConnection& conn, int node, std::string_view data) {
  // Chunks keep every line well under the clients' line limit.
  constexpr size_t kChunk = 16 * 1024;
  for (size_t pos = 0; pos < data.size(); pos += kChunk) {
    nlohmann::json msg = Message("console");
    msg["node"] = node;
    msg["data"] = mgmt::Base64Encode(data.substr(pos, kChunk));
    conn.Send(msg);
  }
}

// Both walk a copy of sessions_: a client that stopped reading is dropped
// during a Send, and its session leaves sessions_ (and would be freed) then.
void Supervisor::OnConsole(Node& node, std::string_view data) {
  auto sessions = sessions_;
  for (auto& session : sessions)
    if (session->follow.count(node.number()) != 0) SendConsole(*session->conn, node.number(), data);
}

void Supervisor::OnEvent(const nlohmann::json& event) {
  auto sessions = sessions_;
  for (auto& session : sessions) {
    if (!session->events) continue;
    nlohmann::json msg = event;
    msg["v"] = kControlVersion;
    msg["type"] = "event";
    session->conn->Send(msg);
  }
}

void Supervisor::Reap() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    // A daemon that dies before ssid asks it to stop died unexpectedly, even
    // while the cluster stops (the nodes may still need it).
    if (switch_.Exited(env_, paths_, pid)) {
      if (!switch_.asked_to_stop()) {
        spdlog::error("switchd exited unexpectedly; the nodes have lost their network");
        events_.Append("switch_exited", {{"pid", pid}});
      }
      continue;
    }
    if (locks_.Exited(pid)) {
      if (!locks_.stopping()) {
        spdlog::error("lockserver exited unexpectedly; the nodes have lost locks and membership{}",
                      plxd_.running() ? ", and plxd the ownership of their disks (they fail from now on)" : "");
        events_.Append("lockserver_exited", {{"pid", pid}});
      }
      continue;
    }
    if (plxd_.Exited(env_, paths_, pid)) {
      // UML never reconnects a vhost-user device: every node lost its disk.
      if (!plxd_.asked_to_stop()) {
        disk_lost_ = true;
        spdlog::error("plxd exited unexpectedly; the nodes have lost their disks (ssi-stop, then start again)");
        events_.Append("plxd_exited", {{"pid", pid}});
      }
      continue;
    }
    if (LockNodeLive() && lock_node_->node().pid() == pid) {
      lock_node_->node().OnMainExit(status);
      continue;
    }
    for (auto& [number, node] : nodes_) {
      if (node->pid() == pid && node->state() != NodeState::kExited) {
        node->OnMainExit(status);
        break;
      }
    }
  }
}

}  // namespace ssiuml
