// CPU and memory of the nodes, read from /proc in one pass, for ssi-status
// and the dashboard.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>

namespace ssiuml {

struct GroupUsage {
  uint64_t cpu_ticks = 0;  // utime + stime of every process in the group
  uint64_t rss_kib = 0;    // resident memory of the group leader (the guest's RAM)
};

std::map<pid_t, GroupUsage> SampleProcessGroups(const std::set<pid_t>& pgids);

// Turns successive samples into CPU percentages (of one core).
class CpuMeter {
 public:
  // Returns the CPU use of pgid since the previous Update, or -1 when there
  // is no earlier sample to compare with.
  double Update(pid_t pgid, uint64_t cpu_ticks, uint64_t now_ms);

 private:
  struct Sample {
    uint64_t ticks;
    uint64_t ms;
  };
  std::map<pid_t, Sample> last_;
};

}  // namespace ssiuml
