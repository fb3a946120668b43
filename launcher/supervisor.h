// ssid's state and behaviour: the nodes, the switch, and the requests of the
// ssi-* commands. Everything runs on one EventLoop; nothing here blocks.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/cpu_affinity.h"
#include "common/env.h"
#include "common/event_loop.h"
#include "launcher/boot_priority.h"
#include "launcher/boot_queue.h"
#include "launcher/cluster_paths.h"
#include "launcher/cluster_setup.h"
#include "launcher/control_server.h"
#include "launcher/daemon_process.h"
#include "launcher/event_log.h"
#include "launcher/lock_daemon.h"
#include "launcher/lock_node.h"
#include "launcher/node.h"
#include "launcher/node_figures.h"
#include "launcher/node_stats.h"

namespace ssiuml {

class Supervisor {
 public:
  Supervisor(EventLoop* loop, Env* env, ClusterPaths paths, ClusterSetup setup);
  ~Supervisor();

  // Starts the switch and listens on RUN/ssid.sock.
  Status Start();
  // Reaps every exited child (SIGCHLD).
  void Reap();
  // Stops every node and the switch, then quits the loop. reply may be null.
  void Stop(std::shared_ptr<ControlConnection> reply);

 private:
  struct AddWait;
  struct Session;

  void HandleLine(const std::string& line, std::shared_ptr<ControlConnection> conn);
  void Add(const Request& request, std::shared_ptr<ControlConnection> conn);
  void Remove(const Request& request, std::shared_ptr<ControlConnection> conn);
  void Exec(const Request& request, std::shared_ptr<ControlConnection> conn);
  void PauseResume(const Request& request, std::shared_ptr<ControlConnection> conn);
  void Attach(const Request& request, std::shared_ptr<ControlConnection> conn);
  void HandleSessionLine(const std::shared_ptr<Session>& session, const std::string& line);
  void Follow(Session& session, const std::vector<int>& nodes);
  void SendConsole(ControlConnection& conn, int node, std::string_view data);
  void OnConsole(Node& node, std::string_view data);
  void OnEvent(const nlohmann::json& event);
  nlohmann::json StatusReport();
  Status StartNode(int number, bool fresh, const std::string& from);
  // Starts boots the queue admitted; a boot that cannot start is reported
  // to its ssi-add and frees its slot for the next.
  void StartAdmitted(std::vector<BootQueue::Boot> boots);
  // Tells the ssi-add waiting for number, if any, how its boot ended.
  void ReportBoot(int number, bool ok, const std::string& error);
  void ArmAddTimeout(const std::shared_ptr<AddWait>& wait, uint64_t delay_ms);
  void Snap(const Request& request, std::shared_ptr<ControlConnection> conn);
  void Net(const Request& request, std::shared_ptr<ControlConnection> conn);
  void DiskFault(const Request& request, std::shared_ptr<ControlConnection> conn);
  Status StartSwitch();
  // On the host, or in a lock node (INITRD_MEMEXP) once the switch runs.
  Status StartLockServer();
  void OnLockNodeGone();
  bool LockNodeLive() const;
  nlohmann::json LockNodeReport();
  // The node whose console number names (kLockNode: the lock node's), or null.
  Node* ConsoleNode(int number);
  // The lock server expired the session of node's incarnation boot: make
  // sure none of that incarnation runs.
  void Fence(int number, const std::string& boot, std::function<void()> done);
  Status StartDiskServer();
  // cpu >= 0: plxd serves the disk from that CPU, where the node runs.
  Status ServeNodeDisk(int number, bool fresh, const std::string& from, int cpu, std::string* socket);
  Status CheckNodeOrigin(const std::string& vdi);
  void StopNodes();
  void FinishStop(std::shared_ptr<ControlConnection> reply, uint64_t deadline_ms);
  void OnNodeReady(Node& node);
  void OnNodeGone(Node& node);
  void RetryBoot(int number);
  // Runs callback once every node in numbers is gone.
  void WhenGone(std::set<int> numbers, std::function<void()> callback);
  void CheckGoneWaiters();
  bool NodeLive(int number) const;

  EventLoop* loop_;
  Env* env_;
  ClusterPaths paths_;
  ClusterSetup setup_;
  EventLog events_;
  ControlServer server_;
  std::string switch_vnl_;
  DaemonProcess switch_{"switch"};
  DaemonProcess plxd_{"plxd"};
  LockDaemon locks_{loop_, env_, &paths_, &events_};
  std::unique_ptr<LockNode> lock_node_;  // the lock server's UML, when INITRD_MEMEXP is used
  std::vector<int> cpus_ = AllowedCpus();  // PLACEMENT=spread puts nodes on these
  std::string base_snapshot_;  // DISK=plx: what new nodes are cloned from
  bool disk_lost_ = false;     // plxd died under the nodes
  bool stopping_ = false;
  std::map<int, std::unique_ptr<Node>> nodes_;
  std::set<int> boot_retried_;  // nodes whose kernel panicked in their last boot
  BootQueue boot_queue_;
  BootPriority boot_priority_{loop_, env_};
  std::vector<std::shared_ptr<AddWait>> add_waits_;
  std::vector<std::shared_ptr<Session>> sessions_;
  CpuMeter cpu_meter_;
  NodeFigures figures_;
  std::vector<std::pair<std::set<int>, std::function<void()>>> gone_waiters_;
};

}  // namespace ssiuml
