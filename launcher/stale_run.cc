#include "launcher/stale_run.h"

#include "launcher/process_scan.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <thread>
#include <vector>

namespace ssiuml {
namespace {

bool ParsePid(const std::string& text, pid_t* pid) {
  std::string_view t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.remove_suffix(1);
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), *pid);
  return ec == std::errc() && ptr == t.data() + t.size() && *pid > 1;
}

// A recorded pid may have been reused since; only a process whose command
// line names this cluster's RUN directory is ours to kill.
bool BelongsToCluster(Env* env, pid_t pid, const ClusterPaths& paths) {
  std::string cmdline;
  if (!env->ReadFileToString("/proc/" + std::to_string(pid) + "/cmdline", &cmdline).ok())
    return false;
  return cmdline.find(paths.run + "/") != std::string::npos;
}

}  // namespace

Status RecordProcessGroup(Env* env, const ClusterPaths& paths, const std::string& name,
                          pid_t pgid) {
  return env->WriteFileAtomic(paths.PidDir() + "/" + name, std::to_string(pgid) + "\n");
}

Status ForgetProcessGroup(Env* env, const ClusterPaths& paths, const std::string& name) {
  Status s = env->RemoveFile(paths.PidDir() + "/" + name);
  return s.IsNotFound() ? Status::OK() : s;
}

bool ProcessGroupAlive(pid_t pgid) { return ::kill(-pgid, 0) == 0 || errno == EPERM; }

int KillRecordedGroups(Env* env, const ClusterPaths& paths) {
  std::vector<std::string> pid_files;
  std::vector<std::string> names;
  if (env->GetChildren(paths.PidDir(), &names).ok())
    for (const auto& n : names) pid_files.push_back(paths.PidDir() + "/" + n);
  if (env->GetChildren(paths.UmlDir(), &names).ok())
    for (const auto& n : names) pid_files.push_back(paths.UmlDir() + "/" + n + "/pid");

  std::vector<pid_t> killed;
  for (const auto& file : pid_files) {
    std::string text;
    pid_t pgid = 0;
    if (!env->ReadFileToString(file, &text).ok() || !ParsePid(text, &pgid)) continue;
    if (!BelongsToCluster(env, pgid, paths)) continue;
    if (::kill(-pgid, SIGKILL) == 0) killed.push_back(pgid);
  }
  // UML helpers that left their group still name the cluster's uml_dir.
  for (pid_t pid : ProcessesWithArgument("uml_dir=" + paths.UmlDir()))
    if (::kill(pid, SIGKILL) == 0) killed.push_back(pid);
  // The groups are not our children, so we cannot reap them; init does.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (pid_t pgid : killed)
    while ((ProcessGroupAlive(pgid) || ::kill(pgid, 0) == 0) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return static_cast<int>(killed.size());
}

}  // namespace ssiuml
