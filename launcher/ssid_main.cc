// ssid: the supervisor of one cluster. Started by ssi-start (or ssi-add),
// it owns every process of the cluster and answers the ssi-* commands on
// RUN/ssid.sock until ssi-stop or SIGTERM.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>

#include "common/env.h"
#include "common/event_loop.h"
#include "common/log.h"
#include "launcher/cluster_paths.h"
#include "launcher/cluster_setup.h"
#include "launcher/stale_run.h"
#include "launcher/supervisor.h"

namespace po = boost::program_options;
using namespace ssiuml;

namespace {

// Exit codes ssi-start interprets.
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitAlreadyRunning = 3;

int Fail(const std::string& message, int code = kExitFailure) {
  spdlog::error("{}", message);
  return code;
}

// Empties RUN of whatever a dead predecessor left, keeping our lock file.
void ClearRun(Env* env, const ClusterPaths& paths) {
  int killed = KillRecordedGroups(env, paths);
  if (killed > 0) spdlog::warn("killed {} process groups left by a supervisor that died", killed);
  std::vector<std::string> names;
  if (!env->GetChildren(paths.run, &names).ok()) return;
  for (const auto& name : names)
    if (name != "ssid.lock") env->RemoveTree(paths.run + "/" + name);
}

}  // namespace

int main(int argc, char** argv) {
  std::string cluster = "default";
  std::string root;
  bool verbose = false, lock_node = false;
  po::options_description options("ssid options");
  options.add_options()("cluster", po::value(&cluster), "cluster name")(
      "root", po::value(&root), "root image or VDI@SNAP instead of ROOT")(
      "lock-node", po::bool_switch(&lock_node), "run the lock server in a lock node (as INITRD_MEMEXP)")(
      "verbose,v", po::bool_switch(&verbose), "debug logging")("help,h", "this help");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::fprintf(stderr, "ssid: %s\n", e.what());
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << "usage: ssid [--cluster NAME] [--root IMAGE|VDI@SNAP] [--lock-node] [-v]\n(started by ssi-start; not run by hand)\n"
              << options;
    return 0;
  }

  Env* env = Env::Default();
  ClusterPaths paths;
  Status s = ResolveClusterPaths(cluster, &paths);
  if (!s.ok()) {
    std::fprintf(stderr, "ssid: %s\n", s.message().c_str());
    return kExitUsage;
  }
  for (const auto& dir : {paths.LogDir(), paths.DiskDir()}) env->CreateDirs(dir, 0755);
  s = env->CreateDirs(paths.run, 0700);
  if (!s.ok()) {
    std::fprintf(stderr, "ssid: %s\n", s.message().c_str());
    return kExitFailure;
  }
  SetupLogging("ssid", verbose, paths.SupervisorLog());

  std::unique_ptr<FileLock> lock;
  s = env->LockFile(paths.SupervisorLock(), &lock);
  if (s.IsBusy()) return Fail("cluster " + cluster + " already has a supervisor", kExitAlreadyRunning);
  if (!s.ok()) return Fail(s.message());
  ClearRun(env, paths);
  env->WriteFileAtomic(paths.SupervisorPidFile(), std::to_string(::getpid()) + "\n");
  for (const auto& dir : {paths.PidDir(), paths.UmlDir()}) env->CreateDirs(dir, 0700);

  ClusterSetup setup;
  s = LoadClusterSetup(env, &setup);
  if (s.ok() && !root.empty()) s = ResolveRoot(root, &setup);
  if (s.ok() && lock_node) s = UseLockNode(&setup);
  if (!s.ok()) return Fail(s.message(), kExitUsage);

  // Orphaned UML helpers re-parent to us, so we reap them and can tell when
  // a node's process group is really gone.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, sig);
  ::sigprocmask(SIG_BLOCK, &signals, nullptr);
  UniqueFd signal_fd(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));

  EventLoop loop;
  s = loop.Init();
  if (!s.ok()) return Fail(s.message());
  Supervisor supervisor(&loop, env, paths, setup);
  loop.Watch(signal_fd.get(), EPOLLIN, [&](uint32_t) {
    signalfd_siginfo info;
    while (::read(signal_fd.get(), &info, sizeof info) == sizeof info) {
      if (info.ssi_signo == SIGCHLD) {
        supervisor.Reap();
      } else {
        spdlog::info("signal {}: stopping the cluster", info.ssi_signo);
        supervisor.Stop(nullptr);
      }
    }
  });
  s = supervisor.Start();
  if (!s.ok()) {
    spdlog::error("{}", s.message());
    supervisor.Stop(nullptr);
    loop.Run();
    env->RemoveTree(paths.run);
    return kExitFailure;
  }
  spdlog::info("supervising cluster {} (pid {})", cluster, ::getpid());
  loop.Run();
  supervisor.Reap();
  env->RemoveTree(paths.run);
  spdlog::info("cluster {} stopped", cluster);
  return 0;
}
