#include "launcher/plx_store.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "common/mgmt_frame.h"
#include "common/unix_socket.h"
#include "launcher/spawner.h"

namespace ssiuml {
namespace {

constexpr int kPlxdReplyTimeoutMs = 30000;

// Runs the plx tool on the store; its output goes to the plxd log.
Status RunPlx(const ClusterPaths& paths, std::vector<std::string> args) {
  SpawnSpec spec;
  spec.argv = {ExecutableDir() + "/plx", "-s", paths.Store()};
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

Status PlxdRequest(const std::string& control, const nlohmann::json& request, nlohmann::json* reply) {
  UniqueFd fd;
  Status s = ConnectUnix(control, &fd);
  if (!s.ok()) return Status::IOError("plxd is not answering (" + s.message() + ")");
  nlohmann::json req = request;
  req["v"] = 1;
  s = WriteAllFd(fd.get(), req.dump() + "\n");
  if (!s.ok()) return s;
  mgmt::LineSplitter lines;
  std::string line;
  char buf[4096];
  while (!lines.Next(&line)) {
    struct pollfd pfd = {fd.get(), POLLIN, 0};
    if (::poll(&pfd, 1, kPlxdReplyTimeoutMs) != 1) return Status::TimedOut("plxd did not answer");
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n <= 0) return Status::IOError("plxd closed its control connection");
    lines.Feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  nlohmann::json r = nlohmann::json::parse(line, nullptr, false);
  if (!r.is_object()) return Status::Corruption("plxd sent a malformed reply");
  if (!r.value("ok", false)) return Status::IOError("plxd: " + r.value("error", std::string("failed")));
  if (reply) *reply = std::move(r);
  return Status::OK();
}

}  // namespace ssiuml
