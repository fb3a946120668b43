#include "launcher/node.h"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cerrno>
#include <ctime>

#include "common/unix_socket.h"
#include "launcher/mconsole.h"
#include "launcher/process_scan.h"
#include "launcher/pty.h"
#include "launcher/spawner.h"
#include "launcher/stale_run.h"

namespace ssiuml {
namespace {

// How long the helpers of a dead UML may take to die after SIGKILL.
constexpr uint64_t kGroupGoneTimeoutMs = 5000;

std::string PgidFileName(int node) { return "node" + std::to_string(node); }

}  // namespace

const char* NodeStateName(NodeState state) {
  switch (state) {
    case NodeState::kStarting: return "starting";
    case NodeState::kRunning: return "running";
    case NodeState::kStopping: return "stopping";
    case NodeState::kExited: return "exited";
  }
  return "?";
}

Node::Node(int number, EventLoop* loop, Env* env, const ClusterPaths* paths, EventLog* events,
           Callbacks callbacks)
    : number_(number), loop_(loop), env_(env), paths_(paths), events_(events),
      callbacks_(std::move(callbacks)) {}

Node::~Node() { loop_->Cancel(wait_timer_); }

Status Node::Start(const NodeLaunch& launch, const Config& config) {
  // A umid dir left by an earlier crash makes UML pick a random umid.
  env_->RemoveTree(paths_->UmlDir() + "/" + paths_->Umid(number_));

  // con0 is a pty so the guest console behaves as a terminal; the management
  // line is a socketpair, which spares UML a winch helper for it.
  UniqueFd console_master, console_slave;
  Status s = OpenRawPty(&console_master, &console_slave);
  if (!s.ok()) return s;
  int mgmt_pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, mgmt_pair) != 0)
    return Status::FromErrno("socketpair", errno);
  UniqueFd mgmt_master(mgmt_pair[0]), mgmt_slave(mgmt_pair[1]);
  SetNonBlocking(mgmt_master.get());
  std::string log_path = paths_->ConsoleLog(number_);
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log.valid()) return Status::FromErrno("open " + log_path, errno);

  time_t now = ::time(nullptr);
  char stamp[64];
  ::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", ::localtime(&now));
  std::string banner = "\n=== ssiuml: node " + std::to_string(number_) + " booting at " +
                       stamp + " ===\n";
  (void)!::write(log.get(), banner.data(), banner.size());

  SpawnSpec spec;
  spec.argv = UmlArgv(launch, config, *paths_);
  // UML runs vde_plug from PATH for its vde transport.
  const char* path = std::getenv("PATH");
  spec.env = {std::string("PATH=") + (path ? path : "/usr/local/bin:/usr/bin:/bin"),
              "HOME=" + paths_->state, "TMPDIR=/tmp"};
  // UML's own early messages (before con0 exists) land in the console log too.
  spec.stdout_fd = log.get();
  spec.extra_fds = {console_slave.get(), mgmt_slave.get()};
  spec.cpu = launch.cpu;
  // A panicking UML aborts: its core (all of the guest's memory) would land
  // in the directory ssi-start ran in; the panic is in the console log.
  spec.core_dump = false;
  s = Spawn(spec, &pid_);
  if (!s.ok()) return s;
  started_ms_ = EventLoop::NowMs();
  state_ = NodeState::kStarting;
  RecordProcessGroup(env_, *paths_, PgidFileName(number_), pid_);
  history_.clear();
  came_up_ = false;
  console_ = std::make_unique<ConsoleLog>(
      loop_, std::move(console_master), log_path, std::move(log), [this](std::string_view data) {
        history_.append(data);
        if (history_.size() > kHistoryBytes) history_.erase(0, history_.size() - kHistoryBytes);
        if (callbacks_.on_console) callbacks_.on_console(*this, data);
      });
  mgmt_ = std::make_unique<MgmtChannel>(loop_, std::move(mgmt_master), [this] {
    if (state_ == NodeState::kStarting) state_ = NodeState::kRunning;
    came_up_ = true;
    spdlog::info("node {} is up ({:.1f} s)", number_, (EventLoop::NowMs() - started_ms_) / 1000.0);
    events_->Append("node_ready", {{"node", number_}, {"pid", pid_},
                                   {"boot_ms", EventLoop::NowMs() - started_ms_}});
    if (callbacks_.on_ready) callbacks_.on_ready(*this);
  });
  spdlog::info("node {} started, pid {}", number_, pid_);
  events_->Append("node_started", {{"node", number_}, {"pid", pid_}});
  return Status::OK();
}

void Node::Signal(int sig) {
  if (pid_ <= 0) return;
  ::kill(-pid_, sig);
  for (pid_t helper : ProcessesWithArgument("umid=" + paths_->Umid(number_))) ::kill(helper, sig);
}

bool Node::AnyProcessLeft() const {
  return ProcessGroupAlive(pid_) || !ProcessesWithArgument("umid=" + paths_->Umid(number_)).empty();
}

Status Node::Pause() {
  if (state_ != NodeState::kRunning) return Status::InvalidArgument("node " + std::to_string(number_) + " is not running");
  Status s = MconsoleSend(paths_->MconsoleSocket(number_), "stop");
  if (s.ok()) {
    paused_ = true;
    events_->Append("node_paused", {{"node", number_}});
  }
  return s;
}

Status Node::Resume() {
  if (!paused_) return Status::InvalidArgument("node " + std::to_string(number_) + " is not paused");
  Status s = MconsoleSend(paths_->MconsoleSocket(number_), "go");
  if (s.ok()) {
    paused_ = false;
    events_->Append("node_resumed", {{"node", number_}});
  }
  return s;
}

void Node::ExpectExit(std::string cause) {
  if (expected_cause_.empty()) expected_cause_ = std::move(cause);
}

std::string Node::DescribeExit(int wait_status) {
  if (!expected_cause_.empty()) return expected_cause_;
  if (history_.find("Kernel panic") != std::string::npos)
    return kKernelPanic;
  if (WIFSIGNALED(wait_status))
    return std::string("killed by signal ") + std::to_string(WTERMSIG(wait_status)) + " (" +
           ::sigdescr_np(WTERMSIG(wait_status)) + ")";
  if (WEXITSTATUS(wait_status) == 0) return "powered off";
  return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
}

void Node::OnMainExit(int wait_status) {
  if (console_) console_->Drain();
  exit_cause_ = DescribeExit(wait_status);
  state_ = NodeState::kStopping;
  if (mgmt_) mgmt_->FailAll("node " + std::to_string(number_) + " exited (" + exit_cause_ + ")");
  // The helpers (ubd, SIGIO, address spaces, vde_plug, winch) die with it.
  Signal(SIGKILL);
  WaitForGroupGone(EventLoop::NowMs() + kGroupGoneTimeoutMs);
}

void Node::WaitForGroupGone(uint64_t deadline_ms) {
  if (AnyProcessLeft() && EventLoop::NowMs() < deadline_ms) {
    wait_timer_ = loop_->After(20, [this, deadline_ms] { WaitForGroupGone(deadline_ms); });
    return;
  }
  if (AnyProcessLeft()) spdlog::warn("node {}: processes survived SIGKILL", number_);
  Cleanup();
}

void Node::Cleanup() {
  env_->RemoveTree(paths_->UmlDir() + "/" + paths_->Umid(number_));
  ForgetProcessGroup(env_, *paths_, PgidFileName(number_));
  mgmt_.reset();
  console_.reset();
  state_ = NodeState::kExited;
  spdlog::info("node {} exited: {}", number_, exit_cause_);
  events_->Append("node_exited", {{"node", number_}, {"pid", pid_}, {"cause", exit_cause_},
                                  {"expected", !expected_cause_.empty()}});
  if (callbacks_.on_gone) callbacks_.on_gone(*this);
}

}  // namespace ssiuml
