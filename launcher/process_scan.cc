#include "launcher/process_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

namespace ssiuml {

std::vector<pid_t> ProcessesWithArgument(const std::string& arg) {
  std::vector<pid_t> found;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return found;
  std::string needle = arg;
  needle.push_back('\0');
  while (struct dirent* e = ::readdir(proc)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 1) continue;
    int fd = ::open(("/proc/" + std::string(e->d_name) + "/cmdline").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    std::string cmdline;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) cmdline.append(buf, static_cast<size_t>(n));
    ::close(fd);
    // Compare whole arguments: "umid=c-n1" must not match "umid=c-n10".
    for (size_t pos = 0; pos < cmdline.size(); pos = cmdline.find('\0', pos) + 1) {
      if (cmdline.compare(pos, needle.size(), needle) == 0) {
        found.push_back(pid);
        break;
      }
      if (cmdline.find('\0', pos) == std::string::npos) break;
    }
  }
  ::closedir(proc);
  return found;
}

}  // namespace ssiuml
