// Starting long-lived children (UML nodes, the switch) the Ninja way:
// posix_spawn, which reports exec failures directly, no fork in a process
// that owns many fds, and only the fds we name reach the child.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace ssiuml {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] is the program (path or name on PATH)
  std::vector<std::string> env;   // KEY=value; the child sees exactly these
  int stdin_fd = -1;              // -1: /dev/null
  int stdout_fd = -1;             // -1: /dev/null
  int stderr_fd = -1;             // -1: same as stdout
  std::vector<int> extra_fds;     // become fds 3, 4, ... in the child
  bool new_session = true;        // setsid: the child leads its own process group
  int cpu = -1;                   // >= 0: the child (and all it starts) runs on this CPU alone
  bool core_dump = true;          // false: the child dumps no core (RLIMIT_CORE 0)
};

Status Spawn(const SpawnSpec& spec, pid_t* pid);
// Looks a bare program name up on PATH; a name with a '/' is returned as is.
Status FindProgram(const std::string& name, std::string* path);
// The directory holding the running executable (for companion binaries).
std::string ExecutableDir();

}  // namespace ssiuml
