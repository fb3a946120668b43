#include "launcher/plx_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "common/fd.h"
#include "launcher/spawner.h"

namespace ssiuml {
namespace {

// Runs the plx tool on the store, owning VDIs through the cluster's lock
// server as plxd does; its output goes to the plxd log.
Status RunPlx(const ClusterPaths& paths, std::vector<std::string> args) {
  SpawnSpec spec;
  spec.argv = {ExecutableDir() + "/plx", "-s", paths.Store(), "--locks", paths.LockPortFile()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
  UniqueFd log(::open((paths.LogDir() + "/plxd.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  spec.stdout_fd = log.get();
  spec.new_session = false;
  pid_t pid;
  Status s = Spawn(spec, &pid);
  if (!s.ok()) return s;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return Status::IOError("plx " + args[0] + (args.size() > 1 ? " " + args[1] : "") + " failed; see " +
                           paths.LogDir() + "/plxd.log");
  return Status::OK();
}

}  // namespace

Status PrepareStore(Env* env, const ClusterPaths& paths, const std::string& root, std::string* base) {
  struct stat st;
  if (::stat(root.c_str(), &st) != 0) return Status::FromErrno("ROOT " + root, errno);
  // The stamp names the ROOT version the latest base snapshot holds.
  std::string stamp = root + " " + std::to_string(st.st_size) + " " + std::to_string(st.st_mtime);
  std::string recorded;
  bool fresh_store = !env->FileExists(paths.Store());
  if (!fresh_store && env->ReadFileToString(paths.StoreRootStamp(), &recorded).ok()) {
    size_t nl = recorded.find('\n');
    if (nl != std::string::npos && recorded.substr(0, nl) == stamp) {
      *base = "root@" + recorded.substr(nl + 1);
      while (!base->empty() && base->back() == '\n') base->pop_back();
      return Status::OK();
    }
  }
  std::string snapshot = "base-" + std::to_string(env->NowMicros() / 1000000);
  Status s;
  if (fresh_store) {
    s = RunPlx(paths, {"mkfs", paths.Store()});
    if (s.ok()) s = RunPlx(paths, {"vdi", "create", "root", "--size", std::to_string(st.st_size)});
  }
  if (s.ok()) s = RunPlx(paths, {"vdi", "fill", "root", root});
  if (s.ok()) s = RunPlx(paths, {"vdi", "snap", "root", snapshot});
  if (!s.ok()) return s;
  *base = "root@" + snapshot;
  return env->WriteFileAtomic(paths.StoreRootStamp(), stamp + "\n" + snapshot + "\n");
}

}  // namespace ssiuml
