// One cluster node: a linux.uml process group, its console and management
// line. The Supervisor drives it; Node knows how to start, signal and clean
// up after one UML instance.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "common/env.h"
#include "common/event_loop.h"
#include "launcher/cluster_paths.h"
#include "launcher/config.h"
#include "launcher/console_log.h"
#include "launcher/event_log.h"
#include "launcher/mgmt_channel.h"
#include "launcher/uml_command.h"

namespace ssiuml {

enum class NodeState { kStarting, kRunning, kStopping, kExited };
const char* NodeStateName(NodeState state);

class Node {
 public:
  // Console output kept for viewers that attach late and for crash causes.
  static constexpr size_t kHistoryBytes = 64 * 1024;
  static constexpr const char* kKernelPanic = "kernel panic";

  struct Callbacks {
    std::function<void(Node&)> on_ready;  // ssi-agent answered
    std::function<void(Node&)> on_gone;   // every process of the node is gone
    std::function<void(Node&, std::string_view)> on_console;  // con0 output
  };

  Node(int number, EventLoop* loop, Env* env, const ClusterPaths* paths, EventLog* events,
       Callbacks callbacks);
  ~Node();

  Status Start(const NodeLaunch& launch, const Config& config);
  // Sends sig to every process of the node: its group and the helpers that
  // left the group (see process_scan.h).
  void Signal(int sig);
  // Marks the coming exit as intended, with the cause to report.
  void ExpectExit(std::string cause);
  // Called by the reaper when the main UML process exited.
  void OnMainExit(int wait_status);

  int number() const { return number_; }
  pid_t pid() const { return pid_; }
  NodeState state() const { return state_; }
  void set_state(NodeState state) { state_ = state; }
  const std::string& exit_cause() const { return exit_cause_; }
  // Whether it exited because its kernel panicked.
  bool kernel_panicked() const { return exit_cause_ == kKernelPanic; }
  // Whether this boot's ssi-agent ever answered.
  bool came_up() const { return came_up_; }
  uint64_t started_ms() const { return started_ms_; }
  MgmtChannel* mgmt() { return mgmt_.get(); }
  const std::string& console_history() const { return history_; }
  // Types into con0; ignored once the node is gone.
  void ConsoleInput(std::string_view data) {
    if (console_) console_->Write(data);
  }
  // Collects console output now, for a caller that holds up the loop.
  void DrainConsole() {
    if (console_) console_->Drain();
  }
  // mconsole stop/go: the whole guest freezes, as in a long GC pause.
  Status Pause();
  Status Resume();
  bool paused() const { return paused_; }

 private:
  std::string DescribeExit(int wait_status);
  bool AnyProcessLeft() const;
  void WaitForGroupGone(uint64_t deadline_ms);
  void Cleanup();

  int number_;
  EventLoop* loop_;
  Env* env_;
  const ClusterPaths* paths_;
  EventLog* events_;
  Callbacks callbacks_;
  NodeState state_ = NodeState::kStarting;
  pid_t pid_ = -1;
  uint64_t started_ms_ = 0;
  uint64_t wait_timer_ = 0;
  std::string expected_cause_;
  std::string exit_cause_;
  std::string history_;
  bool paused_ = false;
  bool came_up_ = false;
  std::unique_ptr<ConsoleLog> console_;
  std::unique_ptr<MgmtChannel> mgmt_;
};

}  // namespace ssiuml
