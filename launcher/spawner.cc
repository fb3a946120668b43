#include "launcher/spawner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "common/cpu_affinity.h"
#include "common/fd.h"

namespace ssiuml {

Status Spawn(const SpawnSpec& spec, pid_t* pid) {
  if (spec.argv.empty()) return Status::InvalidArgument("nothing to spawn");
  std::string program;
  Status s = FindProgram(spec.argv[0], &program);
  if (!s.ok()) return s;

  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull.valid()) return Status::FromErrno("open /dev/null", errno);
  // dup2 in file actions runs in order; move every source fd above the
  // targets first so an early dup2 cannot clobber a later source.
  const int targets = 3 + static_cast<int>(spec.extra_fds.size());
  std::vector<UniqueFd> sources;
  auto lift = [&](int fd) -> int {
    int high = ::fcntl(fd < 0 ? devnull.get() : fd, F_DUPFD_CLOEXEC, targets + 10);
    sources.emplace_back(high);
    return high;
  };
  int in = lift(spec.stdin_fd);
  int out = lift(spec.stdout_fd);
  int err = spec.stderr_fd < 0 ? out : lift(spec.stderr_fd);
  std::vector<int> extras;
  for (int fd : spec.extra_fds) extras.push_back(lift(fd));
  for (const UniqueFd& fd : sources)
    if (!fd.valid()) return Status::FromErrno("dup", errno);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in, 0);
  posix_spawn_file_actions_adddup2(&actions, out, 1);
  posix_spawn_file_actions_adddup2(&actions, err, 2);
  for (size_t i = 0; i < extras.size(); ++i)
    posix_spawn_file_actions_adddup2(&actions, extras[i], 3 + static_cast<int>(i));
  posix_spawn_file_actions_addclosefrom_np(&actions, targets);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);  // ssid blocks signals for its signalfd
  posix_spawnattr_setsigdefault(&attr, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (spec.new_session) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(&attr, flags);

  std::vector<char*> argv, envp;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  // posix_spawn has no affinity attribute: the child inherits this thread's
  // mask, set for the moment of the spawn, so it is pinned before it runs.
  std::vector<int> own_cpus;
  if (spec.cpu >= 0) {
    own_cpus = AllowedCpus();
    s = PinThisThread(spec.cpu);
  }
  int rc = s.ok() ? ::posix_spawn(pid, program.c_str(), &actions, &attr, argv.data(), envp.data()) : 0;
  if (spec.cpu >= 0) (void)SetThreadCpus(own_cpus);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (!s.ok()) return s;
  if (rc != 0) return Status::FromErrno("cannot start " + program, rc);
  // posix_spawn sets no limits, so the child gets its limit as it starts
  // (a UML takes far longer to get to any panic); failing that it would
  // only dump a core.
  const rlimit no_core{0, 0};
  if (!spec.core_dump && ::prlimit(*pid, RLIMIT_CORE, &no_core, nullptr) != 0)
    spdlog::warn("cannot turn off core dumps of {}: {}", program, std::strerror(errno));
  return Status::OK();
}

namespace {

// access(X_OK) alone also passes a folder one may search.
bool IsProgram(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

Status FindProgram(const std::string& name, std::string* path) {
  if (name.empty()) return Status::InvalidArgument("no program named (the name is empty)");
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) != 0) return Status::FromErrno(name, errno);
    if (!IsProgram(name)) return Status::InvalidArgument(name + " is not a program (a folder?)");
    *path = name;
    return Status::OK();
  }
  const char* env_path = std::getenv("PATH");
  std::string dirs = env_path != nullptr ? env_path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    std::string dir = dirs.substr(start, colon - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (IsProgram(candidate)) {
      *path = candidate;
      return Status::OK();
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return Status::NotFound(name + " not found on PATH");
}

std::string ExecutableDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "." : exe.parent_path().string();
}

}  // namespace ssiuml
