#include "launcher/lock_node.h"

#include <spdlog/spdlog.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "common/unix_socket.h"
#include "launcher/daemon_control.h"

namespace ssiuml {

LockNode::LockNode(EventLoop* loop, Env* env, const ClusterPaths* paths, EventLog* events, Node::Callbacks callbacks)
    : loop_(loop),
      env_(env),
      paths_(paths),
      events_(events),
      callbacks_(std::move(callbacks)),
      node_(std::make_unique<Node>(kLockNode, loop, env, paths, events, callbacks_)),
      relay_(loop) {}

std::string LockNode::Address(const Config& config) {
  return config.subnet + "." + std::to_string(kLockNodeHost) + ":" + std::to_string(kLockPort);
}

Status LockNode::Forward(int host_port, int guest_port) {
  return DaemonRequest("switchd", paths_->SwitchControl(),
                       {{"cmd", "forward"}, {"host_port", host_port}, {"node", kLockNodeHost}, {"port", guest_port}},
                       nullptr, kSwitchdReplyTimeoutMs);
}

Status LockNode::Start(const NodeLaunch& launch, const Config& config, uint64_t timeout_ms, std::string* control) {
  int host_port = 0, control_port = 0;
  Status s = FreeLoopbackPort(&host_port);
  if (s.ok()) s = FreeLoopbackPort(&control_port);
  if (s.ok() && host_port == control_port) s = FreeLoopbackPort(&control_port);
  if (s.ok()) s = Forward(host_port, kLockPort);
  if (s.ok()) s = Forward(control_port, kLockControlPort);
  if (!s.ok()) return s;
  std::string endpoint = "127.0.0.1:" + std::to_string(control_port);
  s = Boot(launch, config, endpoint, timeout_ms);
  // As for a node (Supervisor::OnNodeGone): a kernel that panics before its
  // lock server answers is a boot gone wrong under load ("/init: can't
  // fork"), not a crash, and gets one more boot.
  if (!s.ok() && node_->kernel_panicked()) {
    spdlog::warn("the lock node panicked while booting; booting it once more");
    events_->Append("node_boot_retry", {{"node", kLockNode}});
    node_ = std::make_unique<Node>(kLockNode, loop_, env_, paths_, events_, callbacks_);
    s = Boot(launch, config, endpoint, timeout_ms);
  }
  if (!s.ok()) return s;
  s = env_->CreateDirs(paths_->LockDir(), 0700);
  if (s.ok()) s = env_->WriteFileAtomic(paths_->LockPortFile(), std::to_string(host_port) + "\n");
  if (s.ok()) s = relay_.Listen(paths_->LockControl(), endpoint);
  if (!s.ok()) return s;
  node_->set_state(NodeState::kRunning);  // it has no agent to say so
  spdlog::info("lock node pid {}: lock server at {}, host clients at 127.0.0.1:{}, control at {}", node_->pid(),
               Address(config), host_port, endpoint);
  *control = endpoint;
  return Status::OK();
}

Status LockNode::Boot(const NodeLaunch& launch, const Config& config, const std::string& endpoint,
                      uint64_t timeout_ms) {
  Status s = node_->Start(launch, config);
  if (!s.ok()) return s;
  // ssid has no loop running yet: the wait drains the console itself, so
  // the booting kernel never blocks on a full pty.
  uint64_t deadline = EventLoop::NowMs() + timeout_ms;
  for (;;) {
    node_->DrainConsole();
    // The gateway takes the connection at once whether or not the lock
    // server is up, so each probe waits briefly: a kernel that died is seen
    // within one probe, not after a daemon's whole reply timeout.
    s = DaemonRequest("the lock node's lock server", endpoint, {{"cmd", "status"}}, nullptr, kProbeTimeoutMs);
    if (s.ok()) return s;
    // ssid fails to start then, so taking the exit status from Reap is harmless.
    int status = 0;
    if (::waitpid(node_->pid(), &status, WNOHANG) == node_->pid()) {
      node_->OnMainExit(status);
      return Status::IOError("the lock node stopped while it booted (" + node_->exit_cause() +
                             "); its console is in " + paths_->ConsoleLog(kLockNode));
    }
    if (EventLoop::NowMs() >= deadline)
      return Status::TimedOut("the lock node did not bring its lock server up within " +
                              std::to_string(timeout_ms / 1000) + " s (" + s.message() + "); its console is in " +
                              paths_->ConsoleLog(kLockNode));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace ssiuml
