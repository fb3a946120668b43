#include "launcher/control_client.h"

#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <thread>

#include "common/env.h"
#include "common/mgmt_frame.h"
#include "common/unix_socket.h"
#include "launcher/spawner.h"
#include "launcher/stale_run.h"

namespace ssiuml {
namespace {

// ssid is up once it listens; with a lock node, that waits for its boot.
constexpr int kSupervisorStartMs = 90000;

// The last error ssid pid logged: a failed start logs its shutdown after it.
std::string LastError(const std::string& path, pid_t pid) {
  std::string text;
  if (!Env::Default()->ReadFileToString(path, &text).ok()) return "";
  std::string tag = "ssid[" + std::to_string(pid) + "] error: ";
  size_t at = text.rfind(tag);
  if (at == std::string::npos) return "";
  return text.substr(at + tag.size(), text.find('\n', at) - at - tag.size());
}

}  // namespace

Status CallSupervisor(const ClusterPaths& paths, const Request& request,
                      const std::function<void(const nlohmann::json&)>& on_progress,
                      nlohmann::json* result, int idle_timeout_ms) {
  UniqueFd fd;
  Status s = ConnectUnix(paths.SupervisorSocket(), &fd);
  if (!s.ok()) {
    if (s.IsNotFound() || s.message().find("refused") != std::string::npos)
      return Status::NotFound("cluster " + paths.name + " is not running (start it with ssi-start)");
    return s;
  }
  s = SendAllFd(fd.get(), ToLine(EncodeRequest(request)));
  if (!s.ok())
    return Status::IOError("ssid closed the connection before taking the request (" + s.message() +
                           "; too many clients?); try again, or see " + paths.SupervisorLog());
  mgmt::LineSplitter lines;
  char buf[65536];
  for (;;) {
    std::string line;
    while (lines.Next(&line)) {
      nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
      if (message.is_discarded() || !message.is_object())
        return Status::Corruption("ssid sent a malformed reply");
      if (message.value("type", "") == "result") {
        *result = std::move(message);
        return Status::OK();
      }
      on_progress(message);
    }
    struct pollfd pfd = {fd.get(), POLLIN, 0};
    int r = ::poll(&pfd, 1, idle_timeout_ms > 0 ? idle_timeout_ms : -1);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return Status::TimedOut("ssid of cluster " + paths.name + " stopped answering");
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::IOError("ssid closed the connection without an answer; see " +
                                       paths.SupervisorLog());
    lines.Feed(std::string_view(buf, static_cast<size_t>(n)));
  }
}

Status ExecOnNode(const ClusterPaths& paths, int node, const std::string& command,
                  uint64_t timeout_ms, std::string* output, int* exit_status) {
  Request request;
  request.cmd = Command::kExec;
  request.node = node;
  request.command = command;
  request.timeout_ms = timeout_ms;
  output->clear();
  nlohmann::json result;
  Status s = CallSupervisor(paths, request, [&](const nlohmann::json& m) {
    std::string data;
    if (m.value("type", "") == "output" && mgmt::Base64Decode(m.value("data", ""), &data))
      *output += data;
  }, &result);
  if (!s.ok()) return s;
  if (!result.value("ok", false)) return Status::IOError(result.value("error", std::string("exec failed")));
  *exit_status = result.value("exit", -1);
  return Status::OK();
}

Status NodeRequest(const ClusterPaths& paths, const Request& request,
                   std::vector<std::string>* node_errors) {
  nlohmann::json result;
  Status s = CallSupervisor(paths, request, [&](const nlohmann::json& m) {
    if (m.value("type", "") == "node" && !m.value("ok", true))
      node_errors->push_back(m.value("error", std::string("failed")));
  }, &result);
  if (!s.ok()) return s;
  if (result.contains("error")) node_errors->push_back(result["error"].get<std::string>());
  return Status::OK();
}

Status ClusterStatus(const ClusterPaths& paths, nlohmann::json* status) {
  Request request;
  request.cmd = Command::kStatus;
  return CallSupervisor(paths, request, [](const nlohmann::json&) {}, status, 10000);
}

bool SupervisorRunning(const ClusterPaths& paths, bool* cleaned) {
  *cleaned = false;
  Env* env = Env::Default();
  UniqueFd fd;
  if (ConnectUnix(paths.SupervisorSocket(), &fd).ok()) return true;
  if (!env->FileExists(paths.run)) return false;
  std::unique_ptr<FileLock> lock;
  Status s = env->LockFile(paths.SupervisorLock(), &lock);
  // Busy: an ssid holds the lock but is not listening (starting or stopping).
  if (!s.ok()) return s.IsBusy();
  KillRecordedGroups(env, paths);
  env->RemoveTree(paths.run);
  *cleaned = true;
  return false;
}

namespace {

// The pid of the cluster's ssid, from RUN/ssid.pid, if that process is one.
pid_t SupervisorPid(const ClusterPaths& paths) {
  Env* env = Env::Default();
  std::string text, cmdline;
  if (!env->ReadFileToString(paths.SupervisorPidFile(), &text).ok()) return -1;
  pid_t pid = std::atoi(text.c_str());
  if (pid <= 1 || !env->ReadFileToString("/proc/" + std::to_string(pid) + "/cmdline", &cmdline).ok() ||
      cmdline.find("ssid") == std::string::npos)
    return -1;
  return pid;
}

// True while pid runs; a zombie (an exited ssid nobody reaped yet) is gone.
bool Running(pid_t pid) {
  std::string stat;
  if (!Env::Default()->ReadFileToString("/proc/" + std::to_string(pid) + "/stat", &stat).ok()) return false;
  size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

void WaitUntilGone(pid_t pid) {
  for (int i = 0; i < 200 && pid > 0 && Running(pid); ++i) usleep(50000);
}

}  // namespace

Status StopCluster(const ClusterPaths& paths) {
  pid_t ssid = SupervisorPid(paths);
  Request request;
  request.cmd = Command::kStop;
  nlohmann::json result;
  Status s = CallSupervisor(paths, request, [](const nlohmann::json&) {}, &result, 30000);
  if (s.ok() && !result.value("ok", false))
    return Status::Busy(result.value("error", std::string("stop refused")));
  if (!s.ok() && !s.IsNotFound() && ssid > 0) {
    std::fprintf(stderr, "ssiuml: %s; killing the cluster's processes\n", s.message().c_str());
    ::kill(ssid, SIGKILL);
  }
  WaitUntilGone(ssid);
  if (ssid > 0 && Running(ssid)) {
    ::kill(ssid, SIGKILL);
    WaitUntilGone(ssid);
  }
  bool cleaned = false;
  SupervisorRunning(paths, &cleaned);
  return Status::OK();
}

Status EnsureSupervisor(const ClusterPaths& paths, bool verbose, const std::string& root, bool lock_node) {
  bool cleaned = false;
  if (SupervisorRunning(paths, &cleaned)) {
    // Wait out an ssid that holds the lock but is still starting.
    for (int waited = 0; waited < kSupervisorStartMs; waited += 50) {
      UniqueFd fd;
      if (ConnectUnix(paths.SupervisorSocket(), &fd).ok()) return Status::OK();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return Status::Busy("the supervisor of cluster " + paths.name +
                        " is busy (stopping?); try again shortly");
  }
  Env* env = Env::Default();
  env->CreateDirs(paths.LogDir(), 0755);
  UniqueFd log(::open(paths.SupervisorLog().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  SpawnSpec spec;
  spec.argv = {ExecutableDir() + "/ssid", "--cluster", paths.name};
  if (verbose) spec.argv.push_back("-v");
  if (!root.empty()) spec.argv.insert(spec.argv.end(), {"--root", root});
  if (lock_node) spec.argv.push_back("--lock-node");
  for (char** e = environ; *e != nullptr; ++e) spec.env.emplace_back(*e);
  spec.stdout_fd = log.get();
  pid_t pid = -1;
  Status s = Spawn(spec, &pid);
  if (!s.ok()) return s;
  for (int waited = 0; waited < kSupervisorStartMs; waited += 20) {
    UniqueFd fd;
    if (ConnectUnix(paths.SupervisorSocket(), &fd).ok()) return Status::OK();
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 3) return Status::OK();  // lost a race
      std::string error = LastError(paths.SupervisorLog(), pid);
      return Status::IOError(error.empty() ? "ssid failed to start; see " + paths.SupervisorLog() : error);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Status::TimedOut("ssid did not start within " + std::to_string(kSupervisorStartMs / 1000) + " s; see " + paths.SupervisorLog());
}

}  // namespace ssiuml
