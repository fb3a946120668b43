#include "launcher/daemon_process.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "launcher/spawner.h"
#include "launcher/stale_run.h"

namespace ssiuml {

Status DaemonProcess::Start(Env* env, const ClusterPaths& paths, std::vector<std::string> argv,
                            const std::string& log, const std::string& ready_path) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
  UniqueFd read_end(pipe_fds[0]);
  stdin_pipe_.Reset(pipe_fds[1]);
  UniqueFd log_fd(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  SpawnSpec spec;
  spec.argv = std::move(argv);
  const char* path = std::getenv("PATH");
  spec.env = {std::string("PATH=") + (path ? path : "/usr/bin:/bin")};
  spec.stdin_fd = read_end.get();
  spec.stdout_fd = log_fd.get();
  Status s = Spawn(spec, &pid_);
  if (!s.ok()) return s;
  RecordProcessGroup(env, paths, name_, pid_);
  for (int i = 0; i < 500 && !env->FileExists(ready_path); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (!env->FileExists(ready_path))
    return Status::IOError(name_ + " did not come up (no " + ready_path + "); see " + log);
  return Status::OK();
}

void DaemonProcess::Stop(EventLoop* loop, uint64_t grace_ms) {
  if (pid_ < 0) return;
  stdin_pipe_.Reset();  // EOF: the daemon cleans up and exits
  pid_t pid = pid_;
  loop->After(grace_ms, [this, pid] {
    if (pid_ == pid) ::kill(-pid, SIGKILL);
  });
}

bool DaemonProcess::Exited(Env* env, const ClusterPaths& paths, pid_t pid) {
  if (pid != pid_ || pid < 0) return false;
  pid_ = -1;
  ForgetProcessGroup(env, paths, name_);
  return true;
}

}  // namespace ssiuml
