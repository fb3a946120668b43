#include "launcher/node_stats.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace ssiuml {

std::map<pid_t, GroupUsage> SampleProcessGroups(const std::set<pid_t>& pgids) {
  std::map<pid_t, GroupUsage> usage;
  if (pgids.empty()) return usage;
  static const long page_kib = ::sysconf(_SC_PAGESIZE) / 1024;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return usage;
  while (struct dirent* e = ::readdir(proc)) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    int fd = ::open(("/proc/" + std::string(e->d_name) + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char buf[1024];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    // The command name may hold spaces and parentheses; fields follow the last ')'.
    const char* rest = std::strrchr(buf, ')');
    if (rest == nullptr) continue;
    char state;
    long ppid, pgrp, session, tty, tpgid;
    unsigned long flags, minflt, cminflt, majflt, cmajflt, utime, stime;
    long cutime, cstime, priority, nice, threads, itreal;
    unsigned long long start;
    unsigned long vsize;
    long rss;
    int fields = std::sscanf(rest + 2,
                             "%c %ld %ld %ld %ld %ld %lu %lu %lu %lu %lu %lu %lu %ld %ld %ld %ld "
                             "%ld %ld %llu %lu %ld",
                             &state, &ppid, &pgrp, &session, &tty, &tpgid, &flags, &minflt,
                             &cminflt, &majflt, &cmajflt, &utime, &stime, &cutime, &cstime,
                             &priority, &nice, &threads, &itreal, &start, &vsize, &rss);
    if (fields != 22 || pgids.count(static_cast<pid_t>(pgrp)) == 0) continue;
    GroupUsage& u = usage[static_cast<pid_t>(pgrp)];
    u.cpu_ticks += utime + stime;
    if (pid == pgrp) u.rss_kib = static_cast<uint64_t>(rss) * static_cast<uint64_t>(page_kib);
  }
  ::closedir(proc);
  return usage;
}

double CpuMeter::Update(pid_t pgid, uint64_t cpu_ticks, uint64_t now_ms) {
  static const double ticks_per_s = static_cast<double>(::sysconf(_SC_CLK_TCK));
  auto it = last_.find(pgid);
  double pct = -1;
  if (it != last_.end() && now_ms > it->second.ms && cpu_ticks >= it->second.ticks)
    pct = 100.0 * static_cast<double>(cpu_ticks - it->second.ticks) / ticks_per_s /
          (static_cast<double>(now_ms - it->second.ms) / 1000.0);
  last_[pgid] = {cpu_ticks, now_ms};
  return pct;
}

}  // namespace ssiuml
